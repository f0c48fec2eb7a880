import { randomUUID } from 'node:crypto';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiRequestsQueue } from '@wacrm/contracts';
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

// Issue 15 item 7: an Idempotency-Key on an AI request belongs to the caller that chose it.
const RUN = randomUUID().replace(/-/g, '').slice(0, 6);
const A = `wa-ia${RUN}`;
const PHONE = '+40733000222';
const tA = `${A}__40733000222@s.whatsapp.net`;

let gw: TestGateway;
let aiWorker: Worker;
let alice: { uid: string; token: string };
let bob: { uid: string; token: string };

async function post(url: string, headers: Record<string, string>, body: unknown) {
  return gw.app.inject({ method: 'POST', url, headers, payload: body as Record<string, unknown> });
}

beforeAll(async () => {
  gw = await useGateway();
  validateTraffic(gw);
  await seedAccount(gw.fs.db, A, accountDoc('WA-A', 'connected'));
  await collections(gw.fs.db)
    .threads()
    .doc(tA)
    .set(threadDoc(A, 1, new Date('2026-03-01T10:00:00Z'), PHONE));
  // Answers name who asked what, so a replay of someone else's answer shows.
  aiWorker = startWorker(
    AiRequestsQueue,
    {
      'extract-event': (p) =>
        Promise.resolve({
          action: 'none',
          draftEvent: null,
          confidence: 0,
          reasons: [`for ${p.requestedBy}`],
          sourceMessageIds: [],
          extractionId: `ex-${p.requestId}`,
        }),
      'ask-client': (p) =>
        Promise.resolve({ answer: `${p.requestedBy}: ${p.question}`, intent: 'x', sources: [] }),
    },
    { connection: gw.redis.connection, prefix: gw.redis.prefix, logger: gw.logs.logger },
  );
  [alice, bob] = await Promise.all([
    userToken(gw, 'employee', [A]),
    userToken(gw, 'employee', [A]),
  ]);
});

afterAll(async () => {
  await aiWorker.close();
  await gw.dispose();
});

describe('AI idempotency keys (issue 15 item 7)', () => {
  it('when another principal reuses a caller’s Idempotency-Key, then it gets its own answer, never the first caller’s', async () => {
    const key = { 'idempotency-key': `shared-key-${RUN}` };
    const ask = { phoneE164: PHONE, question: 'Cât a cheltuit?' };
    const first = await post('/api/crm/ask', { ...bearer(alice.token), ...key }, ask);
    expect(first.statusCode).toBe(200);
    expect(first.json<{ answer: string }>().answer).toBe(`${alice.uid}: Cât a cheltuit?`);

    const other = await post('/api/crm/ask', { ...bearer(bob.token), ...key }, ask);
    expect(other.statusCode).toBe(200);
    expect(other.json<{ answer: string }>().answer).toBe(`${bob.uid}: Cât a cheltuit?`);

    const extract = { accountId: A, threadId: tA, dryRun: true };
    const xKey = { 'idempotency-key': `extract-key-${RUN}` };
    const x1 = await post(
      '/api/whatsapp/extract-event',
      { ...bearer(alice.token), ...xKey },
      extract,
    );
    const x2 = await post('/api/whatsapp/extract-event', { ...admin, ...xKey }, extract);
    expect(x1.json<{ reasons: string[] }>().reasons).toEqual([`for ${alice.uid}`]);
    expect(x2.json<{ reasons: string[] }>().reasons).toEqual(['for admin-token']);
  });

  it('when a caller retries with its key, then the first answer comes back; with another body, then 409 problem+json', async () => {
    const key = { 'idempotency-key': `retry-key-${RUN}` };
    const headers = { ...bearer(alice.token), ...key };
    const first = await post('/api/crm/ask', headers, { phoneE164: PHONE, question: 'Câte?' });
    const again = await post('/api/crm/ask', headers, { phoneE164: PHONE, question: 'Câte?' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());

    const changed = await post('/api/crm/ask', headers, { phoneE164: PHONE, question: 'Altceva?' });
    expect(changed.statusCode).toBe(409);
    expect(changed.headers['content-type']).toMatch(/application\/problem\+json/);
    // The key also cannot be reused for another kind of request.
    const otherKind = await post('/api/whatsapp/extract-event', headers, {
      accountId: A,
      threadId: tA,
      dryRun: true,
    });
    expect(otherKind.statusCode).toBe(409);
  });
});
