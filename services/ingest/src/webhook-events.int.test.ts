import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WaInboundQueue, type WebhookEventLogDoc } from '@wacrm/contracts';
import { freePort } from '@wacrm/emulators';
import { threadIdFor, webhookEventsCollection } from '@wacrm/firestore';
import { enqueue, openQueue, type ContractQueue } from '@wacrm/queue';
import {
  captureLogger,
  useTestFirestore,
  useTestRedis,
  waitForQueueIdle,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { startInboundWorker } from './entry-points/inbound.worker.js';
import { buildIngestDeps } from './ingest.composition.js';
import { gateway, messagesJob, raw } from './test-support/wa-fixtures.js';

const A = 'wa-hooks-src';
const ANA = '40712345678@s.whatsapp.net';

let redis: TestRedis;
let fs: TestFirestore;
let queue: ContractQueue<typeof WaInboundQueue>;
let worker: Worker;
let deadPublisher: Redis;
let publishErrors: number;
let log: ReturnType<typeof captureLogger>;

beforeEach(async () => {
  redis = await useTestRedis();
  fs = useTestFirestore();
  log = captureLogger('ingest');
  queue = openQueue(WaInboundQueue, { connection: redis.connection, prefix: redis.prefix });
  // The live notifications go to a Redis nobody runs: every publish is lost, as when the
  // gateway's relay is down or pub/sub drops a message.
  deadPublisher = new Redis({
    port: await freePort(),
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  publishErrors = 0;
  deadPublisher.on('error', () => (publishErrors += 1));
  const deps = buildIngestDeps({
    db: fs.db,
    redis: redis.connection,
    publisher: deadPublisher,
    prefix: redis.prefix,
    logger: log.logger,
    maxWrites: 500,
    lockTtlMs: 5_000,
    lockWaitMs: 10_000,
    keepMedia: false,
  });
  worker = startInboundWorker(deps, {
    connection: redis.connection,
    prefix: redis.prefix,
    concurrency: 2,
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
  });
});

afterEach(async () => {
  await worker.close();
  await queue.queue.close();
  deadPublisher.disconnect();
  await redis.cleanup();
  await fs.close();
});

async function settle(): Promise<void> {
  await waitForQueueIdle(queue.queue, { timeoutMs: 30_000 });
  expect(await queue.queue.getFailedCount()).toBe(0);
}

async function recorded(): Promise<WebhookEventLogDoc[]> {
  const snapshot = await webhookEventsCollection(fs.db).where('accountId', '==', A).get();
  return snapshot.docs.map((d) => d.data());
}

describe('webhook events recorded with the change (issue 16 item 3)', () => {
  it('when messages and an account state are committed while every live notification is lost, then each webhook event is in Firestore with an id, and a retried job records none twice', async () => {
    const job = messagesJob(A, [
      raw('HK-1', ANA, { conversation: 'Bună' }, { messageTimestamp: 1000 }),
      raw('HK-2', ANA, { conversation: 'Mai e liber sâmbătă?' }, { messageTimestamp: 1001 }),
      raw('HK-3', ANA, { conversation: 'Mulțumesc' }, { messageTimestamp: 1002, fromMe: true }),
    ]);
    await enqueue(queue, 'ingest-messages', job);
    await settle();
    await enqueue(queue, 'update-account', {
      ...gateway(A),
      status: 'connected',
      qr: null,
      pairingCode: null,
      phone: '+40711111111',
      disconnectCode: null,
      reason: null,
    });
    await settle();
    // The fault happened: the publisher never reached a Redis, no live notification went out.
    expect(publishErrors).toBeGreaterThan(0);
    expect(deadPublisher.status).not.toBe('ready');

    const events = (await recorded()).flatMap((d) => d.events);
    const threadId = threadIdFor(A, ANA);
    const created = events.filter((e) => e.type === 'message.created');
    expect(created.flatMap((e) => e.data.messageIds as string[]).sort()).toEqual([
      'HK-1',
      'HK-2',
      'HK-3',
    ]);
    expect(created.every((e) => e.data.threadId === threadId)).toBe(true);
    expect(events.some((e) => e.type === 'thread.updated' && e.data.threadId === threadId)).toBe(
      true,
    );
    expect(events.some((e) => e.type === 'account.status' && e.data.status === 'connected')).toBe(
      true,
    );
    expect(events.every((e) => /^[a-f0-9]{32}$/.test(e.eventId))).toBe(true);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect((await recorded()).every((d) => !d.dispatched)).toBe(true);

    // The same job again (a retry after the commit): nothing new, so nothing recorded twice.
    const before = (await recorded()).length;
    await queue.queue.add('ingest-messages', job, { jobId: 'retry-of-first' });
    await settle();
    const again = (await recorded()).flatMap((d) => d.events);
    expect((await recorded()).length).toBe(before);
    expect(again.filter((e) => e.type === 'message.created')).toHaveLength(created.length);
  });
});
