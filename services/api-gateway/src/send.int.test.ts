import { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OutboxQueue,
  RealtimeChannel,
  WaInboundQueue,
  waMessageIdFor,
  type RealtimeEvent,
} from '@wacrm/contracts';
import { expectEventually, metricValue } from '@wacrm/testing';
import { threadIdFor } from '@wacrm/firestore';
import { openQueue } from '@wacrm/queue';
import { admin, useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';
import { accountDoc, seedAccount } from '../test/seed.js';

const A = 'wa-send01';
const PHONE = '+40711111111';
const JID = '40711111111@s.whatsapp.net';
let gw: TestGateway;

beforeAll(async () => {
  gw = await useGateway();
  validateTraffic(gw);
  await seedAccount(gw.fs.db, A, accountDoc('WA-send', 'connected'));
}, 120_000);

afterAll(async () => {
  await gw?.dispose();
});

function send(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return gw.app.inject({
    method: 'POST',
    url: '/api/whatsapp/send',
    headers: { ...admin, ...headers },
    payload: body,
  });
}

describe('POST /api/whatsapp/send', () => {
  it('when a send is accepted, then the outbox document, the ingest record and the outbox job exist, keyed by the request', async () => {
    const res = await send(
      { accountId: A, to: PHONE, text: 'Vă confirmăm sâmbătă la 14:00.' },
      { 'idempotency-key': 'key-accept-0001' },
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({
      requestId: 'key-accept-0001',
      threadId: threadIdFor(A, JID),
      messageId: waMessageIdFor('key-accept-0001'),
      status: 'queued',
    });
    const outbox = await gw.fs.db.collection('outbox').doc('key-accept-0001').get();
    expect(outbox.data()).toMatchObject({
      accountId: A,
      to: JID,
      status: 'queued',
      createdBy: 'admin-token',
    });
    const q = openQueue(OutboxQueue, { connection: gw.redis.connection, prefix: gw.redis.prefix });
    const inbound = openQueue(WaInboundQueue, {
      connection: gw.redis.connection,
      prefix: gw.redis.prefix,
    });
    expect((await Job.fromId(q.queue, 'key-accept-0001'))?.data).toEqual({
      requestId: 'key-accept-0001',
      accountId: A,
    });
    expect((await Job.fromId(inbound.queue, 'outbound.key-accept-0001'))?.name).toBe(
      'record-outbound',
    );
    await q.queue.close();
    await inbound.queue.close();
  });

  it('when 20 identical requests race, then they all get the same answer and one send is queued', async () => {
    const body = { accountId: A, to: PHONE, text: 'Același mesaj', requestId: 'race-same-0001' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => send(body)));
    expect(new Set(answers.map((a) => a.statusCode))).toEqual(new Set([202]));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    const q = openQueue(OutboxQueue, { connection: gw.redis.connection, prefix: gw.redis.prefix });
    const jobs = (await q.queue.getJobs(['waiting', 'delayed', 'active'])).filter(
      (j) => (j.data as { requestId: string }).requestId === 'race-same-0001',
    );
    expect(jobs).toHaveLength(1);
    await q.queue.close();
  });

  it('when a send is repeated after it progressed, then the answer is the first one, marked as replayed', async () => {
    const body = { accountId: A, to: PHONE, text: 'Mulțumim, vă așteptăm!' };
    const key = { 'idempotency-key': 'key-replay-0001' };
    const first = await send(body, key);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    await gw.fs.db.collection('outbox').doc('key-replay-0001').update({ status: 'sent' });
    const again = await send(body, key);
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
  });

  it('when the same key comes with a different body, then it is 409 and nothing changes', async () => {
    await send(
      { accountId: A, to: PHONE, text: 'Primul' },
      { 'idempotency-key': 'key-conflict-01' },
    );
    const res = await send(
      { accountId: A, to: PHONE, text: 'Altul' },
      { 'idempotency-key': 'key-conflict-01' },
    );
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect((await gw.fs.db.collection('outbox').doc('key-conflict-01').get()).get('body')).toBe(
      'Primul',
    );
  });

  it('when the body is invalid, then it is 400 naming the field', async () => {
    const res = await send({ accountId: A, to: '0712', text: 'x' });
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toMatch(/"path":"to"/);
    const both = await send(
      { accountId: A, to: PHONE, text: 'x', requestId: 'body-key-0001' },
      { 'idempotency-key': 'other-key-0001' },
    );
    expect(both.statusCode).toBe(400);
  });

  it('when the thread belongs to another account, then it is 404', async () => {
    const res = await send({ accountId: A, threadId: threadIdFor('wa-other', JID), text: 'x' });
    expect(res.statusCode).toBe(404);
  });

  it('when a send is acknowledged by WhatsApp, then /metrics has its accept-to-ack latency', async () => {
    const res = await send(
      { accountId: A, to: PHONE, text: 'Latență' },
      { 'idempotency-key': 'key-latency-01' },
    );
    expect(res.statusCode).toBe(202);
    const sent: RealtimeEvent = {
      type: 'message.status',
      accountId: A,
      threadId: threadIdFor(A, JID),
      messageId: waMessageIdFor('key-latency-01'),
      status: 'sent',
      at: new Date(Date.now() + 1500).toISOString(),
    };
    await gw.redis.connection.publish(RealtimeChannel, JSON.stringify(sent));
    await expectEventually(async () => {
      const metrics = await gw.app.inject({ method: 'GET', url: '/metrics', headers: admin });
      expect(metricValue(metrics.body, 'wacrm_send_latency_seconds_count')).toBe(1);
      expect(metricValue(metrics.body, 'wacrm_send_latency_seconds_bucket', { le: '1' })).toBe(0);
    });
  });
});
