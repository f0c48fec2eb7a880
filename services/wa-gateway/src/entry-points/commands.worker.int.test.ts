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
import { AccountSession } from '../domain/account-session.js';
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

/** The command worker of account wa-01 over this test's Redis, for `session`. */
async function startWorkerFor(session: AccountSession) {
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
  return { inbound, commands };
}

describe('send-message command worker', () => {
  it('when a send fails on its last attempt, then the result it reports is final (the outbox can end failed, with the reason)', async () => {
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
    const { inbound, commands } = await startWorkerFor(session);

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

describe('mark-read command worker (issue 20 item 2)', () => {
  it("when a mark-read command is queued, then the session's socket gets readMessages with the received keys only", async () => {
    const read: unknown[][] = [];
    // AccountSession's own markRead over a connected socket that records what Baileys was given.
    const session = Object.assign(Object.create(AccountSession.prototype) as AccountSession, {
      accountId: 'wa-01',
      lease: { token: 7 },
      status: 'connected',
      log: captureLogger().logger,
      conn: {
        readMessages: (keys: unknown[]) => {
          read.push(keys);
          return Promise.resolve();
        },
      },
    });
    const { commands } = await startWorkerFor(session);
    const jid = '40712345678@s.whatsapp.net';
    const job = await enqueue(commands, 'mark-read', {
      accountId: 'wa-01',
      threadId: 'wa-01:40712345678',
      reason: 'open',
      keys: [
        { id: 'IN1', remoteJid: jid, fromMe: false, participant: null },
        { id: 'OUT1', remoteJid: jid, fromMe: true, participant: null },
        {
          id: 'G1',
          remoteJid: '1203@g.us',
          fromMe: false,
          participant: '40700000001@s.whatsapp.net',
        },
      ],
    });
    await expect.poll(() => read.length, { timeout: 20_000 }).toBe(1);
    expect(read[0]).toEqual([
      { id: 'IN1', remoteJid: jid, fromMe: false },
      {
        id: 'G1',
        remoteJid: '1203@g.us',
        fromMe: false,
        participant: '40700000001@s.whatsapp.net',
      },
    ]);
    await expect
      .poll(async () => (await Job.fromId(commands.queue, job.id!))?.getState())
      .toBe('completed');
  });
});
