/// <reference lib="dom" />
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactWrites, ok, scanQr, type SystemApi } from '../system-api.js';
import {
  axeViolations,
  isSerious,
  screenshot,
  VIEWPORTS,
  watchPageErrors,
  writeAxeReport,
  type AxeViolation,
  type ViewportName,
} from './browser.js';
import { startWebSystem, type WebSystem } from './web-system.js';

// The seeds' acceptance tests 1-6 through the web client, against the whole system as
// `npm start` runs it with the simulated WhatsApp network. The test talks to the simulator's
// control API only to act as the phones (scan the QR, write as the client).
let system: WebSystem;
let api: SystemApi;
let base: string;
let token: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let pageErrors: string[];

const CLIENT = '+40722333444';
const screens: Array<{ name: string; path: string }> = [];
const axeReport: Record<string, AxeViolation[]> = {};
let accountId: string;
let threadId: string;

beforeAll(async () => {
  system = await startWebSystem('web');
  ({ api, base, token, browser, page, pageErrors } = system);
  context = page.context();
}, 240_000);

afterAll(async () => {
  await writeAxeReport(axeReport);
  await system?.close();
});

/** Screenshot at this page's viewport, then axe-core: no serious or critical violation. */
async function checkScreen(p: Page, name: string, viewport: ViewportName): Promise<void> {
  await screenshot(p, name, viewport);
  const violations = await axeViolations(p);
  axeReport[`${name}-${VIEWPORTS[viewport].width}x${VIEWPORTS[viewport].height}`] = violations;
  const serious = violations.filter(isSerious);
  expect(serious, `${name} @ ${viewport}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
  // Never a delete action for threads, messages, clients or events.
  const deletes = await p
    .getByRole('button', { name: /șterge|sterge|delete|remove/i })
    .or(p.getByRole('link', { name: /șterge|sterge|delete|remove/i }))
    .count();
  expect(deletes, `${name}: a delete control`).toBe(0);
}

describe('the web client, acceptance tests 1-6', () => {
  it('signs in with the bootstrap admin token (Romanian by default)', async () => {
    await page.goto('/');
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('ro');
    await page.getByRole('heading', { name: 'Autentificare' }).waitFor();
    await checkScreen(page, 'sign-in', 'desktop');
    screens.push({ name: 'sign-in', path: '/' });

    await page.getByLabel('Token', { exact: true }).fill('not-the-token-0123456789abcdef');
    await page.getByRole('button', { name: 'Intră cu tokenul' }).click();
    await page.getByRole('alert').filter({ hasText: 'Date de autentificare greșite' }).waitFor();

    await page.getByLabel('Token', { exact: true }).fill(token);
    await page.getByRole('button', { name: 'Intră cu tokenul' }).click();
    await page.getByRole('heading', { name: 'Conturi WhatsApp' }).waitFor();
  });

  it('test 1: adds WA-01, shows its QR, and turns connected once the phone scans it', async () => {
    await page.getByLabel('Nume cont', { exact: true }).fill('WA-01');
    await page.getByRole('button', { name: 'Adaugă cont' }).click();
    const card = page.locator('li.card', { has: page.getByRole('heading', { name: 'WA-01' }) });
    const qr = card.getByRole('img', { name: 'Cod QR pentru WA-01' });
    await qr.waitFor({ timeout: 30_000 });
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    accountId = (await card.getAttribute('data-account-id'))!;
    expect(accountId).toBeTruthy();
    await expect.poll(() => card.getByTestId('account-status').innerText()).toMatch(/QR/);
    await checkScreen(page, 'accounts-qr', 'desktop');

    // The phone scans the QR; the card follows live, and the QR goes away.
    await scanQr(api, accountId);
    await card
      .getByTestId('account-status')
      .filter({ hasText: 'Conectat' })
      .waitFor({ timeout: 30_000 });
    await qr.waitFor({ state: 'detached' });
    await checkScreen(page, 'accounts', 'desktop');
    screens.push({ name: 'accounts', path: '/accounts' });
  });

  it('test 2: the inbox shows the client’s message live, with its unread count, and finds it by name or phone', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Conversații' }).click();
    await page.getByRole('heading', { name: 'Conversații', level: 1 }).waitFor();
    await expect.poll(() => page.getByLabel('Cont', { exact: true }).inputValue()).toBe(accountId);
    await page.getByText('Nicio conversație.').waitFor();

    await contactWrites(api, accountId, {
      from: CLIENT,
      name: 'Ana',
      text: 'Bună, vreau Elsa pe 24 ianuarie la 12',
    });
    const list = page.getByRole('list', { name: 'Lista conversațiilor' });
    const item = list.getByRole('link', { name: /Ana/ });
    await item.waitFor({ timeout: 30_000 });
    await expect.poll(() => item.innerText()).toContain('Bună, vreau Elsa pe 24 ianuarie la 12');
    await expect.poll(() => item.getByTestId('unread').innerText()).toContain('1 necitite');
    threadId = (await list.locator('li').first().getAttribute('data-thread-id'))!;

    // The server searches: threads by name or phone as typed, messages by their words.
    const search = page.getByLabel('Caută în conversații și mesaje');
    const foundThread = page
      .getByRole('list', { name: 'Conversații găsite' })
      .getByRole('link', { name: /Ana/ });
    for (const [query, found] of [
      ['ana', true],
      ['722 333', true],
      ['Maria', false],
    ] as const) {
      await search.fill(query);
      if (found) await foundThread.waitFor({ timeout: 10_000 });
      else await page.getByText('Nimic nu se potrivește căutării.').waitFor({ timeout: 10_000 });
    }
    await search.fill('');
    await item.waitFor();
    await checkScreen(page, 'inbox', 'desktop');
    screens.push({ name: 'inbox', path: `/inbox/${encodeURIComponent(accountId)}` });
  });

  it('test 3: the operator sends from the chat and the ticks advance to read', async () => {
    // A second tab keeps the inbox open: opening the chat clears its unread badge live.
    const inboxTab = await context.newPage();
    const inboxErrors = watchPageErrors(inboxTab);
    // The admin token lives per tab (sessionStorage): this tab signs in for itself.
    await inboxTab.goto('/');
    await inboxTab.getByLabel('Token', { exact: true }).fill(token);
    await inboxTab.getByRole('button', { name: 'Intră cu tokenul' }).click();
    await inboxTab.getByRole('heading', { name: 'Conturi WhatsApp' }).waitFor();
    await inboxTab.goto(`/inbox/${encodeURIComponent(accountId)}`);
    const badge = inboxTab
      .getByRole('list', { name: 'Lista conversațiilor' })
      .locator(`li[data-thread-id="${threadId}"]`)
      .getByTestId('unread');
    await expect.poll(() => badge.innerText()).toContain('1 necitite');

    await page
      .getByRole('list', { name: 'Lista conversațiilor' })
      .getByRole('link', { name: /Ana/ })
      .click();
    await page.getByRole('heading', { name: 'Conversație cu Ana' }).waitFor();
    const messages = page.getByRole('list', { name: 'Mesaje' });
    await messages.getByText('Bună, vreau Elsa pe 24 ianuarie la 12').waitFor();
    await expect.poll(() => badge.count(), { timeout: 30_000 }).toBe(0);

    // Records every status an outbound bubble shows, to check the ticks only move forward.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seenStatuses: string[] }).seenStatuses = seen;
      const record = () => {
        const el = document.querySelector('li.bubble.outbound');
        const status = el?.getAttribute('data-status');
        if (status != null && seen[seen.length - 1] !== status) seen.push(status);
      };
      new MutationObserver(record).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['data-status'],
      });
    });
    await page.getByLabel('Mesaj', { exact: true }).fill('Bună! Da, Elsa e liberă.');
    await page.getByRole('button', { name: 'Trimite' }).click();
    const sent = messages.locator('li.bubble.outbound', { hasText: 'Bună! Da, Elsa e liberă.' });
    await sent.waitFor();
    await sent.getByRole('img', { name: 'Citit' }).waitFor({ timeout: 30_000 });
    const seen = await page.evaluate(
      () => (window as unknown as { seenStatuses: string[] }).seenStatuses,
    );
    const order = ['queued', 'sending', 'sent', 'delivered', 'read'];
    expect(seen.at(-1)).toBe('read');
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.map((s) => order.indexOf(s))).toEqual(
      [...seen.map((s) => order.indexOf(s))].sort((a, b) => a - b),
    );
    expect(await messages.locator('li.bubble.outbound').count()).toBe(1);

    // The client answers while the chat is open: it appears without a reload.
    await contactWrites(api, accountId, {
      from: CLIENT,
      text: 'Adresa: str. Zborului 4, Otopeni. Alina face 5 ani, 15 copii. 650 lei, avans 150',
    });
    await messages.getByText('Adresa: str. Zborului 4, Otopeni.', { exact: false }).waitFor({
      timeout: 30_000,
    });
    // Shown in the open chat, so it is read too: the thread and the other tab show no unread.
    await expect
      .poll(
        async () =>
          ok(await api.GET('/api/threads/{threadId}', { params: { path: { threadId } } }))
            .unreadCount,
        { timeout: 30_000 },
      )
      .toBe(0);
    await expect.poll(() => badge.count()).toBe(0);
    expect(inboxErrors).toEqual([]);
    await inboxTab.close();
    const texts = await messages.locator('li.bubble p.text').allInnerTexts();
    expect(texts).toEqual([
      'Bună, vreau Elsa pe 24 ianuarie la 12',
      'Bună! Da, Elsa e liberă.',
      'Adresa: str. Zborului 4, Otopeni. Alina face 5 ani, 15 copii. 650 lei, avans 150',
    ]);
    await checkScreen(page, 'chat', 'desktop');
    screens.push({ name: 'chat', path: `/chat/${encodeURIComponent(threadId)}` });
  });

  it('replies to the client’s message: the composer quotes it, the sent bubble shows the quote, the stored message points at it', async () => {
    const messages = page.getByRole('list', { name: 'Mesaje' });
    const address = messages.locator('li.bubble.inbound', {
      hasText: 'Adresa: str. Zborului 4, Otopeni.',
    });
    const quotedId = await address.getAttribute('data-message-id');
    expect(quotedId).toBeTruthy();
    // By keyboard: the reply button takes Enter and hands the focus to the composer.
    await address.getByRole('button', { name: /^Răspunde la: Adresa: str\. Zborului 4/ }).focus();
    await page.keyboard.press('Enter');
    const preview = page.getByTestId('reply-preview');
    await preview.waitFor();
    expect(await preview.locator('blockquote').innerText()).toContain(
      'Răspuns la: Adresa: str. Zborului 4, Otopeni.',
    );
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('compose');
    await checkScreen(page, 'chat-reply', 'desktop');
    // Escape drops the quote; the cancel button does too.
    await page.keyboard.press('Escape');
    await preview.waitFor({ state: 'detached' });
    await address.getByRole('button', { name: /^Răspunde/ }).click();
    await preview.getByRole('button', { name: 'Anulează răspunsul' }).click();
    await preview.waitFor({ state: 'detached' });

    await address.getByRole('button', { name: /^Răspunde/ }).click();
    await page.getByLabel('Mesaj', { exact: true }).fill('Perfect, am notat adresa.');
    await page.keyboard.press('Enter');
    const reply = messages.locator('li.bubble.outbound', { hasText: 'Perfect, am notat adresa.' });
    await reply.waitFor();
    await preview.waitFor({ state: 'detached' });
    // Once WhatsApp has it, the bubble is the stored message: it still quotes the client.
    await reply.getByRole('img', { name: /Trimis|Livrat|Citit/ }).waitFor({ timeout: 30_000 });
    expect(await reply.locator('blockquote.quote').innerText()).toContain(
      'Răspuns la: Adresa: str. Zborului 4, Otopeni.',
    );
    const page1 = ok(
      await api.GET('/api/threads/{threadId}/messages', {
        params: { path: { threadId }, query: { limit: 10 } },
      }),
    );
    expect(page1.items.find((m) => m.body === 'Perfect, am notat adresa.')).toMatchObject({
      direction: 'outbound',
      quotedMessageId: quotedId,
    });
  });

  it('test 4: Extract event gives an editable draft with confidence and reasons', async () => {
    // Issue 19: a performer who plays Elsa, so the draft can say whether Elsa is free then.
    const performer = await api.POST('/api/crm/performers', {
      body: { accountId, name: 'Ana', characters: ['Elsa'] },
    });
    expect(performer.response.status).toBe(201);
    await page.getByRole('button', { name: 'Extrage eveniment' }).click();
    const draft = page.getByRole('form', { name: 'Ciornă eveniment' });
    await draft.waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId('confidence').innerText()).toMatch(/Încredere: \d+%/);
    const value = (label: string) => draft.getByLabel(label, { exact: true }).inputValue();
    expect(await value('Ora')).toBe('12:00');
    expect(await value('Personaje (separate prin virgulă)')).toBe('Elsa');
    expect(await value('Suma totală (RON)')).toBe('650');
    expect(await value('Avans (RON)')).toBe('150');
    expect(await value('Numele copilului')).toBe('Alina');
    expect(await value('Vârsta copilului')).toBe('5');
    expect(await value('Invitați')).toBe('15');
    // A draft writes nothing: the client has no events yet.
    const events = await api.GET('/api/crm/clients/{phoneE164}/events', {
      params: { path: { phoneE164: CLIENT } },
    });
    expect(ok(events).items).toHaveLength(0);
    await draft.getByLabel('Data', { exact: true }).fill('2027-01-24');
    await expect
      .poll(() => page.getByTestId('availability').innerText())
      .toBe('Elsa: liber la ora cerută (Ana)');
    await checkScreen(page, 'crm-panel', 'desktop');
  });

  it('test 5: saving twice makes two events; the profile shows 2 events and the exact total', async () => {
    const save = page.getByRole('button', { name: 'Salvează evenimentul' });
    const saved = page.getByTestId('saved-event');
    await save.click();
    await saved.first().waitFor();
    await save.click();
    await expect.poll(() => saved.count()).toBe(2);
    const ids = await saved.allInnerTexts();
    expect(new Set(ids).size).toBe(2);

    await page.getByRole('complementary').getByRole('link', { name: 'Profil client' }).click();
    await page.getByRole('heading', { name: /^Client (Ana|\+40722333444)$/ }).waitFor();
    await expect
      .poll(() => page.getByTestId('kpi-events').locator('dd').innerText(), { timeout: 30_000 })
      .toBe('2');
    // 2 × the 150 RON advance paid.
    expect(await page.getByTestId('kpi-total').locator('dd').innerText()).toMatch(/^300,00\sRON$/);
    expect(await page.getByTestId('kpi-last').locator('dd').innerText()).toMatch(/2027/);
    await expect.poll(() => page.getByTestId('event').count()).toBe(2);
  });

  it('test 6: Ask AI answers how much the client spent, with the exact sum and its sources', async () => {
    await page.getByLabel('Întrebare').fill('Cât a cheltuit clientul?');
    await page.getByRole('button', { name: 'Întreabă' }).click();
    const answer = page.getByTestId('answer');
    await answer.waitFor({ timeout: 30_000 });
    expect(await answer.locator('p').first().innerText()).toMatch(/300/);
    expect(await answer.getByTestId('sources').locator('li').count()).toBe(2);
    await checkScreen(page, 'client-profile', 'desktop');
    screens.push({ name: 'client-profile', path: `/clients/${encodeURIComponent(CLIENT)}` });
  });

  it('shows media previews, keeps threads newest first, and follows a history sync', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Conversații' }).click();
    const list = page.getByRole('list', { name: 'Lista conversațiilor' });
    await list.getByRole('link', { name: /Ana/ }).waitFor();
    await contactWrites(api, accountId, {
      from: '+40733111222',
      name: 'Dan',
      kind: 'image',
      media: { mimetype: 'image/jpeg', caption: 'Tortul pentru Alina', size: 48_213 },
    });
    const dan = list.getByRole('link', { name: /Dan/ });
    await dan.waitFor({ timeout: 30_000 });
    await expect.poll(() => list.locator('li').first().innerText()).toContain('Dan');
    await dan.click();
    // The photo's bubble: the media figure (its thumbnail once stored) and the caption once,
    // as the message's text.
    const bubble = page
      .getByRole('list', { name: 'Mesaje' })
      .locator('li', { has: page.locator('figure.media-image') });
    await bubble.waitFor();
    expect(await bubble.innerText()).toContain('Tortul pentru Alina');

    await page.getByRole('navigation').getByRole('link', { name: 'Conturi' }).click();
    ok(
      await api.POST('/api/dev/simulator/accounts/{accountId}/history', {
        params: { path: { accountId } },
        body: { threads: 3, messagesPerThread: 4 },
      }),
    );
    const card = page.locator('li.card', { has: page.getByRole('heading', { name: 'WA-01' }) });
    await card
      .getByText(/Sincronizare istoric: finalizat · \d+ conversații, \d+ mesaje/)
      .waitFor({ timeout: 30_000 });
  });

  it('switches to English and keeps the choice after a reload', async () => {
    await page.getByLabel('Limba').selectOption('en');
    await page.getByRole('heading', { name: 'WhatsApp accounts' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.reload();
    await page.getByRole('heading', { name: 'WhatsApp accounts' }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
    await page.getByLabel('Language').selectOption('ro');
    await page.getByRole('heading', { name: 'Conversații', level: 1 }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('every screen at 390×844: screenshots, no serious axe violation, no sideways scrolling', async () => {
    const mobile = await browser.newContext({ viewport: VIEWPORTS.mobile, baseURL: base });
    try {
      const p = await mobile.newPage();
      const errors = watchPageErrors(p);
      for (const screen of screens) {
        await p.goto(screen.path);
        if (screen.name === 'sign-in') {
          await p.getByRole('heading', { name: 'Autentificare' }).waitFor();
          await checkScreen(p, 'sign-in', 'mobile');
          await p.getByLabel('Token', { exact: true }).fill(token);
          await p.getByRole('button', { name: 'Intră cu tokenul' }).click();
          await p.getByRole('heading', { name: 'Conturi WhatsApp' }).waitFor();
          continue;
        }
        await p.locator('main h1').first().waitFor();
        await p
          .getByRole('status')
          .filter({ hasText: 'Se încarcă' })
          .waitFor({ state: 'detached' });
        if (screen.name === 'chat') {
          await p.getByRole('list', { name: 'Mesaje' }).locator('li.bubble').nth(2).waitFor();
        }
        if (screen.name === 'client-profile') {
          await expect.poll(() => p.getByTestId('event').count()).toBe(2);
        }
        const overflow = await p.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        expect(overflow, `${screen.name} scrolls sideways`).toBeLessThanOrEqual(0);
        await checkScreen(p, screen.name, 'mobile');
        if (screen.name === 'accounts') {
          // A second number waiting for its scan; "Regenerate QR" brings a fresh code.
          await p.getByLabel('Nume cont', { exact: true }).fill('WA-02');
          await p.getByRole('button', { name: 'Adaugă cont' }).click();
          const qr = p.getByRole('img', { name: 'Cod QR pentru WA-02' });
          await qr.waitFor({ timeout: 30_000 });
          const first = await qr.getAttribute('src');
          await checkScreen(p, 'accounts-qr', 'mobile');
          const card = p.locator('li.card', { has: p.getByRole('heading', { name: 'WA-02' }) });
          await card.getByRole('button', { name: 'Regenerează QR' }).click();
          await expect.poll(() => qr.getAttribute('src'), { timeout: 30_000 }).not.toBe(first);
        }
        if (screen.name === 'chat') {
          const inbound = p.getByRole('list', { name: 'Mesaje' }).locator('li.bubble.inbound');
          await inbound
            .first()
            .getByRole('button', { name: /^Răspunde/ })
            .click();
          await p.getByTestId('reply-preview').waitFor();
          await checkScreen(p, 'chat-reply', 'mobile');
          await p.keyboard.press('Escape');
          await p.getByTestId('reply-preview').waitFor({ state: 'detached' });
          await p.getByRole('button', { name: 'Extrage eveniment' }).click();
          await p.getByRole('form', { name: 'Ciornă eveniment' }).waitFor({ timeout: 30_000 });
          await checkScreen(p, 'crm-panel', 'mobile');
        }
      }
      expect(errors).toEqual([]);
    } finally {
      await mobile.close();
    }
  });
});
