import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@wacrm/emulators';
import { eventually, startLauncher, type LauncherProcess } from './launcher-process.js';
import { ok, scanQr, systemApi, type SystemApi } from './system-api.js';

// The seeds' six acceptance tests, through the HTTP API, against the whole system as
// `npm start` runs it: real Baileys in wa-gateway against the WhatsApp network emulator.
let dataDir: string;
let launcher: LauncherProcess;
let base: string;
let token: string;
let emulatorUrl: string;
/** The generated client; every request and answer is validated against GET /openapi.json. */
let api: SystemApi;

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
  api = await systemApi(base, token);
});

afterAll(async () => {
  await launcher?.interrupt();
  await rm(dataDir, { recursive: true, force: true });
});

const CLIENT = '+40722333444';
let accountId: string;
let threadId: string;

describe('the seeds acceptance tests through the API', () => {
  it('test 1: when an account is added and its QR scanned, then it is connected', async () => {
    const added = await api.POST('/api/whatsapp/add-account', { body: { name: 'WA-01' } });
    expect(added.response.status).toBe(201);
    accountId = ok(added).accountId;
    const account = { params: { path: { accountId } } };
    const qr = await eventually('a QR', async () => {
      const r = ok(await api.GET('/api/whatsapp/qr/{accountId}', account));
      return r.qr !== null ? r : undefined;
    });
    expect(qr.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    // The phone scans the QR shown (the next one when it changed between reading and scanning).
    await scanQr(api, accountId);
    await eventually('status connected', async () => {
      const r = ok(await api.GET('/api/whatsapp/accounts'));
      return r.accounts.find((a) => a.id === accountId && a.status === 'connected');
    });
  });

  it('test 2: when a client writes, then the thread and the message appear', async () => {
    ok(
      await api.POST('/api/dev/simulator/accounts/{accountId}/inbound', {
        params: { path: { accountId } },
        body: { from: CLIENT, name: 'Ana', text: 'Bună, vreau Elsa pe 24 ianuarie la 12' },
      }),
    );
    const thread = await eventually('the thread', async () => {
      const r = ok(await api.GET('/api/threads', { params: { query: { accountId } } }));
      return r.items.find((t) => t.phoneE164 === CLIENT);
    });
    threadId = thread.id;
    expect(thread.messageCount).toBe(1);
    // The emulated contact writes from its LID with its phone number beside it (sender_pn), as
    // WhatsApp does: the thread is the phone number's, never the LID's.
    expect(thread.id).toBe(`${accountId}__40722333444@s.whatsapp.net`);
  });

  it('test 3: when the operator sends, then the status advances to read and a repeat sends nothing', async () => {
    const send = () =>
      api.POST('/api/whatsapp/send', {
        body: { accountId, threadId, text: 'Bună! Da, Elsa e liberă.' },
        headers: { 'idempotency-key': 'acceptance-send-1' },
      });
    const sent = await send();
    expect(sent.response.status).toBe(202);
    const { messageId } = ok(sent);
    expect(ok(await send())).toEqual(sent.data);
    const thread = { params: { path: { threadId } } };
    await eventually('status read', async () => {
      const r = ok(await api.GET('/api/threads/{threadId}/messages', thread));
      return r.items.find((m) => m.id === messageId && m.status === 'read');
    });
    expect(ok(await api.GET('/api/threads/{threadId}', thread))).toMatchObject({
      messageCount: 2,
      lastMessageDirection: 'outbound',
    });
    // What the contact's phone decrypted: the exact text, once.
    const received = (await (await fetch(`${emulatorUrl}/accounts/${accountId}/sent`)).json()) as {
      messages: Array<{ messageId: string; to: string; text: string | null; resends: number }>;
    };
    expect(received.messages).toEqual([
      expect.objectContaining({
        messageId,
        to: '40722333444@s.whatsapp.net',
        text: 'Bună! Da, Elsa e liberă.',
      }),
    ]);
    const metrics = ok(await api.GET('/metrics', { parseAs: 'text' }));
    const sendCounts = metrics
      .split('\n')
      .filter((line) => line.startsWith('wacrm_send_latency_seconds_count'));
    expect(sendCounts).toEqual([expect.stringMatching(/ 1$/)]);
  });

  it('test 4: when an event is extracted, then a draft comes back and nothing is written to evenimente', async () => {
    ok(
      await api.POST('/api/dev/simulator/accounts/{accountId}/inbound', {
        params: { path: { accountId } },
        body: {
          from: CLIENT,
          text: 'Adresa: str. Zborului 4, Otopeni. Alina face 5 ani, 15 copii. 650 lei, avans 150',
        },
      }),
    );
    await eventually('the second inbound message', async () => {
      const r = ok(await api.GET('/api/threads/{threadId}', { params: { path: { threadId } } }));
      return r.messageCount >= 3 ? r : undefined;
    });
    const draft = await api.POST('/api/whatsapp/extract-event', {
      body: { threadId, accountId, dryRun: true },
    });
    expect(draft.response.status).toBe(200);
    expect(ok(draft).action).toBe('create');
    expect(ok(draft).draftEvent).toMatchObject({
      time: '12:00',
      characters: ['Elsa'],
      amount: 650,
      advance: 150,
      childName: 'Alina',
      childAge: 5,
      guests: 15,
    });
    const events = await api.GET('/api/crm/clients/{phoneE164}/events', {
      params: { path: { phoneE164: CLIENT } },
    });
    expect(events.response.status).toBe(200);
    expect(ok(events).items).toHaveLength(0);
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
    const first = await api.POST('/api/crm/events', { body: event });
    const second = await api.POST('/api/crm/events', { body: event });
    expect([first.response.status, second.response.status]).toEqual([201, 201]);
    expect(ok(first).id).not.toBe(ok(second).id);
    await eventually('client aggregates', async () => {
      const r = ok(
        await api.GET('/api/crm/clients/{phoneE164}', { params: { path: { phoneE164: CLIENT } } }),
      );
      return r.eventsCount === 2 && r.lifetimeSpendPaid === 300 ? r : undefined;
    });
  });

  it('test 6: when asked how much the client spent, then the answer has the exact sum and its sources', async () => {
    const answer = await api.POST('/api/crm/ask', {
      body: { phoneE164: CLIENT, question: 'Cât a cheltuit clientul?' },
    });
    expect(answer.response.status).toBe(200);
    expect(ok(answer).answer).toMatch(/300/);
    expect(ok(answer).sources).toHaveLength(2);
    expect(ok(answer).sources.reduce((sum, s) => sum + s.paid, 0)).toBe(300);
  });
});
