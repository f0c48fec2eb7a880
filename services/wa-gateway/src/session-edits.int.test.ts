// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestMessagesJob, MessageDoc } from '@wacrm/contracts';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { ingestMessages } from '../../ingest/src/domain/messages.handlers.js';
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

async function send(accountId: string, body: Record<string, unknown>): Promise<string> {
  const sent = await env.control(`/accounts/${accountId}/inbound`, body);
  expect(sent.status).toBe(202);
  return (sent.json as { messageIds: string[] }).messageIds[0]!;
}

/** Every ingest-messages job of the account, in the order the gateway published them. */
async function ingestJobs(accountId: string, ids: string[]): Promise<IngestMessagesJob[]> {
  let jobs: IngestMessagesJob[] = [];
  await expectEventually(async () => {
    const all = (await env.inbound.queue.getJobs(['waiting', 'delayed', 'completed']))
      .filter((j) => j.name === 'ingest-messages')
      .filter((j) => (j.data as IngestMessagesJob).accountId === accountId)
      .sort((a, b) => a.timestamp - b.timestamp);
    jobs = all.map((j) => j.data as IngestMessagesJob);
    const seen = new Set(jobs.flatMap((j) => j.messages.map((m) => m.key.id)));
    expect(ids.filter((id) => !seen.has(id))).toEqual([]);
  });
  return jobs;
}

async function stored(accountId: string, messageId: string): Promise<MessageDoc> {
  const threads = await firestore.db
    .collection('threads')
    .where('accountId', '==', accountId)
    .get();
  for (const thread of threads.docs) {
    const doc = await thread.ref.collection('messages').doc(messageId).get();
    if (doc.exists) return doc.data() as MessageDoc;
  }
  throw new Error(`message ${messageId} not stored`);
}

describe('edits and revokes (real Baileys against the emulator, then ingest)', () => {
  it('when a group member edits or revokes another member’s message, then nothing changes; the author’s own edit applies', async () => {
    const id = 'edits-group';
    await env.paired(id);
    const groupId = '120363000000001';
    const ana = '+40722000001';
    const bogdan = '+40722000002';
    const original = await send(id, { from: ana, groupId, text: 'Nunta pe 12 iunie' });
    const forged = await send(id, {
      from: bogdan,
      groupId,
      kind: 'edit',
      targetMessageId: original,
      text: 'Nunta a fost anulată',
    });
    const revoked = await send(id, {
      from: bogdan,
      groupId,
      kind: 'revoke',
      targetMessageId: original,
    });
    const own = await send(id, {
      from: ana,
      groupId,
      kind: 'edit',
      targetMessageId: original,
      text: 'Nunta pe 14 iunie',
    });
    const jobs = await ingestJobs(id, [original, forged, revoked, own]);
    const deps = env.ingestDeps();
    // Ana's message first, then Bogdan's forgeries, then Ana's own edit.
    for (const job of jobs) await ingestMessages(job, deps, env.logger);
    const message = await stored(id, original);
    expect(message.body).toBe('Nunta pe 12 iunie');
    expect(message.deleted).toBe(false);
    expect(message.editedBody).toBe('Nunta pe 14 iunie');
  });
});
