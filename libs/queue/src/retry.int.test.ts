import { Job, type Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, defineQueue } from '@wacrm/contracts';
import { captureLogger, expectEventually, useTestRedis, type TestRedis } from '@wacrm/testing';
import {
  DEFAULT_JOB_OPTIONS,
  enqueue,
  openQueue,
  startWorker,
  type ContractQueue,
} from './index.js';

const Work = defineQueue('retry-items', { 'do-work': z.object({ id: z.string() }) });

let redis: TestRedis;
let queue: ContractQueue<typeof Work>;
let worker: Worker | undefined;

beforeEach(async () => {
  redis = await useTestRedis();
  queue = openQueue(Work, { connection: redis.connection, prefix: redis.prefix });
});

afterEach(async () => {
  await worker?.close();
  await queue.queue.close();
  await redis.cleanup();
});

function start(processor: () => Promise<unknown>) {
  worker = startWorker(
    Work,
    { 'do-work': processor },
    { connection: redis.connection, prefix: redis.prefix, logger: captureLogger().logger },
  );
}

// The default policy with a 2-ms base delay, so a long outage fits in a test.
const fast = { backoff: { ...(DEFAULT_JOB_OPTIONS.backoff as object), delay: 2 } } as object;

describe('retries of transient failures', () => {
  it('when a dependency is down for 20 attempts (beyond the old budget of 8), then the job is retried until it succeeds', async () => {
    let calls = 0;
    start(() => {
      calls += 1;
      // Firestore/Redis outage: a transient error, again and again.
      if (calls <= 20)
        return Promise.reject(new Error('14 UNAVAILABLE: No connection established'));
      return Promise.resolve('stored');
    });
    await enqueue(queue, 'do-work', { id: 'a' }, { jobId: 'outage-a', ...fast });
    await expectEventually(
      async () => {
        const job = await Job.fromId(queue.queue, 'outage-a');
        expect(await job?.getState()).toBe('completed');
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    // The fault happened: 20 failed attempts before the success.
    expect(calls).toBe(21);
    expect((await Job.fromId(queue.queue, 'outage-a'))?.attemptsMade).toBeGreaterThanOrEqual(20);
  });

  it('when the worker holding a job dies 3 times (its lock lapses each time), then the job is taken over every time and completes', async () => {
    // A SIGKILLed process is the most transient fault there is; BullMQ's default (maxStalledCount
    // 1) failed the job for good at its second stall — the chaos test lost outbox sends so.
    let calls = 0;
    const crashes = 3;
    const stalls = { lockDuration: 1_000, stalledInterval: 300 };
    const deps = {
      connection: redis.connection,
      prefix: redis.prefix,
      logger: captureLogger().logger,
    };
    const processor = (): Promise<unknown> => {
      calls += 1;
      // Until the last run the worker "dies" holding the job: it never answers again.
      return calls <= crashes ? new Promise(() => undefined) : Promise.resolve('sent');
    };
    await enqueue(queue, 'do-work', { id: 'c' }, { jobId: 'stalled-c', ...fast });
    for (let crash = 1; crash <= crashes; crash++) {
      const dying = startWorker(Work, { 'do-work': processor }, deps, stalls);
      await expectEventually(
        async () => {
          const job = await Job.fromId(queue.queue, 'stalled-c');
          expect(job?.failedReason ?? null).toBeNull();
          expect(calls).toBe(crash);
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      // Gone without a word: no lock renewal, no completion, no failure.
      await dying.close(true);
    }
    worker = startWorker(Work, { 'do-work': processor }, deps, stalls);
    await expectEventually(
      async () => {
        const job = await Job.fromId(queue.queue, 'stalled-c');
        expect(job?.failedReason ?? null).toBeNull();
        expect(await job?.getState()).toBe('completed');
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(calls).toBe(crashes + 1);
  });

  it('when a payload cannot parse, then it fails once and stays failed for inspection', async () => {
    let calls = 0;
    start(() => Promise.resolve((calls += 1)));
    await queue.queue.add('do-work', { id: 42 }, { jobId: 'poison', ...fast });
    await expectEventually(async () => {
      const job = await Job.fromId(queue.queue, 'poison');
      expect(await job?.getState()).toBe('failed');
      expect(job?.attemptsMade).toBe(1);
    });
    expect(calls).toBe(0);
  });

  it('when the processor throws a permanent AppError, then it fails once', async () => {
    let calls = 0;
    start(() => {
      calls += 1;
      return Promise.reject(new AppError('NOT_FOUND', 'outbox/x does not exist'));
    });
    await enqueue(queue, 'do-work', { id: 'b' }, { jobId: 'permanent-b', ...fast });
    await expectEventually(async () => {
      expect(await (await Job.fromId(queue.queue, 'permanent-b'))?.getState()).toBe('failed');
    });
    expect(calls).toBe(1);
  });
});
