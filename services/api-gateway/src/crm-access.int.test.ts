import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiRequestsQueue, type AskClientJob } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { startWorker } from '@wacrm/queue';
import {
  admin,
  bearer,
  useGateway,
  userToken,
  type TestGateway,
  validateTraffic,
} from '../test/gateway.fixture.js';
import { accountDoc, seedAccount, threadDoc } from '../test/seed.js';

// Issue 15 item 3: an employee of A must never see B's figures, events or answers for a client
// both accounts serve, and events without an account are admin-only.
const RUN = randomUUID().replace(/-/g, '').slice(0, 6);
const A = `wa-ca${RUN}`;
const B = `wa-cb${RUN}`;
const PHONE = '+40733000111';
const tB = `${B}__40733000111@s.whatsapp.net`;

let gw: TestGateway;
let aiWorker: Worker;
let employeeA: { uid: string; token: string };
const askJobs: AskClientJob[] = [];

async function call(method: string, url: string, headers: Record<string, string>, body?: unknown) {
  return gw.app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
  });
}

const clientUrl = `/api/crm/clients/${encodeURIComponent(PHONE)}`;

beforeAll(async () => {
  gw = await useGateway();
  validateTraffic(gw);
  const db = gw.fs.db;
  await seedAccount(db, A, accountDoc('WA-A', 'connected'));
  await seedAccount(db, B, accountDoc('WA-B', 'connected'));
  const thread = threadDoc(B, 1, new Date('2026-03-01T10:00:00Z'), PHONE);
  await collections(db)
    .threads()
    .doc(tB)
    .set({ ...thread, displayName: 'Ana (B)' });
  aiWorker = startWorker(
    AiRequestsQueue,
    {
      'extract-event': () => Promise.reject(new Error('not used')),
      'ask-client': (p) => {
        askJobs.push(p);
        return Promise.resolve({ answer: 'ok', intent: 'spend', sources: [] });
      },
    },
    { connection: gw.redis.connection, prefix: gw.redis.prefix, logger: gw.logs.logger },
  );
  employeeA = await userToken(gw, 'employee', [A]);

  // B's booking, made by B's people through B's thread.
  const byB = await call('POST', '/api/crm/events', admin, {
    threadId: tB,
    date: '2026-05-01',
    amount: 1000,
    advance: 500,
  });
  expect(byB.statusCode).toBe(201);
  // What the aggregator computes from every event and thread of the phone (all accounts).
  await collections(db)
    .clients()
    .doc(PHONE)
    .set({
      phoneE164: PHONE,
      displayName: 'Ana (B)',
      eventsCount: 2,
      lifetimeSpendPaid: 600,
      lifetimeSpendTotal: 1200,
      firstEventAt: '2026-04-01',
      lastEventAt: '2026-05-01',
      lastContactAt: new Date('2026-03-01T10:00:00Z'),
      accountIds: [A, B],
      updatedAt: new Date(),
    });
});

afterAll(async () => {
  await aiWorker.close();
  await gw.dispose();
});

describe('another account’s CRM (issue 15 item 3)', () => {
  it('when an employee of A books B’s client under A, then the profile shows only A’s figures and accounts', async () => {
    const own = await call('POST', '/api/crm/events', bearer(employeeA.token), {
      accountId: A,
      phoneE164: PHONE,
      date: '2026-04-01',
      amount: 200,
      advance: 100,
    });
    expect(own.statusCode).toBe(201);

    const res = await call('GET', clientUrl, bearer(employeeA.token));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      phoneE164: PHONE,
      eventsCount: 1,
      lifetimeSpendPaid: 100,
      lifetimeSpendTotal: 200,
      firstEventAt: '2026-04-01',
      lastEventAt: '2026-04-01',
      accountIds: [A],
      // The name and last contact come from B's conversation: not A's to see.
      displayName: null,
      lastContactAt: null,
    });

    const adminView = (await call('GET', clientUrl, admin)).json<{ accountIds: string[] }>();
    expect(adminView.accountIds).toEqual([A, B].sort());
  });

  it('when an employee of A lists the client’s events, then B’s events are left out', async () => {
    const res = await call('GET', `${clientUrl}/events`, bearer(employeeA.token));
    expect(res.statusCode).toBe(200);
    const items = res.json<{ items: Array<{ accountId: string | null }> }>().items;
    expect(items.map((e) => e.accountId)).toEqual([A]);
  });

  it('when an employee of A asks about the client, then the AI job is limited to A’s accounts', async () => {
    const res = await call('POST', '/api/crm/ask', bearer(employeeA.token), {
      phoneE164: PHONE,
      question: 'Cât a cheltuit?',
    });
    expect(res.statusCode).toBe(200);
    expect(askJobs.at(-1)?.accountScope).toEqual([A]);
    await call('POST', '/api/crm/ask', admin, { phoneE164: PHONE, question: 'Cât?' });
    expect(askJobs.at(-1)?.accountScope).toBe('all');
  });

  it('when an event has no account, then only an admin may create, see, edit or archive it', async () => {
    const body = { phoneE164: PHONE, date: '2026-06-01', amount: 50 };
    const denied = await call('POST', '/api/crm/events', bearer(employeeA.token), body);
    expect(denied.statusCode).toBe(403);
    expect(denied.headers['content-type']).toMatch(/application\/problem\+json/);

    const created = await call('POST', '/api/crm/events', admin, body);
    expect(created.statusCode).toBe(201);
    const eventId = created.json<{ id: string }>().id;

    const listed = await call('GET', `${clientUrl}/events`, bearer(employeeA.token));
    expect(listed.json<{ items: Array<{ id: string }> }>().items.map((e) => e.id)).not.toContain(
      eventId,
    );
    const patch = await call('PATCH', `/api/crm/events/${eventId}`, bearer(employeeA.token), {
      amount: 1,
    });
    expect(patch.statusCode).toBe(403);
    const archive = await call(
      'POST',
      `/api/crm/events/${eventId}/archive`,
      bearer(employeeA.token),
    );
    expect(archive.statusCode).toBe(403);
    const adminList = await call('GET', `${clientUrl}/events`, admin);
    expect(adminList.json<{ items: Array<{ id: string }> }>().items.map((e) => e.id)).toContain(
      eventId,
    );
  });

  it('when an employee of B’s account is absent from the client, then the profile is 403, never B’s data', async () => {
    const employeeC = await userToken(gw, 'employee', ['wa-nobody']);
    for (const url of [clientUrl, `${clientUrl}/events`]) {
      expect((await call('GET', url, bearer(employeeC.token))).statusCode).toBe(403);
    }
  });
});
