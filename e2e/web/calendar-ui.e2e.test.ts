/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRequestBody } from '@wacrm/api-client';
import { ok, systemApi } from '../system-api.js';
import { axeViolations, isSerious, screenshot } from './browser.js';
import { signInWithToken, startWebSystem, thisWeek, type WebSystem } from './web-system.js';

// Issue 19: the bookings calendar of the web client against the whole system as `npm start`
// runs it. Performers and bookings are made through the HTTP API; the browser shows them.
let system: WebSystem;
let accountId: string;
const CLIENT = '+40722333999';

beforeAll(async () => {
  system = await startWebSystem('calendar');
}, 240_000);

afterAll(async () => {
  await system?.close();
});

describe('the bookings calendar (issue 19)', () => {
  it('when bookings of two performers exist this week, then the week shows them coloured by status in Bucharest time, filters by performer, and a click opens the booking', async () => {
    const { api, page } = system;
    accountId = ok(
      await api.POST('/api/whatsapp/add-account', { body: { name: 'WA-CAL' } }),
    ).accountId;
    const performer = async (name: string, characters: string[]) => {
      const made = await api.POST('/api/crm/performers', {
        body: { accountId, name, characters },
      });
      expect(made.response.status).toBe(201);
      return ok(made).id;
    };
    const ana = await performer('Ana', ['Elsa']);
    const dan = await performer('Dan', ['Spiderman']);
    const book = (
      day: number,
      at: string,
      characters: string[],
      who: string,
      status: ApiRequestBody<'createEvent'>['status'],
    ) =>
      api.POST('/api/crm/events', {
        body: {
          accountId,
          phoneE164: CLIENT,
          date: thisWeek(day),
          characters,
          amount: 500,
          start: `${thisWeek(day)}T${at}`,
          end: `${thisWeek(day)}T${at.slice(0, 2) === '10' ? '12' : '18'}:00`,
          performerIds: [who],
          status,
        },
      });
    const first = await book(1, '10:00', ['Elsa'], ana, 'confirmed');
    const second = await book(2, '16:00', ['Spiderman'], dan, 'awaiting_deposit');
    const third = await book(3, '10:00', ['Elsa'], ana, 'quoted');
    expect([first, second, third].map((r) => r.response.status)).toEqual([201, 201, 201]);
    const elsa = ok(first);
    // Ana is already booked Tuesday 10:00–12:00: the API refuses a second booking then.
    const clash = await book(1, '10:00', ['Elsa'], ana, 'lead');
    expect(clash.response.status).toBe(409);
    expect(clash.error?.conflicts).toEqual([expect.objectContaining({ eventId: elsa.id })]);

    await signInWithToken(system);
    await page.getByRole('link', { name: 'Calendar' }).click();
    await page.getByRole('heading', { name: 'Calendar rezervări' }).waitFor();

    const bookings = page.locator('[data-testid="calendar-grid"] a.booking');
    await expect.poll(() => bookings.count(), { timeout: 15_000 }).toBe(3);
    // Bucharest wall time, Romanian status names, one colour class per status.
    const tuesday = page.locator(`li[data-date="${thisWeek(1)}"] a.booking`);
    expect(await tuesday.getAttribute('class')).toContain('status-confirmed');
    expect(await tuesday.textContent()).toBe('10:00 Elsa, Confirmat · Ana');
    const wednesday = page.locator(`li[data-date="${thisWeek(2)}"] a.booking`);
    expect(await wednesday.getAttribute('class')).toContain('status-awaiting_deposit');
    await screenshot(page, 'calendar-week', 'desktop');
    const serious = (await axeViolations(page)).filter(isSerious);
    expect(serious, JSON.stringify(serious, null, 2)).toEqual([]);

    await page.getByLabel('Animator').selectOption({ label: 'Dan' });
    await expect.poll(() => bookings.count()).toBe(1);
    await page.getByLabel('Animator').selectOption({ label: 'Toți' });
    await page.getByLabel('Personaj').selectOption({ label: 'Elsa' });
    await expect.poll(() => bookings.count()).toBe(2);
    await page.getByLabel('Personaj').selectOption({ label: 'Toți' });

    await page.getByRole('button', { name: 'Lună' }).click();
    await expect.poll(() => page.locator('li.calendar-day').count()).toBeGreaterThanOrEqual(28);
    await expect.poll(() => bookings.count()).toBe(3);
    await screenshot(page, 'calendar-month', 'desktop');
    await page.getByRole('button', { name: 'Săptămână' }).click();

    await tuesday.click();
    await page.waitForURL(`**/clients/${encodeURIComponent(CLIENT)}#event-${elsa.id}`);
    const opened = page.locator(`li#event-${elsa.id}`);
    await opened.waitFor();
    expect(await opened.getAttribute('class')).toContain('selected');
    expect(system.pageErrors).toEqual([]);
  }, 180_000);

  it("when an operator makes a performer's calendar link, then a phone calendar reads the performer's bookings from it until it is revoked", async () => {
    const { page } = system;
    await page.getByRole('link', { name: 'Calendar' }).click();
    await page.getByRole('heading', { name: 'Calendar rezervări' }).waitFor();
    await page.getByLabel('Animator').selectOption({ label: 'Ana' });
    await page.getByRole('button', { name: 'Link calendar (ICS)' }).click();
    const field = page.getByLabel('Link secret pentru calendarul din telefon');
    await field.waitFor();
    const url = await field.inputValue();
    expect(url).toMatch(/\/calendar\.ics\?token=/);
    await screenshot(page, 'calendar-performer-feed', 'desktop');

    // What a phone calendar does: a GET of the URL, no login (a client without credentials).
    const link = new URL(url);
    expect(link.origin).toBe(system.base);
    const feedPath = /^\/api\/crm\/performers\/([^/]+)\/calendar\.ics$/.exec(link.pathname);
    expect(feedPath).not.toBeNull();
    const phone = await systemApi(system.base);
    const readFeed = () =>
      phone.GET('/api/crm/performers/{performerId}/calendar.ics', {
        params: {
          path: { performerId: decodeURIComponent(feedPath![1]!) },
          query: { token: link.searchParams.get('token')! },
        },
        parseAs: 'text',
      });
    const feed = await readFeed();
    expect(feed.response.status).toBe(200);
    expect(feed.response.headers.get('content-type')).toContain('text/calendar');
    const ics = ok(feed);
    // Ana's two bookings this week (Elsa, Tuesday and Thursday); Dan's is not hers.
    expect(ics.split('BEGIN:VEVENT').length - 1).toBe(2);
    expect(ics).not.toContain('Spiderman');

    await page.getByRole('button', { name: 'Revocă linkul' }).click();
    await page.getByText('Linkul a fost revocat.').waitFor();
    expect((await readFeed()).response.status).toBe(404);
    expect(system.pageErrors).toEqual([]);
  }, 120_000);
});
