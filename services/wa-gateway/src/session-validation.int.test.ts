// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestMessagesJob } from '@wacrm/contracts';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { EmulatorSessions } from '../test/emulator-session.js';

const firestore = useTestFirestore();
let redis: TestRedis;
let env: EmulatorSessions;

beforeAll(async () => {
  redis = await useTestRedis();
  env = await EmulatorSessions.start(firestore, redis);
});

afterAll(async () => {
  await env?.close();
  await redis?.cleanup();
  await firestore.close();
});

describe('a message that fails validation (real Baileys against the emulator)', () => {
  it('when one message of an offline batch has an id the contract refuses, then the others and the connection status are published and the bad one is kept for inspection', async () => {
    const id = 'bad-id';
    const first = await env.paired(id);
    await first.stop(true);
    // Queued while the device is offline: Baileys receives them in one batch at the next login.
    const ids: string[] = [];
    const badId = `3EB0${'A'.repeat(300)}`;
    for (const [i, messageId] of [undefined, badId, undefined, undefined].entries()) {
      const sent = await env.control(`/accounts/${id}/inbound`, {
        from: '+40722444555',
        text: `Mesaj ${i + 1}`,
        ...(messageId !== undefined ? { messageId } : {}),
      });
      expect(sent.status).toBe(202);
      ids.push((sent.json as { messageIds: string[] }).messageIds[0]!);
    }
    const session = await env.open(id);
    await env.waitStatus(session, 'connected');
    const good = ids.filter((m) => m !== badId);
    await expectEventually(
      async () => {
        const jobs = await env.inbound.queue.getJobs(['waiting', 'delayed', 'completed']);
        const published = new Set(
          jobs
            .filter((j) => j.name === 'ingest-messages')
            .flatMap((j) => (j.data as IngestMessagesJob).messages.map((m) => m.key.id)),
        );
        expect(good.filter((m) => !published.has(m))).toEqual([]);
        expect((await env.statuses(id)).at(-1)?.status).toBe('connected');
      },
      { timeoutMs: 20_000 },
    );
    await expectEventually(async () => {
      const rejected = await env.publisher.rejectedEvents();
      expect(
        rejected.some((r) => r.jobName === 'ingest-messages' && r.payload.includes(badId)),
      ).toBe(true);
    });
  });
});
