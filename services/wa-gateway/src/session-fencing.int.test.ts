// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import type { Lease } from './data-access/lease.store.js';
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

/** Ids of the account's key documents written under `token`. */
async function keyDocsOf(accountId: string, token: number): Promise<Set<string>> {
  const docs = await firestore.db.collection('authState').doc(accountId).collection('keys').get();
  return new Set(docs.docs.filter((d) => d.get('fencingToken') === token).map((d) => d.id));
}

describe('fencing of auth-state writes (real Baileys against the emulator)', () => {
  it('when the old owner stalls between its lease check and its write while a new owner takes over, then its write is refused and the new owner’s state stays', async () => {
    const id = 'fence-stall';
    // The old owner's lease check passes, then (once armed) it stalls like a process in a long
    // pause, before its write commits.
    let armed = false;
    let onStall: () => void = () => undefined;
    const stalled = new Promise<void>((r) => (onStall = r));
    let resume: () => void = () => undefined;
    const resumed = new Promise<void>((r) => (resume = r));
    const leases = Object.create(env.leases) as typeof env.leases;
    leases.assertNotLost = async (lease: Lease) => {
      const reachable = await env.leases.assertNotLost(lease);
      if (!armed) return reachable;
      armed = false;
      onStall();
      await resumed;
      return reachable;
    };
    const old = await env.paired(id, { leases });
    const oldToken = old.lease.token;
    // Let the pairing's writes (pre-keys, creds) land first.
    let before = new Set<string>();
    await expectEventually(
      async () => {
        const now = await keyDocsOf(id, oldToken);
        const stable = now.size === before.size && now.size > 0;
        before = now;
        expect(stable).toBe(true);
      },
      { intervalMs: 500 },
    );
    armed = true;
    // A contact writes: Baileys stores a new Signal session; that write stalls after the check.
    expect(
      (await env.control(`/accounts/${id}/inbound`, { from: '+40722555666', text: 'Salut' }))
        .status,
    ).toBe(202);
    await stalled;
    // Meanwhile the lease expires and another owner takes the account over.
    await redis.connection.del(`${redis.prefix}:wa:lease:${id}`);
    const next = await env.open(id);
    expect(next.lease.token).toBeGreaterThan(oldToken);
    await env.waitStatus(next, 'connected');
    await expectEventually(async () => {
      const doc = await firestore.db.collection('authState').doc(id).get();
      expect(doc.get('fencingToken')).toBe(next.lease.token);
    });
    const beforeResume = await keyDocsOf(id, oldToken);
    resume();
    // The old owner's write either lands (check-then-write) or is refused; give it time to.
    await new Promise((r) => setTimeout(r, 1_500));
    const after = await keyDocsOf(id, oldToken);
    expect([...after].filter((k) => !beforeResume.has(k))).toEqual([]);
    const doc = await firestore.db.collection('authState').doc(id).get();
    expect(doc.get('fencingToken')).toBe(next.lease.token);
  });
});
