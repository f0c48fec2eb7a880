import { Job } from 'bullmq';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  OutboxQueue,
  WaInboundQueue,
  waCommandsQueue,
  waMessageIdFor,
  type AccountDoc,
  type OutboxDoc,
} from '@wacrm/contracts';
import { collections, threadIdFor } from '@wacrm/firestore';
import {
  captureLogger,
  useTestFirestore,
  useTestRedis,
  useTestTelemetry,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { openQueue, type ContractQueue } from '@wacrm/queue';
import { createGovernor } from '../data-access/governor.js';
import { OutboxStore } from '../data-access/outbox-store.js';
import { relayOnce, type RelayDeps } from './outbox-relay.js';
import { sendOutbox, type SendOutboxDeps } from './send-outbox.processor.js';
import { recordSendStatus } from './send-status.processor.js';
import { cancelOutbox } from './cancel-outbox.processor.js';

const telemetry = useTestTelemetry('outbox-sender-int');
afterAll(() => telemetry.shutdown());

let redis: TestRedis;
let fs: TestFirestore;
let deps: SendOutboxDeps;
let relayDeps: RelayDeps;
const queues = new Map<string, ContractQueue<ReturnType<typeof waCommandsQueue>>>();
let outboxQueue: ContractQueue<typeof OutboxQueue>;
const logger = captureLogger().logger;
const t0 = Date.UTC(2026, 5, 1, 9, 0, 0);
const jid = '40712345678@s.whatsapp.net';

function commandsFor(accountId: string) {
  let q = queues.get(accountId);
  if (q === undefined) {
    q = openQueue(waCommandsQueue(accountId), {
      connection: redis.connection,
      prefix: redis.prefix,
    });
    queues.set(accountId, q);
  }
  return q;
}

function account(status: AccountDoc['status']): AccountDoc {
  return {
    name: 'WA-01',
    phone: null,
    status,
    qr: null,
    qrExpiresAt: null,
    pairingCode: null,
    ownerInstanceId: 'gw-1',
    history: {
      status: 'idle',
      threads: 0,
      messages: 0,
      percent: null,
      startedAt: null,
      completedAt: null,
    },
    lastError: null,
    lastConnectedAt: null,
    createdAt: new Date(t0),
    updatedAt: new Date(t0),
  };
}

function outbox(requestId: string, createdAt = new Date(t0)): OutboxDoc {
  return {
    requestId,
    accountId: 'wa-01',
    threadId: threadIdFor('wa-01', jid),
    to: jid,
    body: 'Bună ziua! Confirmăm rezervarea.',
    media: null,
    replyTo: null,
    waMessageId: waMessageIdFor(requestId),
    status: 'queued',
    attempts: 0,
    lastError: null,
    bodyHash: 'h',
    createdBy: 'admin',
    createdAt,
    updatedAt: createdAt,
    sentAt: null,
  };
}

beforeEach(async () => {
  redis = await useTestRedis();
  fs = useTestFirestore();
  outboxQueue = openQueue(OutboxQueue, {
    connection: redis.connection,
    prefix: redis.prefix,
    tracerName: 'outbox-relay',
  });
  const store = new OutboxStore(fs.db, redis.connection, redis.prefix);
  deps = {
    db: fs.db,
    outbox: store,
    governor: createGovernor(redis.connection, redis.prefix, () => 0),
    defaults: {
      ratePerMinute: 20,
      burst: 1,
      minRecipientGapMs: 3_000,
      dailyCap: 1_000,
      jitterMs: 0,
      warmupDays: 0,
    },
    pacing: true,
    commandsFor,
    logger,
    now: () => t0,
  };
  relayDeps = {
    db: fs.db,
    outbox: store,
    redis: redis.connection,
    outboxQueue,
    commandsFor,
    logger,
    instanceId: 'relay-test',
    keyPrefix: redis.prefix,
    relayAfterMs: 10_000,
    staleSendingMs: 600_000,
  };
});

afterEach(async () => {
  await Promise.all([...queues.values()].map((q) => q.queue.close()));
  queues.clear();
  await outboxQueue.queue.close();
  await fs.close();
  await redis.cleanup();
});

describe('send-outbox processor', () => {
  it('when an outbox document is queued, then one paced send-message command lands in its account queue', async () => {
    const c = collections(fs.db);
    await c.accounts().doc('wa-01').set(account('connected'));
    await c.outbox().doc('req-00000001').set(outbox('req-00000001'));
    await c.outbox().doc('req-00000002').set(outbox('req-00000002'));

    const first = await sendOutbox({ requestId: 'req-00000001', accountId: 'wa-01' }, deps);
    const second = await sendOutbox({ requestId: 'req-00000002', accountId: 'wa-01' }, deps);
    // A retried job (crash after the hand-over) changes nothing.
    expect(await sendOutbox({ requestId: 'req-00000001', accountId: 'wa-01' }, deps)).toEqual({
      handedOver: false,
      reason: 'already handed over',
    });

    expect(first).toMatchObject({ handedOver: true, sendAt: t0 });
    expect(second).toMatchObject({ handedOver: true, sendAt: t0 + 3_000 });
    const queue = commandsFor('wa-01').queue;
    expect(await queue.getDelayedCount()).toBe(1);
    expect(await queue.getWaitingCount()).toBe(1);
    const job = await Job.fromId(queue, 'send.req-00000001');
    expect(job?.data).toMatchObject({
      requestId: 'req-00000001',
      to: jid,
      waMessageId: waMessageIdFor('req-00000001'),
    });
    expect((await c.outbox().doc('req-00000001').get()).data()).toMatchObject({
      status: 'sending',
      attempts: 1,
    });
  });

  it('when ingest records the ack before the hand-over is written, then the status does not go back to sending', async () => {
    const c = collections(fs.db);
    await c.accounts().doc('wa-01').set(account('connected'));
    await c.outbox().doc('req-fast-ack-1').set(outbox('req-fast-ack-1'));
    // The gateway sends and ingest mirrors `sent` between the enqueue and sendOutbox's own write.
    const queue = commandsFor('wa-01').queue;
    const add = queue.add.bind(queue);
    queue.add = async (...args: Parameters<typeof queue.add>) => {
      const job = await add(...args);
      await c
        .outbox()
        .doc('req-fast-ack-1')
        .update({ status: 'sent', sentAt: new Date(t0) });
      return job;
    };

    expect(
      await sendOutbox(
        { requestId: 'req-fast-ack-1', accountId: 'wa-01' },
        { ...deps, pacing: false },
      ),
    ).toMatchObject({ handedOver: true });
    expect((await c.outbox().doc('req-fast-ack-1').get()).data()).toMatchObject({
      status: 'sent',
      attempts: 1,
    });
  });

  it('when the account is logged out, then the outbox is paused and kept, and resumes once connected', async () => {
    const c = collections(fs.db);
    await c.accounts().doc('wa-01').set(account('logged_out'));
    await c.outbox().doc('req-paused-1').set(outbox('req-paused-1'));

    expect(await sendOutbox({ requestId: 'req-paused-1', accountId: 'wa-01' }, deps)).toEqual({
      handedOver: false,
      reason: 'account logged out',
    });
    expect((await c.outbox().doc('req-paused-1').get()).data()?.status).toBe('paused');
    expect(await commandsFor('wa-01').queue.count()).toBe(0);

    await c.accounts().doc('wa-01').set(account('connected'));
    const pass = await relayOnce(relayDeps, t0 + 60_000);
    expect(pass?.resumed).toBe(1);
    expect((await c.outbox().doc('req-paused-1').get()).data()?.status).toBe('queued');
    expect(await outboxQueue.queue.getJobCountByTypes('waiting')).toBe(1);
  });
});

describe('send status facts', () => {
  it('when the send fails for good, then the outbox ends failed with its reason', async () => {
    const c = collections(fs.db);
    await c.accounts().doc('wa-01').set(account('connected'));
    await c.outbox().doc('req-fail-0001').set(outbox('req-fail-0001'));
    expect(
      await sendOutbox(
        { requestId: 'req-fail-0001', accountId: 'wa-01' },
        { ...deps, pacing: false },
      ),
    ).toMatchObject({ handedOver: true });

    await recordSendStatus(
      {
        requestId: 'req-fail-0001',
        status: 'failed',
        error: 'Connection Closed',
        observedAt: new Date(t0).toISOString(),
      },
      deps,
    );
    expect((await c.outbox().doc('req-fail-0001').get()).data()).toMatchObject({
      status: 'failed',
      lastError: 'Connection Closed',
      attempts: 1,
    });
  });

  it('when acks and receipts arrive out of order and twice, then the outbox only moves forward', async () => {
    const c = collections(fs.db);
    await c
      .outbox()
      .doc('req-facts-001')
      .set({ ...outbox('req-facts-001'), status: 'sending' });
    const fact = (status: 'sent' | 'delivered' | 'read' | 'failed') =>
      recordSendStatus(
        { requestId: 'req-facts-001', status, error: null, observedAt: new Date(t0).toISOString() },
        deps,
      );
    // Concurrent, as outbox-sender runs jobs: the lock per request keeps the furthest.
    await Promise.all([fact('read'), fact('sent'), fact('delivered')]);
    await fact('sent');
    await fact('failed');
    const doc = (await c.outbox().doc('req-facts-001').get()).data();
    expect(doc).toMatchObject({ status: 'read', lastError: null });
    expect(doc?.sentAt).toBeInstanceOf(Date);
  });
});

describe('outbox relay', () => {
  it('when a queued document has no job (enqueue failed after the write), then the relay enqueues it exactly once', async () => {
    const c = collections(fs.db);
    await c.accounts().doc('wa-01').set(account('connected'));
    await c
      .outbox()
      .doc('req-lost-001')
      .set(outbox('req-lost-001', new Date(Date.now() - 60_000)));
    await c.outbox().doc('req-fresh-01').set(outbox('req-fresh-01', new Date()));

    const pass = await relayOnce(relayDeps);
    const again = await relayOnce(relayDeps);
    expect(pass?.requeued).toBe(1);
    expect(again?.requeued).toBe(0);
    const jobs = await outboxQueue.queue.getJobs(['waiting']);
    expect(jobs.map((j) => j.id)).toEqual(['req-lost-001']);
  });

  it('when the relay re-queues a send, then the job continues the trace of the request that accepted it', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const c = collections(fs.db);
    await c
      .outbox()
      .doc('req-traced-01')
      .set({ ...outbox('req-traced-01'), traceparent: `00-${traceId}-00f067aa0ba902b7-01` });

    expect((await relayOnce(relayDeps, t0 + 60_000))?.requeued).toBe(1);
    const job = await Job.fromId(outboxQueue.queue, 'req-traced-01');
    // bullmq-otel carries the producer's context in the job: here the relay span's, in that trace.
    expect(JSON.stringify(job?.opts.telemetry)).toContain(traceId);
    const relaySpan = (await telemetry.spans()).find(
      (s) => s.name === 'outbox.relay' && s.spanContext().traceId === traceId,
    );
    expect(relaySpan?.attributes['wacrm.request.id']).toBe('req-traced-01');
  });

  it('when a stale sending document lost its command but WhatsApp acknowledged it, then the relay does not send it again', async () => {
    const c = collections(fs.db);
    await c.accounts().doc('wa-01').set(account('connected'));
    const doc = { ...outbox('req-acked-01'), status: 'sending' as const, updatedAt: new Date(t0) };
    await c.outbox().doc('req-acked-01').set(doc);
    // The server ack reached ingest: the message is `sent`, only the outbox write was lost.
    await fs.db
      .collection('threads')
      .doc(doc.threadId)
      .collection('messages')
      .doc(doc.waMessageId)
      .set({ status: 'sent', requestId: 'req-acked-01', direction: 'outbound' });
    // Its command job is gone (Redis lost it, or it was removed after completing).
    expect(await Job.fromId(commandsFor('wa-01').queue, 'send.req-acked-01')).toBeUndefined();

    const pass = await relayOnce(relayDeps, t0 + 20 * 60_000);
    expect(pass?.repaired).toBe(0);
    expect(await outboxQueue.queue.count()).toBe(0);
    expect((await c.outbox().doc('req-acked-01').get()).data()?.status).toBe('sent');
  });

  it('when another instance holds the relay lock, then this instance does nothing', async () => {
    await redis.connection.set(`${redis.prefix}:outbox-relay:lock`, 'someone-else', 'PX', 60_000);
    expect(await relayOnce(relayDeps)).toBeNull();
  });
});

describe('scheduled sends (issue 19)', () => {
  const sendAt = t0 + 60_000;
  function scheduled(requestId: string): OutboxDoc {
    return { ...outbox(requestId), status: 'scheduled', sendAt: new Date(sendAt) };
  }
  let waInbound: ContractQueue<typeof WaInboundQueue>;
  beforeEach(() => {
    waInbound = openQueue(WaInboundQueue, { connection: redis.connection, prefix: redis.prefix });
    deps = { ...deps, outboxQueue, waInbound };
  });
  afterEach(() => waInbound.queue.close());

  it('when its job runs before sendAt, then nothing is handed over and a job waits for its time', async () => {
    const c = collections(fs.db);
    await c.accounts().doc('wa-01').set(account('connected'));
    await c.outbox().doc('req-sched-early').set(scheduled('req-sched-early'));

    expect(await sendOutbox({ requestId: 'req-sched-early', accountId: 'wa-01' }, deps)).toEqual({
      handedOver: false,
      reason: `scheduled for ${new Date(sendAt).toISOString()}`,
    });
    const again = await Job.fromId(outboxQueue.queue, `req-sched-early.at.${sendAt}`);
    expect(again?.opts.delay).toBe(60_000);
    expect(await commandsFor('wa-01').queue.count()).toBe(0);
    expect(await waInbound.queue.count()).toBe(0);
    expect((await c.outbox().doc('req-sched-early').get()).data()?.status).toBe('scheduled');
  });

  it('when it comes due, then it enters the conversation once and is handed over, paced', async () => {
    const c = collections(fs.db);
    await c.accounts().doc('wa-01').set(account('connected'));
    await c.outbox().doc('req-sched-due1').set(scheduled('req-sched-due1'));
    const due = { ...deps, now: () => sendAt + 10 };

    expect(
      await sendOutbox({ requestId: 'req-sched-due1', accountId: 'wa-01' }, due),
    ).toMatchObject({ handedOver: true, sendAt: sendAt + 10 });
    expect(await sendOutbox({ requestId: 'req-sched-due1', accountId: 'wa-01' }, due)).toEqual({
      handedOver: false,
      reason: 'already handed over',
    });
    const recorded = await Job.fromId(waInbound.queue, 'outbound.req-sched-due1');
    expect(recorded?.data).toMatchObject({
      requestId: 'req-sched-due1',
      acceptedAt: new Date(sendAt).toISOString(),
    });
    expect(await waInbound.queue.count()).toBe(1);
    expect(await Job.fromId(commandsFor('wa-01').queue, 'send.req-sched-due1')).toBeDefined();
    expect((await c.outbox().doc('req-sched-due1').get()).data()).toMatchObject({
      status: 'sending',
      attempts: 1,
    });
  });

  it('when Redis lost its delayed job, then the relay queues it once it is due, not before', async () => {
    const c = collections(fs.db);
    await c.outbox().doc('req-sched-lost').set(scheduled('req-sched-lost'));

    expect(await relayOnce(relayDeps, sendAt - 1)).toMatchObject({ due: 0 });
    expect(await outboxQueue.queue.count()).toBe(0);
    expect(await relayOnce(relayDeps, sendAt + 1)).toMatchObject({ due: 1 });
    expect((await Job.fromId(outboxQueue.queue, 'req-sched-lost'))?.name).toBe('send-outbox');
    // The next pass finds the job waiting: nothing more.
    expect(await relayOnce(relayDeps, sendAt + 2)).toMatchObject({ due: 0 });
  });

  it('when Redis lost the job of a send due soon, then the relay gives it one that waits for sendAt', async () => {
    const c = collections(fs.db);
    await c.accounts().doc('wa-01').set(account('connected'));
    await c.outbox().doc('req-sched-soon').set(scheduled('req-sched-soon'));
    const ahead = { ...relayDeps, scheduleAheadMs: 15_000 };

    expect(await relayOnce(ahead, sendAt - 20_000)).toMatchObject({ due: 0 });
    expect(await relayOnce(ahead, sendAt - 10_000)).toMatchObject({ due: 1 });
    // That job runs at once, before sendAt: it waits again for sendAt, nothing is handed over.
    expect(
      await sendOutbox(
        { requestId: 'req-sched-soon', accountId: 'wa-01' },
        { ...deps, now: () => sendAt - 10_000 },
      ),
    ).toMatchObject({ handedOver: false });
    const waiting = await Job.fromId(outboxQueue.queue, `req-sched-soon.at.${sendAt}`);
    expect(waiting?.opts.delay).toBe(10_000);
    await (await Job.fromId(outboxQueue.queue, 'req-sched-soon'))?.remove();
    // The next pass sees the waiting job: no other.
    expect(await relayOnce(ahead, sendAt - 9_000)).toMatchObject({ due: 0 });
    expect(await commandsFor('wa-01').queue.count()).toBe(0);
  });

  it('when cancelled while scheduled, then it is kept cancelled and never handed over; one on its way is not cancelled', async () => {
    const c = collections(fs.db);
    await c.accounts().doc('wa-01').set(account('connected'));
    await c.outbox().doc('req-sched-cncl').set(scheduled('req-sched-cncl'));
    await c
      .outbox()
      .doc('req-sched-gone')
      .set({ ...outbox('req-sched-gone'), status: 'sent' });

    const cancel = (requestId: string) =>
      cancelOutbox({ requestId, reason: 'operator' }, { outbox: deps.outbox, logger });
    expect(await cancel('req-sched-cncl')).toEqual({ status: 'cancelled' });
    expect(await cancel('req-sched-cncl')).toEqual({ status: 'cancelled' });
    expect(await cancel('req-sched-gone')).toEqual({ status: 'sent' });
    await expect(cancel('req-sched-none')).rejects.toThrow(/does not exist/);

    expect(
      await sendOutbox(
        { requestId: 'req-sched-cncl', accountId: 'wa-01' },
        { ...deps, now: () => sendAt + 10 },
      ),
    ).toEqual({ handedOver: false, reason: 'already cancelled' });
    expect(await relayOnce(relayDeps, sendAt + 10)).toMatchObject({ due: 0 });
    expect(await commandsFor('wa-01').queue.count()).toBe(0);
    expect(await waInbound.queue.count()).toBe(0);
    expect((await c.outbox().doc('req-sched-cncl').get()).data()).toMatchObject({
      status: 'cancelled',
      cancelledReason: 'operator',
    });
  });
});
