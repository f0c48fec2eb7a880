/// <reference lib="dom" />
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@wacrm/emulators';
import { startLauncher, type LauncherProcess } from '../launcher-process.js';
import { launchChromium, screenshot, VIEWPORTS, watchPageErrors } from './browser.js';

// Issue 20 items 3-6 in the browser against the whole system as `npm start` runs it: internal
// notes in the chat, taking a thread, stage and labels, the mine/unassigned filter.
let dataDir: string;
let launcher: LauncherProcess;
let base: string;
let token: string;
let browser: Browser;
let page: Page;
let pageErrors: string[];
/** Set by the first test, used by the live-list test after it. */
let shared: { ioana: string; radu: string } | undefined;

async function api<T>(method: string, path: string, body?: unknown): Promise<[number, T]> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return [response.status, (await response.json()) as T];
}

async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen within ${ms} ms`);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wacrm-inbox-e2e-'));
  launcher = startLauncher({
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    FIREBASE_PROJECT_ID: 'demo-inbox-e2e',
    REDIS_URL: '',
    FIRESTORE_EMULATOR_HOST: '',
    FIREBASE_AUTH_EMULATOR_HOST: '',
    ADMIN_TOKEN: '',
  });
  [base, browser] = await Promise.all([launcher.ready, launchChromium()]);
  token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  page = await (await browser.newContext({ viewport: VIEWPORTS.desktop, baseURL: base })).newPage();
  pageErrors = watchPageErrors(page);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await launcher?.interrupt();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the operator inbox (issue 20)', () => {
  it('when an operator leaves a note, takes the thread and tags it, then the chat and the filtered inbox show it', async () => {
    const [added, account] = await api<{ accountId: string }>('POST', '/api/whatsapp/add-account', {
      name: 'WA-INBOX',
    });
    expect(added).toBeLessThan(300);
    const { accountId } = account;
    await eventually('a QR', async () => {
      const [, r] = await api<{ qr: string | null }>('GET', `/api/whatsapp/qr/${accountId}`);
      return r.qr ?? undefined;
    });
    const phone = (path: string, body?: unknown) =>
      api('POST', `/api/dev/simulator/accounts/${accountId}/${path}`, body);
    await phone('scan');
    await eventually('connected', async () => {
      const [, r] = await api<{ accounts: Array<{ id: string; status: string }> }>(
        'GET',
        '/api/whatsapp/accounts',
      );
      return r.accounts.find((a) => a.id === accountId)?.status === 'connected' ? true : undefined;
    });
    await phone('inbound', { from: '+40722333111', name: 'Ioana', text: 'Bună, cât costă Elsa?' });
    await phone('inbound', { from: '+40722333222', name: 'Radu', text: 'Mai aveți liber?' });
    const threads = await eventually('two threads', async () => {
      const [, r] = await api<{ items: Array<{ id: string; displayName: string }> }>(
        'GET',
        `/api/threads?accountId=${accountId}`,
      );
      return r.items.length === 2 ? r.items : undefined;
    });
    const ioana = threads.find((t) => t.displayName === 'Ioana')!;
    shared = {
      ioana: ioana.id,
      radu: threads.find((t) => t.displayName === 'Radu')!.id,
    };
    const [labelled] = await api('PATCH', `/api/accounts/${accountId}/inbox-settings`, {
      labels: [
        { id: 'vip', name: 'VIP', color: '#c62828' },
        { id: 'firma', name: 'Firmă', color: '#1565c0' },
      ],
    });
    expect(labelled).toBe(200);

    await page.goto('/');
    await page.getByLabel('Token', { exact: true }).fill(token);
    await page.getByRole('button', { name: 'Intră cu tokenul' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Conversații' }).waitFor();
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
    const [, view] = await api<{ assigneeUid: string; stage: string; labels: string[] }>(
      'GET',
      `/api/threads/${encodeURIComponent(ioana.id)}`,
    );
    expect(view).toMatchObject({ stage: 'quoted', labels: ['vip'] });
    const [, messages] = await api<{ items: Array<{ body: string | null }> }>(
      'GET',
      `/api/threads/${encodeURIComponent(ioana.id)}/messages`,
    );
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
      const [status] = await api('PUT', `/api/threads/${encodeURIComponent(threadId)}/assignee`, {
        assigneeUid,
        force: true,
      });
      expect(status).toBe(200);
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
