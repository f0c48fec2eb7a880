import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import {
  buildGateway,
  createAccounts,
  emulatorView,
  newAuthStateKey,
  scanAllShown,
  sessionsOf,
  startEmulator,
  startGateway,
  waitEmulatorConnected,
  type Emulator,
  type Proc,
} from '../test/harness.js';

// Real wa-gateway processes with real Baileys sockets against the WhatsApp network emulator: the
// emulator labels each account's socket with the instance that opened it (`&client=`).

const COUNT = 90;
const TTL_MS = 6_000;
const ACCOUNTS = Array.from({ length: COUNT }, (_, i) => `fo-${String(i).padStart(3, '0')}`);
const firestore = useTestFirestore();
let redis: TestRedis;
let emulator: Emulator;
const gateways: Proc[] = [];
const authStateKey = newAuthStateKey();

beforeAll(async () => {
  buildGateway();
  redis = await useTestRedis();
  emulator = await startEmulator();
  await createAccounts(firestore.db, ACCOUNTS);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(gateways.map((g) => g.stop('SIGKILL')));
  await emulator?.proc.stop();
  await redis?.cleanup();
  await firestore.close();
});

interface Sample {
  at: number;
  doubleOwned: string[];
  doubleConnected: string[];
  replaced: number;
}

/** One sampled moment: leases in Redis, each live gateway's sessions, the network's sockets. */
async function sample(live: Proc[]): Promise<Sample> {
  const views = await Promise.all(live.map((g) => sessionsOf(g)));
  const owners = new Map<string, string[]>();
  const connected = new Map<string, string[]>();
  for (const v of views) {
    for (const s of v.sessions) {
      owners.set(s.accountId, [...(owners.get(s.accountId) ?? []), v.instanceId]);
      if (s.connected)
        connected.set(s.accountId, [...(connected.get(s.accountId) ?? []), v.instanceId]);
    }
  }
  const net = await emulatorView(emulator);
  // The network's view: which instance holds each account's socket, and that it is the owner.
  for (const a of net.accounts) {
    for (const d of a.devices.filter((x) => x.connected)) {
      if (d.client === null) throw new Error(`${a.accountId}: a socket without its instance label`);
      const lease = await redis.connection.get(`${redis.prefix}:wa:lease:${a.accountId}`);
      if (lease !== null && !lease.startsWith(`${d.client}|`)) {
        connected.set(a.accountId, [...(connected.get(a.accountId) ?? []), `net:${d.client}`]);
      }
    }
  }
  return {
    at: Date.now(),
    doubleOwned: [...owners].filter(([, o]) => o.length > 1).map(([id]) => id),
    doubleConnected: [...connected].filter(([, o]) => o.length > 1).map(([id]) => id),
    replaced: net.replacedSockets,
  };
}

describe('ownership across 3 gateway processes', () => {
  it(`when one of 3 gateways owning ${COUNT} accounts is SIGKILLed, then every account is owned again within TTL + 5 s and never by two`, async () => {
    const started = await Promise.all(
      ['gw-1', 'gw-2', 'gw-3'].map((instanceId) =>
        startGateway({
          instanceId,
          redisUrl: redis.url,
          prefix: redis.prefix,
          firestoreEnv: firestore.env,
          emulator,
          authStateKey,
          extra: { WA_LEASE_TTL_MS: String(TTL_MS), LOG_LEVEL: 'warn' },
        }),
      ),
    );
    gateways.push(...started);
    await scanAllShown(emulator, firestore.db, ACCOUNTS, 180_000);
    await waitEmulatorConnected(emulator, firestore.db, ACCOUNTS, 180_000);

    const samples: Sample[] = [];
    let live = [...gateways];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await sample(live));
        await new Promise((r) => setTimeout(r, 150));
      }
    })();

    // Fair share settles: no instance above ceil(90/3) + slack.
    await expectShare(live, Math.ceil(COUNT / 3) + 1);
    const victim = gateways[0]!;
    const victimAccounts = (await sessionsOf(victim)).sessions.map((s) => s.accountId);
    expect(victimAccounts.length).toBeGreaterThan(0);
    live = gateways.slice(1);
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;

    let ownedAgainAt = 0;
    for (;;) {
      const views = await Promise.all(live.map((g) => sessionsOf(g)));
      const owned = new Set(views.flatMap((v) => v.sessions.map((s) => s.accountId)));
      if (ACCOUNTS.every((id) => owned.has(id))) {
        ownedAgainAt = Date.now();
        break;
      }
      if (Date.now() - killedAt > TTL_MS + 30_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const failoverMs = ownedAgainAt - killedAt;
    await waitEmulatorConnected(emulator, firestore.db, ACCOUNTS, 60_000);
    const connectedAt = Date.now();
    sampling = false;
    await sampler;

    console.info(
      `failover: ${victimAccounts.length} accounts of the killed instance owned again after ${failoverMs} ms ` +
        `(TTL ${TTL_MS} ms), all connected after ${connectedAt - killedAt} ms; ${samples.length} samples`,
    );
    expect(ownedAgainAt).toBeGreaterThan(0);
    expect(failoverMs).toBeLessThanOrEqual(TTL_MS + 5_000);
    expect(samples.length).toBeGreaterThan(10);
    expect(samples.flatMap((s) => s.doubleOwned)).toEqual([]);
    expect(samples.flatMap((s) => s.doubleConnected)).toEqual([]);
    expect(samples.at(-1)!.replaced).toBe(0);
    await expectShare(live, Math.ceil(COUNT / 2) + 1);
  }, 480_000);
});

async function expectShare(live: Proc[], max: number) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const counts = (await Promise.all(live.map((g) => sessionsOf(g)))).map(
      (v) => v.sessions.length,
    );
    if (counts.every((c) => c <= max) && counts.reduce((a, b) => a + b, 0) === COUNT) return;
    if (Date.now() > deadline)
      throw new Error(`share not reached: ${counts.join(',')} (max ${max})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
