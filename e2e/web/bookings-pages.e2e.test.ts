/// <reference lib="dom" />
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRequestBody } from '@wacrm/api-client';
import { contactWrites, ok, scanQr, type SystemApi } from '../system-api.js';
import { axeViolations, isSerious, screenshot } from './browser.js';
import { signInWithToken, startWebSystem, thisWeek, type WebSystem } from './web-system.js';

/**
 * The parts appear in this order in a cell's text (any white space, NBSP included, as one space);
 * a linear check where a regular expression with several [\s\S]* would not be.
 */
function inOrder(...parts: string[]): (text: string) => boolean {
  return (text) => {
    const flat = text.replace(/\s/g, ' ');
    let at = 0;
    for (const part of parts) {
      const found = flat.indexOf(part, at);
      if (found < 0) return false;
      at = found + part.length;
    }
    return true;
  };
}

// Issue 19 items 4, 7 and 8 in the web client against the whole system as `npm start` runs it:
// the payments page, a double-booked performer refused in the CRM draft, the monthly report and
// the clients list. Bookings are made through the HTTP API; the browser shows them.
let system: WebSystem;
let api: SystemApi;
let page: Page;
let pageErrors: string[];
let accountId: string;
let ana: string;
let elsa: { id: string; eventShortId: string };
const CLIENT = '+40722333501';
const OTHER = '+40722333502';

async function noSeriousAxe(p: Page, name: string): Promise<void> {
  const serious = (await axeViolations(p)).filter(isSerious);
  expect(serious, `${name}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
}

beforeAll(async () => {
  system = await startWebSystem('bookings');
  ({ api, page, pageErrors } = system);
  accountId = ok(
    await api.POST('/api/whatsapp/add-account', { body: { name: 'WA-PAY' } }),
  ).accountId;
  const performer = await api.POST('/api/crm/performers', {
    body: { accountId, name: 'Ana', characters: ['Elsa'] },
  });
  expect(performer.response.status).toBe(201);
  ana = ok(performer).id;
}, 240_000);

afterAll(async () => {
  await system?.close();
});

describe('bookings pages of the web client (issue 19)', () => {
  it('when a deposit is overdue and balances fall due this week, then the payments page lists them, flags the overdue one, and records a payment', async () => {
    const book = async (
      phoneE164: string,
      day: number,
      extra: Partial<ApiRequestBody<'createEvent'>>,
    ) => {
      const booked = await api.POST('/api/crm/events', {
        body: {
          accountId,
          phoneE164,
          date: thisWeek(day),
          characters: ['Elsa'],
          status: 'confirmed',
          // Nothing paid yet (paid defaults to the deposit asked).
          paid: 0,
          ...extra,
        },
      });
      expect(booked.response.status, JSON.stringify(booked.error)).toBe(201);
      return ok(booked);
    };
    elsa = await book(CLIENT, 0, {
      amount: 500,
      advance: 150,
      start: `${thisWeek(0)}T10:00`,
      end: `${thisWeek(0)}T12:00`,
      performerIds: [ana],
      depositDueDate: thisWeek(-3),
      balanceDueDate: thisWeek(6),
    });
    const other = await book(OTHER, 2, { amount: 300, balanceDueDate: thisWeek(4) });

    await signInWithToken(system);
    await page.getByRole('navigation').getByRole('link', { name: 'Plăți' }).click();
    await page.getByRole('heading', { name: 'Avansuri și solduri scadente' }).waitFor();

    const rows = page.getByTestId('due');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(3);
    const row = (eventId: string, kind: string) =>
      page.locator(`tr[data-event-id="${eventId}"][data-kind="${kind}"]`);
    const deposit = row(elsa.id, 'deposit');
    expect(await deposit.getAttribute('class')).toContain('overdue');
    expect(await deposit.innerText()).toSatisfy(inOrder('Întârziat', '150,00 RON'));
    expect(await row(elsa.id, 'balance').innerText()).toSatisfy(inOrder('La termen', '500,00 RON'));
    expect(await row(other.id, 'balance').innerText()).toMatch(/300,00\sRON/);
    // Ordered by due date: the overdue deposit first.
    expect(await rows.first().getAttribute('data-kind')).toBe('deposit');
    await screenshot(page, 'payments-week', 'desktop');
    await noSeriousAxe(page, 'payments');

    await deposit.getByRole('button', { name: /Înregistrează plata/ }).click();
    const form = page.getByRole('form', {
      name: `Înregistrează plata pentru ${elsa.eventShortId}`,
    });
    expect(await form.getByLabel('Suma (RON)').inputValue()).toBe('150');
    await form.getByLabel('Metoda').selectOption({ label: 'Numerar' });
    await form.getByLabel('Notă').fill('avans Elsa');
    await noSeriousAxe(page, 'payments-form');
    await form.getByRole('button', { name: 'Înregistrează plata' }).click();
    await page.getByTestId('payment-notice').waitFor();
    // The deposit is paid: its row goes; the balance still due drops by what was paid.
    await expect.poll(() => rows.count()).toBe(2);
    await expect.poll(() => row(elsa.id, 'balance').innerText()).toMatch(/350,00\sRON/);
    const events = ok(
      await api.GET('/api/crm/clients/{phoneE164}/events', {
        params: { path: { phoneE164: CLIENT } },
      }),
    );
    expect(events.items.find((e) => e.id === elsa.id)?.payments).toEqual([
      expect.objectContaining({ amount: 150, method: 'cash', note: 'avans Elsa' }),
    ]);
    expect(pageErrors).toEqual([]);
  }, 180_000);

  it('when the CRM draft books a performer already booked then, then saving shows the conflicting booking', async () => {
    await scanQr(api, accountId);
    await contactWrites(api, accountId, {
      from: CLIENT,
      name: 'Ioana',
      text: 'Bună, vreau Elsa luni la 11',
    });
    const threads = async () =>
      ok(await api.GET('/api/threads', { params: { query: { accountId } } })).items;
    await expect.poll(async () => (await threads()).length, { timeout: 30_000 }).toBe(1);
    const [thread] = await threads();
    await page.goto(`/chat/${encodeURIComponent(thread!.id)}`);
    await page.getByRole('button', { name: 'Extrage eveniment' }).click();
    const draft = page.getByRole('form', { name: 'Ciornă eveniment' });
    await draft.waitFor({ timeout: 30_000 });
    await draft.getByLabel('Data', { exact: true }).fill(thisWeek(0));
    await draft.getByLabel('Ora', { exact: true }).fill('11:00');
    await draft.getByLabel('Ora de sfârșit', { exact: true }).fill('13:00');
    // The label wraps the select, so its text includes the options: found by name.
    await draft.locator('select[name="performerId"]').selectOption({ label: 'Ana' });
    await page.getByRole('button', { name: 'Salvează evenimentul' }).click();
    const conflicts = page.getByTestId('conflicts');
    await conflicts.waitFor({ timeout: 15_000 });
    const item = conflicts.locator(`li[data-event-id="${elsa.id}"]`);
    expect(await item.innerText()).toMatch(
      new RegExp(`^Ana: .*10:00 – .*12:00, rezervarea ${elsa.id}$`),
    );
    await conflicts.scrollIntoViewIfNeeded();
    await screenshot(page, 'booking-conflict', 'desktop');
    await noSeriousAxe(page, 'conflict');
    expect(await page.getByTestId('saved-event').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('when a month has bookings, then the report shows booked, collected and outstanding in total, as a chart by character and by performer', async () => {
    const at = new Date(Date.now() + 40 * 86_400_000);
    const month = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Bucharest' })
      .format(at)
      .slice(0, 7);
    const dan = ok(
      await api.POST('/api/crm/performers', {
        body: { accountId, name: 'Dan', characters: ['Spiderman'] },
      }),
    );
    const book = async (day: string, characters: string[], who: string[], amount: number) => {
      const booked = await api.POST('/api/crm/events', {
        body: {
          accountId,
          phoneE164: '+40722333503',
          date: `${month}-${day}`,
          start: `${month}-${day}T10:00`,
          end: `${month}-${day}T12:00`,
          characters,
          performerIds: who,
          amount,
          paid: 0,
        },
      });
      expect(booked.response.status, JSON.stringify(booked.error)).toBe(201);
      return ok(booked).id;
    };
    const first = await book('10', ['Elsa'], [ana], 800);
    await book('11', ['Spiderman'], [dan.id], 600);
    await book('12', ['Elsa', 'Spiderman'], [ana, dan.id], 1000);
    const paid = await api.POST('/api/crm/events/{eventId}/payments', {
      params: { path: { eventId: first } },
      headers: { 'idempotency-key': `pay-${first}` },
      body: { amount: 300, date: `${month}-01`, method: 'card' },
    });
    expect(paid.response.status).toBe(200);

    await page.goto('/');
    await page.getByRole('navigation').getByRole('link', { name: 'Raport' }).click();
    await page.getByRole('heading', { name: 'Raport lunar' }).waitFor();
    await page.getByLabel('Luna', { exact: true }).fill(month);
    const total = (s: string) => page.getByTestId(`total-${s}`).locator('dd');
    await expect
      .poll(() => total('booked').innerText(), { timeout: 15_000 })
      .toMatch(/^2\.?400,00\sRON$/);
    expect(await total('collected').innerText()).toMatch(/^300,00\sRON$/);
    expect(await total('outstanding').innerText()).toMatch(/^2\.?100,00\sRON$/);
    // Elsa: 800 + half of 1000; Spiderman: 600 + half of 1000.
    const chart = page.getByTestId('report-chart');
    const value = (key: string, series: string) =>
      chart
        .locator(`g[data-key="${key}"] rect[data-series="${series}"]`)
        .getAttribute('data-value');
    expect(await value('elsa', 'booked')).toBe('1300');
    expect(await value('spiderman', 'booked')).toBe('1100');
    expect(await value('elsa', 'collected')).toBe('300');
    expect(await chart.getAttribute('aria-label')).toMatch(/Elsa: Rezervat 1\.?300,00/);
    const byPerformer = page.getByTestId('by-performer');
    expect(await byPerformer.locator(`tr[data-key="${dan.id}"]`).innerText()).toMatch(
      /Dan\s+2\s+1\.?100,00\sRON\s+0,00\sRON\s+1\.?100,00\sRON/,
    );
    await screenshot(page, 'report-month', 'desktop');
    await noSeriousAxe(page, 'report');

    // The CSV export downloads what the API answers.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Rezervări (CSV)' }).click();
    const file = await (await download).path();
    const text = await readFile(file, 'utf8');
    expect(text.split('\r\n')[0]).toBe(
      '\uFEFFbooking,eventId,date,start,end,status,phone,child,characters,performers,address,price,deposit,paid,outstanding,depositDue,balanceDue,archived',
    );
    expect(text.split('\r\n').filter((l) => l !== '')).toHaveLength(4);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('when clients are listed, then search ignores diacritics, a row opens the profile with the name and its conversation', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Clienți' }).click();
    await page.getByRole('heading', { name: 'Clienți', level: 1 }).waitFor();
    const rows = page.getByTestId('client-row');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(3);
    const row = page.locator(`tr[data-phone="${CLIENT}"]`);
    // Elsa's booking (500, 150 paid) and nothing else for this client.
    expect(await row.innerText()).toSatisfy(inOrder('Ioana', '1', '150,00 RON', '350,00 RON'));
    await page.getByLabel('Sortează după').selectOption({ label: 'De plătit' });
    await page.getByRole('button', { name: /Sortează după/ }).click();
    await expect.poll(async () => rows.first().getAttribute('data-phone')).toBe('+40722333503');
    await screenshot(page, 'clients-list', 'desktop');
    await noSeriousAxe(page, 'clients');
    await page.getByLabel('Caută după nume sau telefon').fill('IOÁNA');
    await expect.poll(() => rows.count()).toBe(1);
    await row.getByRole('link', { name: 'Ioana' }).click();
    await page.getByRole('heading', { name: 'Client Ioana' }).waitFor();
    await expect
      .poll(() => page.getByTestId('kpi-outstanding').locator('dd').innerText())
      .toMatch(/^350,00\sRON$/);
    await page
      .getByTestId('client-threads')
      .getByRole('link', { name: /Conversația din WA-PAY/ })
      .click();
    await page.waitForURL('**/chat/**');
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
