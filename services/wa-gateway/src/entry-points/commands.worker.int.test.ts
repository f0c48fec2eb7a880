import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WaInboundQueue, waCommandsQueue, type SendResultJob } from '@wacrm/contracts';
import { enqueue, openQueue } from '@wacrm/queue';
import { captureLogger, useTestRedis, type TestRedis } from '@wacrm/testing';
import { InboundPublisher } from '../data-access/inbound-publisher.js';
import { Spool } from '../data-access/spool.js';
import type { AccountSession } from '../domain/account-session.js';
import { startCommandWorker } from './commands.worker.js';

let redis: TestRedis;
const closers: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  redis = await useTestRedis();
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await redis.cleanup();
});

describe('send-message command worker', () => {
  it('when a send fails on its last attempt, then the result it reports is final (the outbox can end failed, with the reason)', async () => {
    const { logger } = captureLogger();
    const queueDeps = { connection: redis.connection, prefix: redis.prefix };
    const inbound = openQueue(WaInboundQueue, queueDeps);
    const commands = openQueue(waCommandsQueue('wa-01'), queueDeps);
    const spool = new Spool({
      dir: await mkdtemp(join(tmpdir(), 'cmd-worker-')),
      instanceId: 'gw-1',
      orphanAfterMs: 60_000,
    });
    await spool.open();
    const publisher = new InboundPublisher(inbound, redis.connection, spool, logger);
    let sendCalls = 0;
    // The session's socket is gone (a transient error): every attempt fails the same way.
    const session = {
      accountId: 'wa-01',
      lease: { token: 7 },
      send: () => {
        sendCalls += 1;
        return Promise.reject(new Error('Connection Closed'));
      },
    } as unknown as AccountSession;
    const worker = startCommandWorker(session, {
      ...queueDeps,
      logger,
      publisher,
      instanceId: 'gw-1',
    });
    closers.push(
      () => inbound.queue.close(),
      () => commands.queue.close(),
      () => spool.close(),
      () => worker.close(),
    );

    await enqueue(
      commands,
      'send-message',
      {
        requestId: 'req-final-01',
        accountId: 'wa-01',
        to: '40712345678',
        waMessageId: 'WACRMREQFINAL01',
        text: 'Bună',
      },
      { jobId: 'send.req-final-01', attempts: 2, backoff: { type: 'fixed', delay: 10 } },
    );
    const deadline = Date.now() + 20_000;
    let result: Job | undefined;
    while (result === undefined && Date.now() < deadline) {
      result = (await inbound.queue.getJobs(['waiting'])).find(
        (j) => j.name === 'record-send-result',
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    // The fault happened: both attempts reached the socket and failed.
    expect(sendCalls).toBe(2);
    expect(await (await Job.fromId(commands.queue, 'send.req-final-01'))?.getState()).toBe(
      'failed',
    );
    // No attempt follows, so the result must not say "retryable" (which leaves the outbox `sending`).
    expect(result?.data as SendResultJob).toMatchObject({
      requestId: 'req-final-01',
      outcome: 'failed',
      error: 'Connection Closed',
      retryable: false,
    });
  });
});
