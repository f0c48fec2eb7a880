/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from './browser.js';
import { connectedAccount, ok } from '../system-api.js';
import { signInWithToken, startWebSystem, type WebSystem } from './web-system.js';

// Issue 19 items 5 and 6 in the web client against `npm start`: a scheduled message shown in
// the chat and cancelled there, a quick reply picked with `/` in the composer and rendered with
// the client's booking, and a booking's reminder drafts approved with one click.
let system: WebSystem;
const CLIENT = '+40722333818';

beforeAll(async () => {
  system = await startWebSystem('scheduling');
}, 240_000);

afterAll(async () => {
  await system?.close();
});

describe('scheduled messages, quick replies and reminders (issue 19)', () => {
  it('when a message is scheduled, a quick reply exists and a booking has reminders, then the chat lists and cancels the schedule, / inserts the rendered reply, and a reminder is approved with one click', async () => {
    const { api, page } = system;
    const accountId = await connectedAccount(api, 'WA-PROGRAMARI');
    const made = await api.POST('/api/message-templates', {
      body: {
        accountId,
        name: 'Confirmare petrecere',
        body: 'Bună! {{personaj}} vine la {{nume_copil}} pe {{data}}, ora {{ora}}.',
        shortcut: 'confirmare',
      },
    });
    expect(made.response.status).toBe(201);
    const booked = await api.POST('/api/crm/events', {
      body: {
        accountId,
        phoneE164: CLIENT,
        date: '2027-02-14',
        time: '16:00',
        childName: 'Maria',
        characters: ['Elsa'],
        address: 'Str. Lalelelor 3',
        amount: 500,
        paid: 0,
      },
    });
    expect(booked.response.status).toBe(201);
    const event = ok(booked);
    // The chat exists once a first message went out; then one is scheduled for later.
    const sent = await api.POST('/api/whatsapp/send', {
      body: { accountId, to: CLIENT, text: 'Bună ziua!' },
    });
    expect(sent.response.status).toBe(202);
    const first = ok(sent);
    const sendAt = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await api.POST('/api/whatsapp/send', {
      body: { accountId, to: CLIENT, text: 'Vă reamintim de petrecere.', sendAt },
    });
    expect(scheduled.response.status).toBe(202);

    await signInWithToken(system);
    await page.goto(`/chat/${encodeURIComponent(first.threadId)}`);
    const item = page.locator('[data-testid="scheduled"]');
    await item.waitFor();
    expect(await item.getAttribute('data-status')).toBe('scheduled');
    expect(await item.textContent()).toContain('Vă reamintim de petrecere.');
    await screenshot(page, 'chat-scheduled-message', 'desktop');
    await item.getByRole('button', { name: 'Anulează trimiterea' }).click();
    await expect
      .poll(() => item.getAttribute('data-status'), { timeout: 10_000 })
      .toBe('cancelled');

    const composer = page.getByLabel('Mesaj', { exact: true });
    await composer.fill('/conf');
    const option = page.getByRole('option', { name: /\/confirmare/ });
    await option.waitFor();
    await screenshot(page, 'chat-quick-reply-picker', 'desktop');
    await composer.press('Enter');
    await expect
      .poll(() => composer.inputValue(), { timeout: 10_000 })
      .toBe('Bună! Elsa vine la Maria pe 14.02.2027, ora 16:00.');

    await page.goto(`/clients/${encodeURIComponent(CLIENT)}#event-${event.id}`);
    const reminders = page.locator('[data-testid="reminders"]');
    await reminders.locator('summary').click();
    const dayBefore = reminders.locator('[data-kind="day_before"]');
    await dayBefore.waitFor();
    expect(await dayBefore.getAttribute('data-status')).toBe('draft');
    expect(await dayBefore.textContent()).toContain('Maria');
    await dayBefore.getByRole('button', { name: 'Aprobă' }).click();
    await expect
      .poll(() => dayBefore.getAttribute('data-status'), { timeout: 10_000 })
      .toBe('scheduled');
    await screenshot(page, 'booking-reminders', 'desktop');
  }, 180_000);
});
