import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WaInboundQueue } from '@wacrm/contracts';
import { threadIdFor } from '@wacrm/firestore';
import { enqueue, openQueue } from '@wacrm/queue';
import {
  expectEventually,
  useTestFirestore,
  useTestRedis,
  waitForQueueIdle,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { FirestoreStore } from './data-access/firestore-store.js';
import { chaosJobs, rng } from './test-support/chaos-fixture.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let redis: TestRedis;
let fs: TestFirestore;

beforeAll(() => {
  // The chaos test runs the built service, as production does.
  execFileSync(
    'npx',
    ['turbo', 'run', 'build', '--filter=@wacrm/ingest', '--output-logs=errors-only'],
    {
      cwd: ROOT,
      stdio: 'pipe',
    },
  );
}, 300_000);

afterAll(async () => {
  await redis?.cleanup();
  await fs?.close();
});

function startIngest(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['services/ingest/dist/main.js'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => text };
}

describe('ingest under SIGKILL', () => {
  it('when 10,000 messages over 30 accounts arrive while ingest is killed 5 times, then exactly 10,000 messages are stored and counters equal the truth', async () => {
    redis = await useTestRedis();
    fs = useTestFirestore();
    const queue = openQueue(WaInboundQueue, { connection: redis.connection, prefix: redis.prefix });
    const { jobs, truth } = chaosJobs({
      total: 10_000,
      accounts: 30,
      threadsPerAccount: 8,
      maxPerJob: 40,
      duplicateRatio: 0.15,
      seed: 20260107,
    });
    for (let i = 0; i < jobs.length; i += 100) {
      await Promise.all(
        jobs.slice(i, i + 100).map((job) => enqueue(queue, 'ingest-messages', job)),
      );
    }

    const env = {
      ...fs.env,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: redis.prefix,
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      INGEST_JOB_LOCK_MS: '2000',
      INGEST_STALLED_INTERVAL_MS: '1000',
      INGEST_ACCOUNT_LOCK_TTL_MS: '2000',
    };
    const random = rng(7);
    // Kill at random moments: when the completed-job count passes random marks.
    const marks = Array.from({ length: 5 }, () =>
      Math.floor(jobs.length * (0.05 + random() * 0.8)),
    ).sort((a, b) => a - b);
    let ingest = startIngest(env);
    let kills = 0;
    try {
      for (const mark of marks) {
        await expectEventually(
          async () => expect(await queue.queue.getCompletedCount()).toBeGreaterThanOrEqual(mark),
          { timeoutMs: 120_000, intervalMs: 20 },
        );
        const exited = once(ingest.child, 'exit');
        ingest.child.kill('SIGKILL');
        await exited;
        kills += 1;
        ingest = startIngest(env);
      }
      await waitForQueueIdle(queue.queue, { timeoutMs: 240_000 });
    } finally {
      const exited = once(ingest.child, 'exit');
      ingest.child.kill('SIGTERM');
      await exited;
      await queue.queue.close();
    }
    expect(kills).toBe(5);
    expect(await queue.queue.getFailedCount()).toBe(0);

    const store = new FirestoreStore(fs.db);
    const seen = new Set<string>();
    let docs = 0;
    for (const t of truth.values()) {
      const threadId = threadIdFor(t.accountId, t.jid);
      const snap = await store.c.messages(threadId).get();
      for (const d of snap.docs) {
        expect(seen.has(d.id), `message ${d.id} stored twice`).toBe(false);
        seen.add(d.id);
        docs += 1;
      }
      expect(new Set(snap.docs.map((d) => d.id))).toEqual(t.ids);
      const thread = (await store.threadRef(threadId).get()).data();
      expect(thread).toMatchObject({
        messageCount: t.ids.size,
        unreadCount: t.unread,
        lastMessageAt: new Date(t.lastAt * 1000),
        lastMessageId: t.lastId,
        lastMessageText: t.lastText,
      });
    }
    expect(docs).toBe(10_000);
    expect((await fs.db.collection('threads').get()).size).toBe(truth.size);
  }, 600_000);
});
