import { EventEmitter } from 'node:events';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { WaInboundQueue } from '@wacrm/contracts';
import type { ContractQueue } from '@wacrm/queue';
import { captureLogger, expectEventually } from '@wacrm/testing';
import { InboundPublisher } from './inbound-publisher.js';
import { Spool } from './spool.js';

/**
 * A wa-inbound queue on a flapping Redis: every third single add fails (a timeout after a
 * reconnect), bulk adds of the replay get through.
 */
function flakyQueue() {
  const added = new Map<string, number>();
  const state = { adds: 0, failures: 0 };
  const later = () => new Promise((r) => setImmediate(r));
  const queue = {
    async add(_name: string, _data: unknown, opts: { jobId: string }) {
      await later();
      if (state.adds++ % 3 === 0) {
        state.failures += 1;
        throw new Error('Connection is closed.');
      }
      added.set(opts.jobId, (added.get(opts.jobId) ?? 0) + 1);
    },
    async addBulk(jobs: Array<{ opts: { jobId: string } }>) {
      await later();
      for (const j of jobs) added.set(j.opts.jobId, (added.get(j.opts.jobId) ?? 0) + 1);
    },
  };
  const target = { contract: WaInboundQueue, queue } as unknown as ContractQueue<
    typeof WaInboundQueue
  >;
  return { target, added, state };
}

function sendResult(i: number) {
  return {
    accountId: 'acc-1',
    instanceId: 'gw-test',
    fencingToken: 1,
    observedAt: new Date(0).toISOString(),
    requestId: `request-${String(i).padStart(6, '0')}`,
    waMessageId: `WAMSG${String(i).padStart(6, '0')}`,
    outcome: 'sent' as const,
    error: null,
    retryable: false,
  };
}

describe('InboundPublisher with its disk spool', () => {
  it('when Redis flaps while the spool is replayed and emptied, then every event reaches wa-inbound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wa-spool-unit-'));
    const spool = new Spool({ dir, instanceId: 'gw-test', orphanAfterMs: 30_000 });
    await spool.open();
    const { target, added, state } = flakyQueue();
    const redis = Object.assign(new EventEmitter(), { status: 'ready' }) as unknown as Redis;
    const publisher = new InboundPublisher(target, redis, spool, captureLogger().logger);

    const EVENTS = 1_500;
    const ids: string[] = [];
    const inFlight: Array<Promise<void>> = [];
    // Events keep arriving while replays finish and the spool is emptied.
    for (let i = 0; i < EVENTS; i++) {
      const id = `job-${i}`;
      ids.push(id);
      inFlight.push(publisher.publish('record-send-result', sendResult(i), id));
      await new Promise((r) => (i % 7 === 0 ? setTimeout(r, 5) : setImmediate(r)));
    }
    await Promise.all(inFlight);
    // The fault happened: writes to Redis really failed, many times.
    expect(state.failures).toBeGreaterThanOrEqual(3);
    expect(publisher.spooled).toBeGreaterThan(100);

    await expectEventually(
      async () => {
        await publisher.replay();
        expect(publisher.backlog).toBe(0);
        expect(ids.filter((id) => !added.has(id))).toEqual([]);
      },
      { timeoutMs: 20_000 },
    );
    expect([...added.values()].filter((n) => n !== 1)).toEqual([]);
    await spool.close();
    // Every replayed file was removed; the empty active one goes at close.
    expect(await readdir(dir)).toEqual([]);
  }, 60_000);
});
