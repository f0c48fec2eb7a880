/**
 * `npm run bench:ingest`: a 100,000-message history sync (30 accounts × 50 chats) written three
 * ways, each on a fresh in-process Firestore emulator of the same size (the emulator slows as it
 * fills, DESIGN.md): through the ingest pipeline (BullMQ → worker → batched commits), by a naive
 * writer (one write per message, in order), and by raw batched commits of the same documents
 * without the queue (the store's ceiling here).
 */
import { WaInboundQueue, type MessageDoc, type ThreadDoc } from '@wacrm/contracts';
import { startFirestoreEmulator, startRedisServer } from '@wacrm/emulators';
import { initFirebase, threadIdFor, type Firebase } from '@wacrm/firestore';
import { createLogger } from '@wacrm/observability';
import { createRedisConnection, enqueue, openQueue } from '@wacrm/queue';
import { messageDoc } from '../src/domain/conversation-sync.js';
import { countersOf, foldNewMessages } from '../src/domain/thread-fold.js';
import { classify } from '../src/domain/wa-message.js';
import { startInboundWorker } from '../src/entry-points/inbound.worker.js';
import { buildIngestDeps } from '../src/ingest.composition.js';
import { historyFixture } from './history-fixture.js';

const TOTAL = Number(process.argv[2] ?? 100_000);
const ACCOUNTS = 30;
const THREADS = 50;
const CONCURRENCY = 8;
/**
 * The naive writer writes every message by default (~9 min here); a 2nd argument limits it to the
 * first N messages, and the output then says that the rate was extrapolated.
 */
const NAIVE_SUBSET = Number(process.argv[3] ?? TOTAL);

const logger = createLogger({ service: 'bench-ingest', version: '0', level: 'warn' });
const fixture = historyFixture({
  total: TOTAL,
  accounts: ACCOUNTS,
  threadsPerAccount: THREADS,
  chunkMessages: 1_000,
});

/** The documents ingest writes for the fixture, for the baselines. */
function documents(): { messages: MessageDoc[]; threads: Map<string, ThreadDoc> } {
  const now = new Date();
  const messages: MessageDoc[] = [];
  const threads = new Map<string, ThreadDoc>();
  for (const job of fixture.jobs) {
    for (const raw of job.messages) {
      const item = classify(raw);
      if (item.kind !== 'content') throw new Error('fixture holds text messages only');
      const threadId = threadIdFor(job.accountId, raw.key.remoteJid);
      const doc = messageDoc(job.accountId, threadId, false, item, 'history', new Map(), now);
      messages.push(doc);
      const thread: ThreadDoc = threads.get(threadId) ?? {
        accountId: job.accountId,
        clientJid: raw.key.remoteJid,
        phoneE164: null,
        displayName: null,
        isGroup: false,
        lastMessageAt: null,
        lastMessageText: null,
        lastMessageDirection: null,
        lastMessageId: null,
        unreadCount: 0,
        messageCount: 0,
        createdAt: now,
        updatedAt: now,
      };
      threads.set(threadId, { ...thread, ...foldNewMessages(countersOf(thread), [doc]) });
    }
  }
  return { messages, threads };
}

async function freshFirestore(): Promise<{ firebase: Firebase; stop: () => Promise<void> }> {
  const emulator = await startFirestoreEmulator({ port: 0 });
  const firebase = initFirebase({ projectId: 'bench', firestoreEmulatorHost: emulator.host });
  return {
    firebase,
    stop: async () => {
      await firebase.close();
      await emulator.stop();
    },
  };
}

/** Counts commits without changing what they do. */
function countCommits(db: Firebase['db']): () => number {
  let commits = 0;
  const batch = db.batch.bind(db);
  db.batch = () => {
    const b = batch();
    const commit = b.commit.bind(b);
    b.commit = () => {
      commits += 1;
      return commit();
    };
    return b;
  };
  return () => commits;
}

async function pipeline(): Promise<{ rate: number; commits: number }> {
  const { firebase, stop } = await freshFirestore();
  const redisServer = await startRedisServer({});
  const redis = createRedisConnection({ url: redisServer.url, name: 'bench', logger });
  const publisher = createRedisConnection({ url: redisServer.url, name: 'bench-pub', logger });
  const prefix = '{bench}';
  const commits = countCommits(firebase.db);
  const deps = buildIngestDeps({
    db: firebase.db,
    redis,
    publisher,
    prefix,
    logger,
    maxWrites: 500,
    lockTtlMs: 30_000,
    lockWaitMs: 120_000,
  });
  const queue = openQueue(WaInboundQueue, { connection: redis, prefix });
  const started = performance.now();
  for (const job of fixture.jobs) await enqueue(queue, 'ingest-history', job);
  const worker = startInboundWorker(deps, {
    connection: redis,
    prefix,
    concurrency: CONCURRENCY,
    lockDurationMs: 120_000,
    stalledIntervalMs: 30_000,
  });
  for (;;) {
    const counts = await queue.queue.getJobCounts('completed', 'failed');
    if ((counts.failed ?? 0) > 0) throw new Error(`${counts.failed} history jobs failed`);
    if ((counts.completed ?? 0) >= fixture.jobs.length) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  const stored = (await firebase.db.collection('threads').count().get()).data().count;
  if (stored !== ACCOUNTS * THREADS)
    throw new Error(`expected ${ACCOUNTS * THREADS} threads, got ${stored}`);
  await worker.close();
  await queue.queue.close();
  redis.disconnect();
  publisher.disconnect();
  await redisServer.stop();
  await stop();
  return { rate: fixture.messages / seconds, commits: commits() };
}

async function ceiling(
  messages: MessageDoc[],
  threads: Map<string, ThreadDoc>,
): Promise<{ rate: number; commits: number }> {
  const { firebase, stop } = await freshFirestore();
  const db = firebase.db;
  // Same documents, 500 writes per commit (each chat's messages with its thread), as many
  // commits in flight as the pipeline runs jobs.
  const writes: Array<(b: ReturnType<typeof db.batch>) => void> = [];
  const byThread = new Map<string, MessageDoc[]>();
  for (const m of messages) byThread.set(m.threadId, [...(byThread.get(m.threadId) ?? []), m]);
  for (const [threadId, list] of byThread) {
    for (const m of list) {
      writes.push((b) =>
        b.set(db.collection('threads').doc(threadId).collection('messages').doc(m.waKey.id), m),
      );
    }
    writes.push((b) => b.set(db.collection('threads').doc(threadId), threads.get(threadId)!));
  }
  const batches: Array<typeof writes> = [];
  for (let i = 0; i < writes.length; i += 500) batches.push(writes.slice(i, i + 500));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < batches.length) {
        const slice = batches[next++]!;
        const b = db.batch();
        for (const w of slice) w(b);
        await b.commit();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await stop();
  return { rate: messages.length / seconds, commits: batches.length };
}

async function naive(messages: MessageDoc[]): Promise<{ rate: number; measured: number }> {
  const { firebase, stop } = await freshFirestore();
  const db = firebase.db;
  const subset = messages.slice(0, Math.min(NAIVE_SUBSET, messages.length));
  const started = performance.now();
  for (const m of subset) {
    await db.collection('threads').doc(m.threadId).collection('messages').doc(m.waKey.id).set(m);
  }
  const seconds = (performance.now() - started) / 1000;
  await stop();
  return { rate: subset.length / seconds, measured: subset.length };
}

/** Optional 3rd argument: a comma-separated subset of variants, for profiling one at a time. */
const VARIANTS = new Set((process.argv[4] ?? 'pipeline,ceiling,naive').split(','));

const { messages, threads } = documents();
console.log(
  `ingest bench: ${fixture.messages} history messages, ${ACCOUNTS} accounts × ${THREADS} chats, ` +
    `${fixture.jobs.length} chunks, worker concurrency ${CONCURRENCY}; each variant on a fresh emulator`,
);
const none = { rate: Number.NaN, commits: 0, measured: 0 };
const p = VARIANTS.has('pipeline') ? await pipeline() : none;
console.log(
  `pipeline (queue → ingest → batched commits): ${p.rate.toFixed(0)} msg/s, ${p.commits} commits`,
);
const c = VARIANTS.has('ceiling') ? await ceiling(messages, threads) : none;
console.log(
  `ceiling (raw 500-write commits, no queue):     ${c.rate.toFixed(0)} msg/s, ${c.commits} commits`,
);
const n = VARIANTS.has('naive') ? await naive(messages) : none;
const naiveNote =
  n.measured < messages.length
    ? ` (measured on the first ${n.measured} of ${messages.length} messages and taken as the rate for all: ` +
      `the emulator only gets slower as it fills, so this flatters the naive writer)`
    : '';
console.log(`naive (one write per message, in order):     ${n.rate.toFixed(0)} msg/s${naiveNote}`);
const perHundred = (p.commits / fixture.messages) * 100;
console.log(
  `commits per 100 history messages: pipeline ${perHundred.toFixed(2)} (target ≤ 1), naive 100.00; ` +
    `pipeline vs naive ${(p.rate / n.rate).toFixed(1)}× (target ≥ 5×)`,
);
const percent = (p.rate / c.rate) * 100;
console.log(
  `ingest: pipeline ${p.rate.toFixed(0)} msg/s, ceiling ${c.rate.toFixed(0)} msg/s (${percent.toFixed(0)}%), naive ${n.rate.toFixed(0)} msg/s`,
);
process.exit(0);
