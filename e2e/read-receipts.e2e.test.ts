import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@wacrm/emulators';
import { eventually, startLauncher, type LauncherProcess } from './launcher-process.js';
import { connectedAccount, ok, systemApi, type SystemApi } from './system-api.js';

// Issue 20 item 2: read receipts reach the contact through real Baileys (wa-gateway's mark-read
// command, sock.readMessages) only as the account's setting says. The emulator records every
// receipt the account's device sends (GET /accounts/:id/receipts).
let dataDir: string;
let launcher: LauncherProcess | undefined;
let api: SystemApi;
let emulatorUrl: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wacrm-e2e-read-'));
  const emulatorPort = await freePort();
  emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  launcher = startLauncher({
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    WA_EMULATOR_PORT: String(emulatorPort),
    FIREBASE_PROJECT_ID: 'demo-e2e-read',
    REDIS_URL: '',
    FIRESTORE_EMULATOR_HOST: '',
    ADMIN_TOKEN: '',
  });
  const base = await launcher.ready;
  api = await systemApi(base, (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim());
}, 180_000);

afterAll(async () => {
  await launcher?.interrupt();
  await rm(dataDir, { recursive: true, force: true });
});

async function readReceipts(accountId: string): Promise<string[]> {
  const res = await fetch(`${emulatorUrl}/accounts/${accountId}/receipts`);
  const { receipts } = (await res.json()) as {
    receipts: Array<{ messageId: string; type: string }>;
  };
  return receipts.filter((r) => r.type === 'read').map((r) => r.messageId);
}

async function inbound(accountId: string, from: string, text: string, messageId: string) {
  const res = await fetch(`${emulatorUrl}/accounts/${accountId}/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, text, messageId }),
  });
  expect(res.status).toBe(202);
  return eventually(`${messageId} stored`, async () => {
    const threads = ok(await api.GET('/api/threads', { params: { query: { accountId } } }));
    for (const t of threads.items) {
      const page = ok(
        await api.GET('/api/threads/{threadId}/messages', { params: { path: { threadId: t.id } } }),
      );
      if (page.items.some((m) => m.id === messageId)) return t;
    }
    return undefined;
  });
}

/** The operator opens the chat: the thread is read up to `upTo`. */
async function markRead(threadId: string, upTo: string) {
  ok(
    await api.POST('/api/threads/{threadId}/read', {
      params: { path: { threadId } },
      body: { upTo },
    }),
  );
}

describe('read receipts to WhatsApp (real Baileys against the emulator)', () => {
  it('when the account says off, opening the chat sends no read receipt; with on_open it does', async () => {
    const accountId = await connectedAccount(api, 'WA-read');

    // Off (the default): the operator opens the chat; the unread mark is applied, no receipt.
    const first = await inbound(
      accountId,
      '+40722555101',
      'Bună, aveți liber sâmbătă?',
      'READOFF0001',
    );
    await markRead(first.id, 'READOFF0001');
    await eventually('the unread mark applied', async () => {
      const t = ok(
        await api.GET('/api/threads/{threadId}', { params: { path: { threadId: first.id } } }),
      );
      return t.unreadCount === 0 ? true : undefined;
    });

    // The device did send receipts (delivery), just no read one: 3 s after the mark, still none.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await readReceipts(accountId)).not.toContain('READOFF0001');

    // On open: the next opened message gets a read receipt at the contact's side.
    ok(
      await api.PATCH('/api/accounts/{accountId}/inbox-settings', {
        params: { path: { accountId } },
        body: { readReceipts: 'on_open' },
      }),
    );
    const second = await inbound(accountId, '+40722555101', 'Și duminică?', 'READON00002');
    await markRead(second.id, 'READON00002');
    const read = await eventually('a read receipt for READON00002', async () => {
      const ids = await readReceipts(accountId);
      return ids.includes('READON00002') ? ids : undefined;
    });
    // The message opened while the setting was off got none until now (the on_open mark covers
    // the client's messages since the business last spoke, so it may be read now, not before).
    expect(read.filter((id) => id === 'READON00002')).toHaveLength(1);
  }, 300_000);
});
