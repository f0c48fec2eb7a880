// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestMessagesJob, MessageDoc } from '@wacrm/contracts';
import { ingestMessages } from '../../ingest/src/domain/messages.handlers.js';
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

async function ingestJobsOf(accountId: string, messageId: string): Promise<IngestMessagesJob[]> {
  const jobs = await env.inbound.queue.getJobs(['waiting', 'delayed', 'completed']);
  return jobs
    .filter((j) => j.name === 'ingest-messages')
    .map((j) => j.data as IngestMessagesJob)
    .filter((d) => d.accountId === accountId && d.messages.some((m) => m.key.id === messageId))
    .sort((a, b) => a.observedAt.localeCompare(b.observedAt));
}

async function storedMessages(accountId: string, messageId: string): Promise<MessageDoc[]> {
  const threads = await firestore.db
    .collection('threads')
    .where('accountId', '==', accountId)
    .get();
  const found: MessageDoc[] = [];
  for (const thread of threads.docs) {
    const doc = await thread.ref.collection('messages').doc(messageId).get();
    if (doc.exists) found.push(doc.data() as MessageDoc);
  }
  return found;
}

describe('an undecryptable message and its resend (real Baileys against the emulator)', () => {
  it('when a message cannot be decrypted and the contact resends it, then the stored placeholder becomes the message: one document, content filled, resendRequested cleared', async () => {
    const id = 'resend-1';
    await env.paired(id);
    const fault = await env.control(`/accounts/${id}/faults`, {
      kind: 'corrupt-inbound',
      count: 1,
    });
    expect(fault.status).toBe(202);
    const sent = await env.control(`/accounts/${id}/inbound`, {
      from: '+40722111222',
      name: 'Ana',
      text: 'Mesaj stricat apoi retrimis',
    });
    expect(sent.status).toBe(202);
    const messageId = (sent.json as { messageIds: string[] }).messageIds[0]!;
    // Both states of the message reach wa-inbound: the placeholder, then the decrypted resend.
    let jobs: IngestMessagesJob[] = [];
    await expectEventually(
      async () => {
        jobs = await ingestJobsOf(id, messageId);
        expect(
          jobs.map((j) => j.messages.find((m) => m.key.id === messageId)!.undecryptable),
        ).toEqual([true, false]);
      },
      { timeoutMs: 20_000 },
    );
    const deps = env.ingestDeps();
    await ingestMessages(jobs[0]!, deps, env.logger);
    const placeholder = await storedMessages(id, messageId);
    expect(placeholder).toHaveLength(1);
    expect(placeholder[0]).toMatchObject({ resendRequested: true });
    await ingestMessages(jobs[1]!, deps, env.logger);
    const stored = await storedMessages(id, messageId);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.body).toBe('Mesaj stricat apoi retrimis');
    expect(stored[0]!.type).toBe('text');
    expect(stored[0]!.resendRequested ?? false).toBe(false);
    // A replay of either job changes nothing.
    await ingestMessages(jobs[0]!, deps, env.logger);
    const again = await storedMessages(id, messageId);
    expect(again).toHaveLength(1);
    expect(again[0]!.body).toBe('Mesaj stricat apoi retrimis');
    expect(again[0]!.resendRequested ?? false).toBe(false);
    const thread = await firestore.db.collection('threads').where('accountId', '==', id).get();
    expect(thread.docs.map((d) => d.get('messageCount') as number)).toEqual([1]);
  });
});
