/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from './browser.js';
import { eventually } from '../launcher-process.js';
import { connectedAccount, contactWrites, ok } from '../system-api.js';
import { signInWithToken, startWebSystem, type WebSystem } from './web-system.js';

// Issue 20 items 3-6 in the browser against the whole system as `npm start` runs it: internal
// notes in the chat, taking a thread, stage and labels, the mine/unassigned filter.
let system: WebSystem;
let page: Page;
let pageErrors: string[];
/** Set by the first test, used by the live-list test after it. */
let shared: { ioana: string; radu: string } | undefined;

beforeAll(async () => {
  system = await startWebSystem('inbox');
  ({ page, pageErrors } = system);
}, 240_000);

afterAll(async () => {
  await system?.close();
});

describe('the operator inbox (issue 20)', () => {
  it('when an operator leaves a note, takes the thread and tags it, then the chat and the filtered inbox show it', async () => {
    const { api } = system;
    const accountId = await connectedAccount(api, 'WA-INBOX');
    await contactWrites(api, accountId, {
      from: '+40722333111',
      name: 'Ioana',
      text: 'Bună, cât costă Elsa?',
    });
    await contactWrites(api, accountId, {
      from: '+40722333222',
      name: 'Radu',
      text: 'Mai aveți liber?',
    });
    const threads = await eventually('two threads', async () => {
      const { items } = ok(await api.GET('/api/threads', { params: { query: { accountId } } }));
      return items.length === 2 ? items : undefined;
    });
    const ioana = threads.find((t) => t.displayName === 'Ioana')!;
    shared = {
      ioana: ioana.id,
      radu: threads.find((t) => t.displayName === 'Radu')!.id,
    };
    const labelled = await api.PATCH('/api/accounts/{accountId}/inbox-settings', {
      params: { path: { accountId } },
      body: {
        labels: [
          { id: 'vip', name: 'VIP', color: '#c62828' },
          { id: 'firma', name: 'Firmă', color: '#1565c0' },
        ],
      },
    });
    expect(labelled.response.status).toBe(200);

    await signInWithToken(system);
    await page.goto(`/chat/${encodeURIComponent(ioana.id)}`);
    await page.getByRole('heading', { name: /Ioana/ }).waitFor();

    // A note: in the chat, in its own style, never a message to the client.
    await page
      .getByPlaceholder('Notă pentru colegi (nu se trimite clientului)')
      .fill('Vrea Elsa sâmbătă; revin cu prețul.');
    await page.getByRole('button', { name: 'Adaugă nota' }).click();
    const note = page.locator('li.note', { hasText: 'Vrea Elsa sâmbătă; revin cu prețul.' });
    await note.waitFor();
    expect(await note.locator('.note-tag').textContent()).toBe('Notă internă');

    // Take the thread, set its stage and a label.
    await page.getByRole('button', { name: 'Preiau' }).click();
    await expect.poll(() => page.getByTestId('assignee').innerText()).toContain('tu');
    await page.getByTestId('stage').selectOption('quoted');
    await page.getByRole('button', { name: 'VIP' }).click();
    await expect
      .poll(() => page.getByRole('button', { name: 'VIP' }).getAttribute('aria-pressed'))
      .toBe('true');
    await screenshot(page, 'inbox-chat-notes-assigned', 'desktop');
    const thread = { params: { path: { threadId: ioana.id } } };
    const view = ok(await api.GET('/api/threads/{threadId}', thread));
    expect(view).toMatchObject({ stage: 'quoted', labels: ['vip'] });
    const messages = ok(await api.GET('/api/threads/{threadId}/messages', thread));
    expect(messages.items.map((m) => m.body)).not.toContain('Vrea Elsa sâmbătă; revin cu prețul.');

    // The inbox: "mine" shows Ioana only, with her stage, label and assignee.
    await page.goto(`/inbox/${accountId}`);
    const list = page.getByRole('list', { name: 'Lista conversațiilor' });
    await list.locator('li').first().waitFor({ timeout: 30_000 });
    await page.getByTestId('filter-assigned').selectOption('mine');
    await expect.poll(() => list.locator('li').count()).toBe(1);
    const item = list.locator('li').first();
    expect(await item.getAttribute('data-thread-id')).toBe(ioana.id);
    await expect.poll(() => item.innerText()).toContain('Ofertat');
    expect(await item.innerText()).toContain('VIP');
    await screenshot(page, 'inbox-assigned-filter', 'desktop');
    await page.getByTestId('filter-assigned').selectOption('unassigned');
    // "mine" also showed one thread: wait for the list to change, then count it.
    await expect
      .poll(() => list.locator('li').first().getAttribute('data-thread-id'))
      .not.toBe(ioana.id);
    await expect.poll(() => list.locator('li').count()).toBe(1);
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('when another operator takes, hands over or releases a thread, then the mine and unassigned lists follow without a reload', async () => {
    expect(shared).toBeDefined();
    const { ioana, radu } = shared!;
    const assign = async (threadId: string, assigneeUid: string | null) => {
      const assigned = await system.api.PUT('/api/threads/{threadId}/assignee', {
        params: { path: { threadId } },
        body: { assigneeUid, force: true },
      });
      expect(assigned.response.status).toBe(200);
    };
    const list = page.getByRole('list', { name: 'Lista conversațiilor' });
    const shown = () =>
      list
        .locator('li')
        .evaluateAll((items) => items.map((li) => li.getAttribute('data-thread-id')).sort());
    // Marks this page load: a reload would lose it.
    await page.evaluate(() => Object.assign(window, { inboxLoad: 'kept' }));
    const sameLoad = () => page.evaluate(() => (window as { inboxLoad?: string }).inboxLoad);

    await page.getByTestId('filter-assigned').selectOption('mine');
    await expect.poll(shown).toEqual([ioana]);
    // A colleague takes Ioana: she leaves my list; Radu is handed to me: he joins it.
    await assign(ioana, 'coleg-ana');
    await expect.poll(shown).toEqual([]);
    await assign(radu, 'admin-token');
    await expect.poll(shown).toEqual([radu]);
    expect(await list.locator('li').first().innerText()).toContain('tu');

    await page.getByTestId('filter-assigned').selectOption('unassigned');
    await expect.poll(shown).toEqual([]);
    // The colleague lets Ioana go: she is unassigned again, live.
    await assign(ioana, null);
    await expect.poll(shown).toEqual([ioana]);
    await assign(ioana, 'coleg-ana');
    await expect.poll(shown).toEqual([]);
    expect(await sameLoad()).toBe('kept');
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
