import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RealtimeChannel,
  realtimeEventAccountIds,
  WaInboundQueue,
  type RealtimeEvent,
} from '@wacrm/contracts';
import { threadIdFor } from '@wacrm/firestore';
import { enqueue, openQueue, type ContractQueue } from '@wacrm/queue';
import {
  captureLogger,
  expectEventually,
  useTestFirestore,
  useTestRedis,
  waitForQueueIdle,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { FirestoreStore } from './data-access/firestore-store.js';
import { startInboundWorker } from './entry-points/inbound.worker.js';
import { buildIngestDeps } from './ingest.composition.js';
import { messagesJob, raw } from './test-support/wa-fixtures.js';

const A = 'wa-01';
const ANA = '40712345678@s.whatsapp.net';
const T = threadIdFor(A, ANA);
const BY = 'uid-operator';

let redis: TestRedis;
let fs: TestFirestore;
let queue: ContractQueue<typeof WaInboundQueue>;
let worker: Worker;
let subscriber: Redis;
let events: RealtimeEvent[];
let store: FirestoreStore;

beforeEach(async () => {
  redis = await useTestRedis();
  fs = useTestFirestore();
  store = new FirestoreStore(fs.db);
  const log = captureLogger('ingest');
  queue = openQueue(WaInboundQueue, { connection: redis.connection, prefix: redis.prefix });
  const deps = buildIngestDeps({
    db: fs.db,
    redis: redis.connection,
    publisher: redis.connection,
    prefix: redis.prefix,
    logger: log.logger,
    maxWrites: 500,
    lockTtlMs: 5_000,
    lockWaitMs: 10_000,
  });
  worker = startInboundWorker(deps, {
    connection: redis.connection,
    prefix: redis.prefix,
    concurrency: 4,
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
  });
  events = [];
  subscriber = new Redis(redis.url);
  await subscriber.subscribe(RealtimeChannel);
  subscriber.on('message', (_channel, message: string) => {
    const event = JSON.parse(message) as RealtimeEvent;
    if (realtimeEventAccountIds(event).includes(A)) events.push(event);
  });
});

afterEach(async () => {
  await worker.close();
  await queue.queue.close();
  subscriber.disconnect();
  await redis.cleanup();
  await fs.close();
});

async function settle(): Promise<void> {
  await waitForQueueIdle(queue.queue, { timeoutMs: 30_000 });
  expect(await queue.queue.getFailedCount()).toBe(0);
}

const unread = async (): Promise<number | undefined> =>
  (await store.threadRef(T).get()).data()?.unreadCount;

const text = (t: string) => ({ conversation: t });

/** Three inbound live messages from Ana at t = 1000, 1001, 1002 s, and our reply at 1001 s. */
async function seedConversation(): Promise<void> {
  await enqueue(
    queue,
    'ingest-messages',
    messagesJob(A, [
      raw('IN-1', ANA, text('Bună'), { messageTimestamp: 1000 }),
      raw('IN-2', ANA, text('Aveți liber sâmbătă?'), { messageTimestamp: 1001 }),
      raw('OUT-1', ANA, text('Da'), { messageTimestamp: 1001, fromMe: true }),
      raw('IN-3', ANA, text('Super'), { messageTimestamp: 1002 }),
    ]),
  );
  await settle();
  expect(await unread()).toBe(3);
}

describe('mark-read', () => {
  it('when a thread is read up to its newest message, then unreadCount is 0 and inboxes hear of it', async () => {
    await seedConversation();
    const messagesBefore = (await store.c.messages(T).get()).size;
    events.length = 0;
    await enqueue(queue, 'mark-read', { accountId: A, threadId: T, upTo: 'IN-3', by: BY });
    await settle();
    expect(await unread()).toBe(0);
    // Only the counter moves: every message is still there, the preview unchanged.
    expect((await store.c.messages(T).get()).size).toBe(messagesBefore);
    expect((await store.threadRef(T).get()).data()).toMatchObject({
      lastMessageId: 'IN-3',
      lastMessageText: 'Super',
      messageCount: 4,
    });
    await expectEventually(() =>
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'thread.updated', threadId: T }),
      ),
    );
  });

  it('when a message arrived after the one read up to, then it stays unread', async () => {
    await seedConversation();
    await enqueue(queue, 'mark-read', { accountId: A, threadId: T, upTo: 'IN-2', by: BY });
    await settle();
    expect(await unread()).toBe(1);

    // Read up to a time: the same cut, as a clock reading (IN-2's second).
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [raw('IN-4', ANA, text('Mai sunteți?'), { messageTimestamp: 1003 })]),
    );
    await settle();
    expect(await unread()).toBe(2);
    await enqueue(queue, 'mark-read', {
      accountId: A,
      threadId: T,
      upTo: new Date(1_002_000).toISOString(),
      by: BY,
    });
    await settle();
    expect(await unread()).toBe(1);
  });

  it('when an older mark is replayed or a mark names an unknown message, then nothing is raised', async () => {
    await seedConversation();
    await enqueue(queue, 'mark-read', { accountId: A, threadId: T, upTo: 'IN-3', by: BY });
    await settle();
    expect(await unread()).toBe(0);
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [raw('IN-4', ANA, text('Alo?'), { messageTimestamp: 1003 })]),
    );
    await settle();
    expect(await unread()).toBe(1);
    // A late job for an older mark, and a mark of a message this thread never had.
    await enqueue(queue, 'mark-read', { accountId: A, threadId: T, upTo: 'IN-1', by: BY });
    await enqueue(queue, 'mark-read', { accountId: A, threadId: T, upTo: 'NOPE-1', by: BY });
    await enqueue(queue, 'mark-read', {
      accountId: A,
      threadId: threadIdFor(A, '40799999999@s.whatsapp.net'),
      upTo: 'IN-4',
      by: BY,
    });
    await settle();
    expect(await unread()).toBe(1);
  });

  it('when a history message or our own message is newer than the mark, then it is not unread', async () => {
    await seedConversation();
    await enqueue(queue, 'ingest-messages', {
      ...messagesJob(A, [raw('H-1', ANA, text('din istoric'), { messageTimestamp: 1005 })]),
      source: 'history',
    });
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [raw('OUT-2', ANA, text('Vă sun'), { messageTimestamp: 1004, fromMe: true })]),
    );
    await settle();
    expect(await unread()).toBe(3);
    await enqueue(queue, 'mark-read', { accountId: A, threadId: T, upTo: 'IN-3', by: BY });
    await settle();
    expect(await unread()).toBe(0);
  });

  it('when a mark-read payload breaks the contract, then it fails once and is kept', async () => {
    const job = await queue.queue.add('mark-read', { accountId: A, threadId: T, upTo: 'a/b' });
    await expectEventually(async () => expect(await job.getState()).toBe('failed'));
    const failed = await queue.queue.getJob(job.id!);
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(/invalid payload for wa-inbound\/mark-read/);
  });
});
