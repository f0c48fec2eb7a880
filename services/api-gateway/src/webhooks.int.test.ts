import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookCollections, type RealtimeEvent } from '@wacrm/contracts';
import type { Firestore } from 'firebase-admin/firestore';
import { recordWebhookEvents, webhookEventsOf } from '@wacrm/firestore';
import { expectEventually } from '@wacrm/testing';
import {
  admin,
  useGateway,
  WEBHOOK_SECRET_KEY,
  type TestGateway,
  validateTraffic,
} from '../test/gateway.fixture.js';

const A = 'wa-hook01';

interface Received {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An integrator's endpoint that fails its first `failures` requests with 500, then answers 200. */
async function startReceiver(failures: number) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = received.length < failures ? 500 : 200;
      received.push({ status, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = status;
      res.end(status === 200 ? 'ok' : 'receiver down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    // By a name the gateway trusts (OUTBOUND_ALLOW_HOSTS=localhost)…
    url: `http://localhost:${port}/hooks`,
    // …and by its loopback address, which it does not.
    internalUrl: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function verify(secret: string, r: Received): boolean {
  const ts = String(r.headers['x-wacrm-timestamp']);
  const expected = `v1=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`;
  return (
    r.headers['x-wacrm-signature'] === expected && Math.abs(Date.now() / 1000 - Number(ts)) < 300
  );
}

let gw: TestGateway;
const receivers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  gw = await useGateway({ OUTBOUND_ALLOW_HOSTS: 'localhost' });
  validateTraffic(gw);
}, 120_000);

afterAll(async () => {
  await gw?.dispose();
  await Promise.all(receivers.map((r) => r.close()));
});

async function subscribe(
  url: string,
  eventTypes: string[],
): Promise<{ id: string; secret: string }> {
  const res = await gw.app.inject({
    method: 'POST',
    url: '/api/webhooks',
    headers: admin,
    payload: { url, accountIds: [A], eventTypes },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; secret: string }>();
}

/** Commits events as ingest does: recorded in the commit of the change (issue 16 item 3). */
async function record(db: Firestore, ...events: RealtimeEvent[]): Promise<string[]> {
  const batch = db.batch();
  recordWebhookEvents(db, batch, events, new Date());
  await batch.commit();
  return webhookEventsOf(events).map((e) => e.eventId);
}

function event(n: number): RealtimeEvent {
  return {
    type: 'message.created',
    accountId: A,
    threadId: `${A}__40711111111@s.whatsapp.net`,
    messageIds: [`HOOK${n}`],
    at: new Date().toISOString(),
  };
}

async function deliveriesOf(webhookId: string) {
  const res = await gw.app.inject({
    method: 'GET',
    url: `/api/webhooks/${webhookId}/deliveries`,
    headers: admin,
  });
  expect(res.statusCode).toBe(200);
  return res.json<{
    deliveries: Array<{
      id: string;
      status: string;
      attempts: number;
      lastStatusCode: number | null;
      lastError: string | null;
      replays: number;
    }>;
  }>().deliveries;
}

describe('webhooks', () => {
  it('when a subscription targets an internal address, then nothing is sent and the delivery fails at once, naming the refusal', async () => {
    const receiver = await startReceiver(0);
    receivers.push(receiver);
    const { id } = await subscribe(receiver.internalUrl, ['message.created']);
    await record(gw.fs.db, event(90));
    await expectEventually(
      async () => {
        const [delivery] = await deliveriesOf(id);
        expect(delivery).toMatchObject({ status: 'failed', attempts: 1 });
        expect(delivery?.lastError).toContain('refused to fetch http://127.0.0.1');
      },
      { timeoutMs: 20_000 },
    );
    expect(receiver.received).toEqual([]);
  });

  it('when a receiver fails its first 3 attempts, then it gets the event once it recovers, correctly signed, and the log says so', async () => {
    const receiver = await startReceiver(3);
    receivers.push(receiver);
    const { id, secret } = await subscribe(receiver.url, ['message.created']);
    const stored = (await gw.fs.db.collection(WebhookCollections.webhooks).doc(id).get()).data()!;
    expect(JSON.stringify(stored)).not.toContain(secret);

    await record(gw.fs.db, event(1));
    await expectEventually(
      () => expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 500, 200]),
      {
        timeoutMs: 20_000,
      },
    );
    const body = JSON.parse(receiver.received[3]!.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'message.created',
      accountId: A,
      data: { messageIds: ['HOOK1'] },
    });
    // Every attempt carries the same delivery id and body, each correctly signed.
    expect(
      new Set(receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id)).size,
    ).toBe(1);
    expect(receiver.received.every((r) => verify(secret, r))).toBe(true);
    expect(verify('whsec_wrong', receiver.received[3]!)).toBe(false);
    expect(gw.logs.lines().some((l) => JSON.stringify(l).includes(secret))).toBe(false);

    await expectEventually(async () => {
      const [delivery] = await deliveriesOf(id);
      expect(delivery).toMatchObject({ status: 'delivered', attempts: 4, lastStatusCode: 200 });
    });
  });

  it('when a delivery is replayed, then the receiver gets the same event id again with a fresh signature', async () => {
    const receiver = await startReceiver(0);
    receivers.push(receiver);
    const { id, secret } = await subscribe(receiver.url, ['message.created']);
    await record(gw.fs.db, event(2));
    await expectEventually(() => expect(receiver.received).toHaveLength(1));
    const [delivery] = await deliveriesOf(id);
    const replay = await gw.app.inject({
      method: 'POST',
      url: `/api/webhooks/deliveries/${delivery!.id}/replay`,
      headers: admin,
    });
    expect(replay.statusCode, replay.body).toBe(202);
    await expectEventually(() => expect(receiver.received).toHaveLength(2));
    expect((JSON.parse(receiver.received[1]!.body) as { id: string }).id).toBe(
      (JSON.parse(receiver.received[0]!.body) as { id: string }).id,
    );
    expect(verify(secret, receiver.received[1]!)).toBe(true);
    await expectEventually(async () =>
      expect((await deliveriesOf(id))[0]).toMatchObject({ replays: 1, status: 'delivered' }),
    );
  });

  it('when an event type is not subscribed or the webhook is disabled, then nothing is delivered', async () => {
    const receiver = await startReceiver(0);
    receivers.push(receiver);
    const statusOnly = await subscribe(receiver.url, ['account.status']);
    const disabled = await subscribe(receiver.url, ['message.created']);
    const res = await gw.app.inject({
      method: 'POST',
      url: `/api/webhooks/${disabled.id}/disable`,
      headers: admin,
    });
    expect(res.json<{ active: boolean }>().active).toBe(false);
    await record(gw.fs.db, event(3));
    await record(gw.fs.db, {
      type: 'account.status',
      accountId: A,
      status: 'connected',
      at: new Date().toISOString(),
    });
    await expectEventually(() => expect(receiver.received).toHaveLength(1));
    expect((JSON.parse(receiver.received[0]!.body) as { type: string }).type).toBe(
      'account.status',
    );
    expect(await deliveriesOf(disabled.id)).toEqual([]);
    expect((await deliveriesOf(statusOnly.id)).length).toBe(1);
  });

  it('when the api-gateway restarts between failed attempts, then the retries go on and the event arrives once, signed', async () => {
    const receiver = await startReceiver(3);
    receivers.push(receiver);
    gw = await gw.restart({ WEBHOOK_BACKOFF_MS: '1000', OUTBOUND_ALLOW_HOSTS: 'localhost' });
    const { id, secret } = await subscribe(receiver.url, ['message.created']);
    await record(gw.fs.db, event(4));
    await expectEventually(() => expect(receiver.received).toHaveLength(1), { timeoutMs: 10_000 });

    // Restart while the retry waits in Redis (the next attempt is ~1 s away).
    gw = await gw.restart({ WEBHOOK_BACKOFF_MS: '1000', OUTBOUND_ALLOW_HOSTS: 'localhost' });
    expect(receiver.received).toHaveLength(1);

    await expectEventually(
      () => expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 500, 200]),
      {
        timeoutMs: 30_000,
      },
    );
    expect(receiver.received.every((r) => verify(secret, r))).toBe(true);
    expect(
      new Set(receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id)).size,
    ).toBe(1);
    await expectEventually(async () =>
      expect((await deliveriesOf(id))[0]).toMatchObject({ status: 'delivered', attempts: 4 }),
    );
  });

  it('when events were committed while no gateway ran, then both are delivered once it starts, once each with two replicas dispatching, with the recorded event id', async () => {
    const receiver = await startReceiver(0);
    receivers.push(receiver);
    const { id } = await subscribe(receiver.url, ['message.created', 'account.status']);
    const { fs, redis, authApp } = gw;
    // Every gateway is down (no relay, no dispatcher, no stream reader) while the changes commit.
    await gw.close();
    const status: RealtimeEvent = {
      type: 'account.status',
      accountId: A,
      status: 'connected',
      at: new Date().toISOString(),
    };
    const ids = await record(fs.db, event(5), status);
    expect(ids).toHaveLength(2);
    const overrides = { OUTBOUND_ALLOW_HOSTS: 'localhost' };
    gw = await useGateway(overrides, { fs, redis, authApp });
    const replica = await useGateway(overrides, { fs, redis, authApp });
    try {
      await expectEventually(() => expect(receiver.received).toHaveLength(2), {
        timeoutMs: 20_000,
      });
      const bodies = receiver.received.map(
        (r) => JSON.parse(r.body) as { id: string; eventId: string; type: string },
      );
      expect(bodies.map((b) => b.eventId).sort()).toEqual([...ids].sort());
      expect(receiver.received.map((r) => r.headers['x-wacrm-event-id']).sort()).toEqual(
        [...ids].sort(),
      );
      // Both replicas have marked what they dispatched; nothing more arrives after that.
      await expectEventually(async () => {
        const docs = await fs.db.collection(WebhookCollections.webhookEvents).get();
        expect(docs.docs.every((d) => d.get('dispatched') === true)).toBe(true);
      });
      expect(receiver.received).toHaveLength(2);
      expect(await deliveriesOf(id)).toHaveLength(2);
    } finally {
      await replica.close();
    }
  });

  it('when WEBHOOK_SECRET_KEY is not set, then webhook routes answer 503 naming the setting', async () => {
    expect(WEBHOOK_SECRET_KEY.length).toBeGreaterThanOrEqual(32);
    const other = await useGateway(
      { WEBHOOK_SECRET_KEY: '' },
      { fs: gw.fs, redis: gw.redis, authApp: gw.authApp },
    );
    try {
      const res = await other.app.inject({ method: 'GET', url: '/api/webhooks', headers: admin });
      expect(res.statusCode).toBe(503);
      expect(res.json<{ detail: string }>().detail).toMatch(/WEBHOOK_SECRET_KEY/);
    } finally {
      await other.close();
    }
  });
});
