import { trace } from '@opentelemetry/api';
import { Job, type Worker } from 'bullmq';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, defineQueue } from '@wacrm/contracts';
import {
  captureLogger,
  expectEventually,
  useTestRedis,
  useTestTelemetry,
  waitForQueueIdle,
  type TestRedis,
  metricValue,
} from '@wacrm/testing';
import { freePort } from '@wacrm/emulators';
import {
  createShutdown,
  enqueue,
  openQueue,
  serveWorkerOps,
  startWorker,
  type ContractQueue,
} from './index.js';

const telemetry = useTestTelemetry('queue-int');
afterAll(() => telemetry.shutdown());

const Work = defineQueue('work-items', {
  'do-work': z.object({ id: z.string(), n: z.number().int() }),
});

let redis: TestRedis;
let queue: ContractQueue<typeof Work>;
const workers: Worker[] = [];

beforeEach(async () => {
  redis = await useTestRedis();
  queue = openQueue(Work, {
    connection: redis.connection,
    prefix: redis.prefix,
    tracerName: 'producer',
  });
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await queue.queue.close();
  await redis.cleanup();
});

function worker(
  processor: (p: { id: string; n: number }) => Promise<unknown>,
  logger = captureLogger().logger,
) {
  const w = startWorker(
    Work,
    { 'do-work': (payload) => processor(payload) },
    { connection: redis.connection, prefix: redis.prefix, logger, tracerName: 'consumer' },
  );
  workers.push(w);
  return w;
}

describe('libs/queue against a real Redis', () => {
  it('when a job has an invalid payload, then it fails after one attempt and keeps the validation error', async () => {
    let calls = 0;
    const log = captureLogger();
    worker(() => Promise.resolve(calls++), log.logger);
    // A foreign producer bypassing enqueue(): the worker must still refuse it.
    const job = await queue.queue.add('do-work', { id: 'a', n: 'three' }, { attempts: 5 });

    const failed = await expectEventually(async () => {
      // State first, then the hash: a job read before its move would miss failedReason/returnvalue.
      expect(await queue.queue.getJobState(job.id!)).toBe('failed');
      return (await Job.fromId(queue.queue, job.id!))!;
    });
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/invalid payload for work-items\/do-work: n: /);
    expect(calls).toBe(0);
    expect(await queue.queue.getFailedCount()).toBe(1);
    expect(log.lines().some((l) => l.jobId === job.id && l.level === 'error')).toBe(true);
  });

  it('when the producer passes an invalid payload, then enqueue throws and nothing is queued', async () => {
    await expect(enqueue(queue, 'do-work', { id: 'x', n: 1.5 })).rejects.toBeInstanceOf(AppError);
    expect(await queue.queue.count()).toBe(0);
  });

  it('when a processor fails transiently, then the job is retried with exponential backoff and succeeds', async () => {
    const attemptsAt: number[] = [];
    worker(() => {
      attemptsAt.push(Date.now());
      if (attemptsAt.length < 3) return Promise.reject(new Error('ECONNRESET (simulated)'));
      return Promise.resolve('done');
    });
    const job = await enqueue(
      queue,
      'do-work',
      { id: 'r', n: 1 },
      { attempts: 5, backoff: { type: 'exponential', delay: 200 } },
    );

    const done = await expectEventually(async () => {
      // State first, then the hash: a job read before its move would miss failedReason/returnvalue.
      expect(await queue.queue.getJobState(job.id!)).toBe('completed');
      return (await Job.fromId(queue.queue, job.id!))!;
    });
    expect(done.attemptsMade).toBe(3);
    expect(done.returnvalue).toBe('done');
    // Exponential: ~200 ms before the 2nd attempt, ~400 ms before the 3rd.
    expect(attemptsAt[1]! - attemptsAt[0]!).toBeGreaterThanOrEqual(190);
    expect(attemptsAt[2]! - attemptsAt[1]!).toBeGreaterThanOrEqual(390);
  });

  it('when a processor fails permanently, then it is not retried', async () => {
    let calls = 0;
    worker(() => {
      calls += 1;
      return Promise.reject(new AppError('NOT_FOUND', 'thread gone'));
    });
    const job = await enqueue(
      queue,
      'do-work',
      { id: 'p', n: 1 },
      { attempts: 5, backoff: { type: 'fixed', delay: 10 } },
    );
    const failed = await expectEventually(async () => {
      // State first, then the hash: a job read before its move would miss failedReason/returnvalue.
      expect(await queue.queue.getJobState(job.id!)).toBe('failed');
      return (await Job.fromId(queue.queue, job.id!))!;
    });
    expect(failed.failedReason).toBe('NOT_FOUND: thread gone');
    expect(calls).toBe(1);
  });

  it('when a trace is started before enqueue(), then the worker runs inside the same trace', async () => {
    const seen: Array<string | undefined> = [];
    worker(() => {
      seen.push(trace.getActiveSpan()?.spanContext().traceId);
      return Promise.resolve();
    });
    const traceId = await telemetry.tracer.startActiveSpan('POST /api/test', async (span) => {
      await enqueue(queue, 'do-work', { id: 't', n: 1 });
      span.end();
      return span.spanContext().traceId;
    });
    await expectEventually(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toBe(traceId);
    const spans = await telemetry.spans();
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    // The HTTP span, the producer's add span and the consumer's process span.
    expect(inTrace.length).toBeGreaterThanOrEqual(3);
  });

  it('when SIGTERM-style shutdown runs, then the active job finishes before the worker closes', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    let finished = false;
    const w = worker(async () => {
      started = true;
      await gate;
      finished = true;
    });
    const exits: number[] = [];
    const shutdown = createShutdown({
      logger: captureLogger().logger,
      signals: [],
      exit: (c) => exits.push(c),
    });
    shutdown.add('worker', () => w.close());
    await enqueue(queue, 'do-work', { id: 's', n: 1 });
    await expectEventually(() => expect(started).toBe(true));

    const closing = shutdown.run('SIGTERM');
    setTimeout(release, 100);
    await closing;
    expect(finished).toBe(true);
    expect(exits).toEqual([0]);
    await waitForQueueIdle(queue.queue);
    expect(await queue.queue.getCompletedCount()).toBe(1);
  });

  it('when a worker serves ops, then /metrics counts its completed and failed jobs and /health pings Redis', async () => {
    const shutdown = createShutdown({ logger: captureLogger().logger, exit: () => undefined });
    const w = worker((p) =>
      p.n < 0
        ? Promise.reject(new AppError('VALIDATION_FAILED', 'negative'))
        : Promise.resolve(p.n),
    );
    const port = await freePort();
    await serveWorkerOps({ OPS_PORT: port, OPS_HOST: '127.0.0.1' }, w, {
      service: 'queue-int',
      redis: redis.connection,
      logger: captureLogger().logger,
      shutdown,
    });
    try {
      await enqueue(queue, 'do-work', { id: 'ok-1', n: 1 });
      await enqueue(queue, 'do-work', { id: 'bad-1', n: -1 }, { attempts: 1 });
      await waitForQueueIdle(queue.queue);
      const metrics = await expectEventually(async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(metricValue(text, 'wacrm_jobs_total', { outcome: 'completed' })).toBe(1);
        expect(metricValue(text, 'wacrm_jobs_total', { outcome: 'failed' })).toBe(1);
        return text;
      });
      expect(metrics).toMatch(/service="queue-int"/);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
    } finally {
      await shutdown.run('test');
    }
  });
});
