// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestMessagesJob } from '@wacrm/contracts';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { LeaseStore } from './data-access/lease.store.js';
import { EmulatorSessions } from '../test/emulator-session.js';
import { KillableStore } from '../test/killable-store.js';

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

async function published(accountId: string, messageId: string) {
  const jobs = await env.inbound.queue.getJobs(['waiting', 'completed']);
  return jobs
    .filter((j) => j.name === 'ingest-messages')
    .filter((j) => (j.data as IngestMessagesJob).accountId === accountId)
    .flatMap((j) => (j.data as IngestMessagesJob).messages)
    .find((m) => m.key.id === messageId);
}

/**
 * A new owner takes the account over (the old one is gone) and decrypts what the contact sends
 * next on the first try: no retry receipt was needed.
 */
async function nextOwnerDecrypts(id: string, contact: string) {
  await redis.connection.del(`${redis.prefix}:wa:lease:${id}`);
  const second = await env.open(id);
  await env.waitStatus(second, 'connected');
  const next = await env.control(`/accounts/${id}/inbound`, { from: contact, text: 'Al doilea' });
  const m2 = (next.json as { messageIds: string[] }).messageIds[0]!;
  await expectEventually(
    async () => {
      const raw = await published(id, m2);
      expect(raw).toBeDefined();
      expect(raw!.undecryptable).toBe(false);
      expect(raw!.message).toMatchObject({ conversation: 'Al doilea' });
    },
    { timeoutMs: 20_000 },
  );
  expect(env.emulator.receipts(id).filter((r) => r.type === 'retry')).toEqual([]);
}

describe('auth-state keys and a crash (real Baileys against the emulator)', () => {
  it('when the process dies right after Baileys receipted a message, then the restored session still decrypts what the contact sends next; writes per pairing and per 100 messages are measured', async () => {
    const id = 'keys-kill';
    const store = new KillableStore(env.store);
    const first = await env.paired(id, { store });
    // Pairing is over once the device's pre-keys reached WhatsApp and no write is left.
    await expectEventually(() => {
      const device = env.emulator.accountViews().find((a) => a.accountId === id)?.devices[0];
      expect(device?.preKeys ?? 0).toBeGreaterThan(0);
    });
    await store.quiet();
    const pairing = { commits: store.commits, keys: store.keyWrites, creds: store.credsWrites };
    // 100 messages from 4 contacts.
    const base = { commits: store.commits, keys: store.keyWrites, creds: store.credsWrites };
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const sent = await env.control(`/accounts/${id}/inbound`, {
        from: `+4072288800${i % 4}`,
        text: `Mesajul ${i + 1}`,
      });
      ids.push((sent.json as { messageIds: string[] }).messageIds[0]!);
    }
    await expectEventually(
      async () => {
        for (const m of ids) expect(await published(id, m)).toBeDefined();
      },
      { timeoutMs: 30_000 },
    );
    await store.quiet();
    const perHundred = {
      commits: store.commits - base.commits,
      keys: store.keyWrites - base.keys,
      creds: store.credsWrites - base.creds,
    };
    console.log(JSON.stringify({ firestoreWrites: { pairing, perHundred } }));

    // A new contact writes; Firestore is slow (300 ms a commit) and the process dies the moment
    // WhatsApp has Baileys' receipt.
    store.latencyMs = 300;
    const contact = '+40722999000';
    const sent = await env.control(`/accounts/${id}/inbound`, { from: contact, text: 'Primul' });
    const m1 = (sent.json as { messageIds: string[] }).messageIds[0]!;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (env.emulator.receipts(id).some((r) => r.messageId === m1)) {
          clearInterval(poll);
          store.kill();
          first.leaseLost();
          resolve();
        }
      }, 2);
    });
    await nextOwnerDecrypts(id, contact);
  }, 120_000);
  it('when Redis cannot be reached for the lease check, then a new contact’s Signal keys are still stored (fenced by the store’s token) and a crash then loses nothing', async () => {
    const id = 'keys-redis-down';
    // The session's fence check goes through its own connection, which the test cuts: with no
    // offline queue, every lease check fails at once, as while Redis is down.
    const leaseRedis = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    const leases = new LeaseStore(leaseRedis, redis.prefix, env.instanceId, 30_000);
    const store = new KillableStore(env.store);
    try {
      const first = await env.paired(id, { leases, store });
      await expectEventually(() => {
        const device = env.emulator.accountViews().find((a) => a.accountId === id)?.devices[0];
        expect(device?.preKeys ?? 0).toBeGreaterThan(0);
      });
      await store.quiet();
      const before = new Set((await env.store.load(id)).keys.keys());

      leaseRedis.disconnect();
      await expect(leases.assertHeld(first.lease)).rejects.toThrow();
      const contact = '+40722999100';
      const sent = await env.control(`/accounts/${id}/inbound`, { from: contact, text: 'Primul' });
      const m1 = (sent.json as { messageIds: string[] }).messageIds[0]!;
      await expectEventually(async () => expect(await published(id, m1)).toBeDefined(), {
        timeoutMs: 20_000,
      });
      // The Signal session Baileys made for the contact reaches the store while the lease check
      // cannot: the store's own fencing token refuses an older owner, so Redis is not needed.
      await expectEventually(
        async () => {
          const now = [...(await env.store.load(id)).keys.keys()];
          expect(now.filter((k) => k.startsWith('session-') && !before.has(k))).not.toEqual([]);
        },
        { timeoutMs: 10_000 },
      );
      await store.quiet();

      // The process dies with Redis still down; a new owner starts once it is back.
      store.kill();
      first.leaseLost();
      await nextOwnerDecrypts(id, contact);
    } finally {
      leaseRedis.disconnect();
    }
  }, 120_000);
});
