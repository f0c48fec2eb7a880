import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@wacrm/emulators';
import { startLauncher, type LauncherProcess } from './launcher-process.js';

// The seeds' six acceptance tests, through the HTTP API, against the whole system as
// `npm start` runs it: real Baileys in wa-gateway against the WhatsApp network emulator.
let dataDir: string;
let launcher: LauncherProcess;
let base: string;
let token: string;
let emulatorUrl: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wacrm-acceptance-'));
  const emulatorPort = await freePort();
  emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  launcher = startLauncher({
    WA_EMULATOR_PORT: String(emulatorPort),
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    FIREBASE_PROJECT_ID: 'demo-acceptance',
    REDIS_URL: '',
    FIRESTORE_EMULATOR_HOST: '',
    ADMIN_TOKEN: '',
  });
  base = await launcher.ready;
  token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
});

afterAll(async () => {
  await launcher?.interrupt();
  await rm(dataDir, { recursive: true, force: true });
});

async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** Polls until `check` returns a value, or fails with the last value seen. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const value = await check().catch((e: unknown) => ((last = e), undefined));
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms (last: ${String(last)})`);
}

const CLIENT = '+40722333444';
let accountId: string;
let threadId: string;

describe('the seeds acceptance tests through the API', () => {
  it('test 1: when an account is added and its QR scanned, then it is connected', async () => {
    const added = await api<{ accountId: string }>('POST', '/api/whatsapp/add-account', {
      name: 'WA-01',
    });
    expect(added.status).toBe(201);
    accountId = added.body.accountId;
    const qr = await eventually('a QR', async () => {
      const r = await api<{ qr: string | null; qrDataUrl: string | null }>(
        'GET',
        `/api/whatsapp/qr/${accountId}`,
      );
      return r.body.qr !== null ? r.body : undefined;
    });
    expect(qr.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    expect(
      (await api('POST', `/api/dev/simulator/accounts/${accountId}/scan`, {})).status,
    ).toBeLessThan(300);
    await eventually('status connected', async () => {
      const r = await api<{ accounts: Array<{ id: string; status: string }> }>(
        'GET',
        '/api/whatsapp/accounts',
      );
      return r.body.accounts.find((a) => a.id === accountId && a.status === 'connected');
    });
  });

  it('test 2: when a client writes, then the thread and the message appear', async () => {
    await api('POST', `/api/dev/simulator/accounts/${accountId}/inbound`, {
      from: CLIENT,
      name: 'Ana',
      text: 'Bună, vreau Elsa pe 24 ianuarie la 12',
    });
    const thread = await eventually('the thread', async () => {
      const r = await api<{
        items: Array<{ id: string; messageCount: number; phoneE164: string }>;
      }>('GET', `/api/threads?accountId=${accountId}`);
      return r.body.items.find((t) => t.phoneE164 === CLIENT);
    });
    threadId = thread.id;
    expect(thread.messageCount).toBe(1);
    // The emulated contact writes from its LID with its phone number beside it (sender_pn), as
    // WhatsApp does: the thread is the phone number's, never the LID's.
    expect(thread.id).toBe(`${accountId}__40722333444@s.whatsapp.net`);
  });

  it('test 3: when the operator sends, then the status advances to read and a repeat sends nothing', async () => {
    const body = { accountId, threadId, text: 'Bună! Da, Elsa e liberă.' };
    const sent = await api<{ messageId: string; status: string }>(
      'POST',
      '/api/whatsapp/send',
      body,
      { 'idempotency-key': 'acceptance-send-1' },
    );
    expect(sent.status).toBe(202);
    expect(
      (await api('POST', '/api/whatsapp/send', body, { 'idempotency-key': 'acceptance-send-1' }))
        .body,
    ).toEqual(sent.body);
    const path = `/api/threads/${encodeURIComponent(threadId)}/messages`;
    await eventually('status read', async () => {
      const r = await api<{ items: Array<{ id: string; status: string }> }>('GET', path);
      return r.body.items.find((m) => m.id === sent.body.messageId && m.status === 'read');
    });
    const thread = await api<{ messageCount: number; lastMessageDirection: string }>(
      'GET',
      `/api/threads/${encodeURIComponent(threadId)}`,
    );
    expect(thread.body).toMatchObject({ messageCount: 2, lastMessageDirection: 'outbound' });
    // What the contact's phone decrypted: the exact text, once.
    const received = (await (await fetch(`${emulatorUrl}/accounts/${accountId}/sent`)).json()) as {
      messages: Array<{ messageId: string; to: string; text: string | null; resends: number }>;
    };
    expect(received.messages).toEqual([
      expect.objectContaining({
        messageId: sent.body.messageId,
        to: '40722333444@s.whatsapp.net',
        text: 'Bună! Da, Elsa e liberă.',
      }),
    ]);
    const metrics = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const sendCounts = (await metrics.text())
      .split('\n')
      .filter((line) => line.startsWith('wacrm_send_latency_seconds_count'));
    expect(sendCounts).toEqual([expect.stringMatching(/ 1$/)]);
  });

  it('test 4: when an event is extracted, then a draft comes back and nothing is written to evenimente', async () => {
    await api('POST', `/api/dev/simulator/accounts/${accountId}/inbound`, {
      from: CLIENT,
      text: 'Adresa: str. Zborului 4, Otopeni. Alina face 5 ani, 15 copii. 650 lei, avans 150',
    });
    await eventually('the second inbound message', async () => {
      const r = await api<{ messageCount: number }>(
        'GET',
        `/api/threads/${encodeURIComponent(threadId)}`,
      );
      return r.body.messageCount >= 3 ? r.body : undefined;
    });
    const draft = await api<{ action: string; draftEvent: Record<string, unknown> }>(
      'POST',
      '/api/whatsapp/extract-event',
      { threadId, accountId, dryRun: true },
    );
    expect(draft.status).toBe(200);
    expect(draft.body.action).toBe('create');
    expect(draft.body.draftEvent).toMatchObject({
      time: '12:00',
      characters: ['Elsa'],
      amount: 650,
      advance: 150,
      childName: 'Alina',
      childAge: 5,
      guests: 15,
    });
    const events = await api<{ items: unknown[] }>(
      'GET',
      `/api/crm/clients/${encodeURIComponent(CLIENT)}/events`,
    );
    expect(events.status).toBe(200);
    expect(events.body.items).toHaveLength(0);
  });

  it('test 5: when the event is saved twice, then there are two events and the client totals are exact', async () => {
    const event = {
      threadId,
      accountId,
      date: '2027-01-24',
      time: '12:00',
      characters: ['Elsa'],
      amount: 650,
      advance: 150,
    };
    const first = await api<{ id: string }>('POST', '/api/crm/events', event);
    const second = await api<{ id: string }>('POST', '/api/crm/events', event);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(first.body.id).not.toBe(second.body.id);
    await eventually('client aggregates', async () => {
      const r = await api<{ eventsCount: number; lifetimeSpendPaid: number }>(
        'GET',
        `/api/crm/clients/${encodeURIComponent(CLIENT)}`,
      );
      return r.body.eventsCount === 2 && r.body.lifetimeSpendPaid === 300 ? r.body : undefined;
    });
  });

  it('test 6: when asked how much the client spent, then the answer has the exact sum and its sources', async () => {
    const answer = await api<{
      answer: string;
      sources: Array<{ eventShortId: string; paid: number }>;
    }>('POST', '/api/crm/ask', {
      phoneE164: CLIENT,
      question: 'Cât a cheltuit clientul?',
    });
    expect(answer.status).toBe(200);
    expect(answer.body.answer).toMatch(/300/);
    expect(answer.body.sources).toHaveLength(2);
    expect(answer.body.sources.reduce((sum, s) => sum + s.paid, 0)).toBe(300);
  });
});
