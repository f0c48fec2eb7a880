import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@wacrm/emulators';
import { startLauncher, type LauncherProcess } from './launcher-process.js';

// Issue 20 item 2: read receipts reach the contact through real Baileys (wa-gateway's mark-read
// command, sock.readMessages) only as the account's setting says. The emulator records every
// receipt the account's device sends (GET /accounts/:id/receipts).
let dataDir: string;
let launcher: LauncherProcess | undefined;
let base: string;
let token: string;
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
  base = await launcher.ready;
  token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
}, 180_000);

afterAll(async () => {
  await launcher?.interrupt();
  await rm(dataDir, { recursive: true, force: true });
});

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 60_000) {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    const value = await check().catch((e: unknown) => ((last = e), undefined));
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen within ${ms} ms (last: ${String(last)})`);
}

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
    const threads = await api<{ items: Array<{ id: string; unreadCount: number }> }>(
      'GET',
      `/api/threads?accountId=${accountId}`,
    );
    for (const t of threads.items) {
      const page = await api<{ items: Array<{ id: string }> }>(
        'GET',
        `/api/threads/${encodeURIComponent(t.id)}/messages`,
      );
      if (page.items.some((m) => m.id === messageId)) return t;
    }
    return undefined;
  });
}

describe('read receipts to WhatsApp (real Baileys against the emulator)', () => {
  it('when the account says off, opening the chat sends no read receipt; with on_open it does', async () => {
    const { accountId } = await api<{ accountId: string }>('POST', '/api/whatsapp/add-account', {
      name: 'WA-read',
    });
    await eventually('a QR', async () => {
      const r = await api<{ qr: string | null }>('GET', `/api/whatsapp/qr/${accountId}`);
      return r.qr ?? undefined;
    });
    const scan = await fetch(`${base}/api/dev/simulator/accounts/${accountId}/scan`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(scan.status).toBe(202);
    await eventually('connected', async () => {
      const r = await api<{ accounts: Array<{ id: string; status: string }> }>(
        'GET',
        '/api/whatsapp/accounts',
      );
      return r.accounts.find((a) => a.id === accountId)?.status === 'connected' ? true : undefined;
    });

    // Off (the default): the operator opens the chat; the unread mark is applied, no receipt.
    const first = await inbound(
      accountId,
      '+40722555101',
      'Bună, aveți liber sâmbătă?',
      'READOFF0001',
    );
    await api('POST', `/api/threads/${encodeURIComponent(first.id)}/read`, { upTo: 'READOFF0001' });
    await eventually('the unread mark applied', async () => {
      const t = await api<{ unreadCount: number }>(
        'GET',
        `/api/threads/${encodeURIComponent(first.id)}`,
      );
      return t.unreadCount === 0 ? true : undefined;
    });

    // The device did send receipts (delivery), just no read one: 3 s after the mark, still none.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await readReceipts(accountId)).not.toContain('READOFF0001');

    // On open: the next opened message gets a read receipt at the contact's side.
    await api('PATCH', `/api/accounts/${accountId}/inbox-settings`, { readReceipts: 'on_open' });
    const second = await inbound(accountId, '+40722555101', 'Și duminică?', 'READON00002');
    await api('POST', `/api/threads/${encodeURIComponent(second.id)}/read`, {
      upTo: 'READON00002',
    });
    const read = await eventually('a read receipt for READON00002', async () => {
      const ids = await readReceipts(accountId);
      return ids.includes('READON00002') ? ids : undefined;
    });
    // The message opened while the setting was off got none until now (the on_open mark covers
    // the client's messages since the business last spoke, so it may be read now, not before).
    expect(read.filter((id) => id === 'READON00002')).toHaveLength(1);
  }, 300_000);
});
