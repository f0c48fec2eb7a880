// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { proto } from '@whiskeysockets/baileys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestHistoryJob } from '@wacrm/contracts';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { EmulatorSessions } from '../test/emulator-session.js';

const firestore = useTestFirestore();
let redis: TestRedis;
let env: EmulatorSessions;

beforeAll(async () => {
  redis = await useTestRedis();
  // Two chunks: progress 50 then 100.
  env = await EmulatorSessions.start(firestore, redis, { historyChunkMessages: 40 });
});

afterAll(async () => {
  await env?.close();
  await redis?.cleanup();
  await firestore.close();
});

const FULL = proto.HistorySync.HistorySyncType.FULL;

describe('full history sync (WHATSAPP_SYNC_FULL_HISTORY, real Baileys against the emulator)', () => {
  it('when full history is on and the phone sends FULL history chunks, then every message of them reaches wa-inbound with its progress', async () => {
    const id = 'history-full';
    const session = await env.paired(id, { syncFullHistory: true });
    const history = await env.control(`/accounts/${id}/history`, {
      threads: 4,
      messagesPerThread: 20,
      syncType: 'FULL',
    });
    expect(history.status).toBe(202);
    const expected = (history.json as { messageIds: string[] }).messageIds;
    expect(expected).toHaveLength(80);
    let jobs: IngestHistoryJob[] = [];
    await expectEventually(
      async () => {
        jobs = (await env.inbound.queue.getJobs(['waiting', 'delayed', 'completed']))
          .filter((j) => j.name === 'ingest-history')
          .map((j) => j.data as IngestHistoryJob)
          .filter((d) => d.accountId === id && d.syncType === FULL);
        const seen = new Set(jobs.flatMap((d) => d.messages.map((m) => m.key.id)));
        expect(expected.filter((m) => !seen.has(m))).toEqual([]);
      },
      { timeoutMs: 20_000 },
    );
    // Progress stays visible: each chunk carries the phone's percentage, the last one 100.
    expect(jobs.map((d) => d.progress).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([50, 100]);
    expect(session.status).toBe('connected');
  });
});
