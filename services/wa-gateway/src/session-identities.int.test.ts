// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityMappingsJob, IngestHistoryJob, IngestMessagesJob } from '@wacrm/contracts';
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

async function jobsNamed<T>(accountId: string, name: string): Promise<T[]> {
  const jobs = await env.inbound.queue.getJobs(['waiting', 'delayed', 'completed']);
  return jobs
    .filter((j) => j.name === name && (j.data as { accountId: string }).accountId === accountId)
    .map((j) => j.data as T);
}

/** Every LID↔phone pair Baileys wrote to the key store (`lid-mapping-<pn user>` = lid user). */
async function keyStoreMappings(accountId: string): Promise<Set<string>> {
  const stored = await env.store.load(accountId);
  const pairs = new Set<string>();
  for (const [name, text] of stored.keys) {
    if (!name.startsWith('lid-mapping-') || name.endsWith('_reverse')) continue;
    const lidUser = JSON.parse(text) as unknown;
    if (typeof lidUser !== 'string') continue;
    pairs.add(`${lidUser}@lid=${name.slice('lid-mapping-'.length)}@s.whatsapp.net`);
  }
  return pairs;
}

describe('the phone number behind a LID (real Baileys against the emulator)', () => {
  it('when a LID contact writes, then the message keeps its alternate ids and addressing mode', async () => {
    const id = 'lid-live';
    await env.paired(id);
    const sent = await env.control(`/accounts/${id}/inbound`, {
      from: '+40722333444',
      text: 'Bună, sunt pe LID',
    });
    expect(sent.status).toBe(202);
    const messageId = (sent.json as { messageIds: string[] }).messageIds[0]!;
    await expectEventually(async () => {
      const jobs = await jobsNamed<IngestMessagesJob>(id, 'ingest-messages');
      const raw = jobs.flatMap((j) => j.messages).find((m) => m.key.id === messageId);
      expect(raw?.key.remoteJid).toMatch(/@lid$/);
      expect(raw?.keyAlt).toEqual({
        remoteJidAlt: '40722333444@s.whatsapp.net',
        participantAlt: null,
        addressingMode: 'lid',
      });
    });
  });

  it('when history arrives, then every LID mapping Baileys stored in its key store is published to ingest', async () => {
    const id = 'lid-history';
    await env.paired(id);
    const history = await env.control(`/accounts/${id}/history`, {
      threads: 5,
      messagesPerThread: 2,
    });
    expect(history.status).toBe(202);
    await expectEventually(
      async () => {
        const chunks = await jobsNamed<IngestHistoryJob>(id, 'ingest-history');
        expect(chunks.flatMap((c) => c.messages).length).toBeGreaterThanOrEqual(10);
      },
      { timeoutMs: 20_000 },
    );
    let stored = new Set<string>();
    await expectEventually(async () => {
      stored = await keyStoreMappings(id);
      // Five history contacts and the account itself.
      expect(stored.size).toBeGreaterThanOrEqual(6);
      const published = new Set(
        (await jobsNamed<IdentityMappingsJob>(id, 'map-identities')).flatMap((j) =>
          j.mappings.map((m) => `${m.lid}=${m.pn}`),
        ),
      );
      expect([...stored].filter((pair) => !published.has(pair))).toEqual([]);
    });
  });
});
