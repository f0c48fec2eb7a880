// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestHistoryJob } from '@wacrm/contracts';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { EmulatorSessions } from '../test/emulator-session.js';

const firestore = useTestFirestore();
let redis: TestRedis;
let env: EmulatorSessions;

beforeAll(async () => {
  redis = await useTestRedis();
  // One chunk may hold the whole history, as a merged history set does.
  env = await EmulatorSessions.start(firestore, redis, { historyChunkMessages: 25_000 });
});

afterAll(async () => {
  await env?.close();
  await redis?.cleanup();
  await firestore.close();
});

describe('large history (real Baileys against the emulator)', () => {
  it('when history larger than one job may carry arrives while the account is offline, then every message reaches wa-inbound, split, none dropped, and the account is connected', async () => {
    const id = 'history-large';
    const first = await env.paired(id);
    await first.stop(true);
    // 21,000 messages, queued for the device while it is offline, arrive as one history set: more
    // than one ingest-history job may carry.
    const history = await env.control(`/accounts/${id}/history`, {
      threads: 210,
      messagesPerThread: 100,
    });
    expect(history.status).toBe(202);
    const expected = new Set((history.json as { messageIds: string[] }).messageIds);
    expect(expected.size).toBe(21_000);
    const session = await env.open(id);
    await env.waitStatus(session, 'connected', 60_000);
    const seen = new Set<string>();
    await expectEventually(
      async () => {
        const jobs = await env.inbound.queue.getJobs(['waiting', 'delayed', 'completed']);
        seen.clear();
        for (const job of jobs) {
          if (job.name !== 'ingest-history') continue;
          const data = job.data as IngestHistoryJob;
          if (data.accountId !== id) continue;
          expect(data.messages.length).toBeLessThanOrEqual(20_000);
          for (const m of data.messages) seen.add(m.key.id);
        }
        expect([...expected].filter((m) => !seen.has(m)).length).toBe(0);
      },
      { timeoutMs: 90_000, intervalMs: 2_000 },
    );
    const statuses = (await env.statuses(id)).map((s) => s.status);
    expect(statuses.at(-1)).toBe('connected');
  }, 240_000);
});
