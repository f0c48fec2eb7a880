// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestMessagesJob } from '@wacrm/contracts';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import type { AuthChange, AuthStateStore, BeforeWrite } from './data-access/auth-state.store.js';
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

/**
 * The Firestore auth-state store as a process sees it: each commit takes `latencyMs`, and after
 * `kill()` nothing more reaches Firestore, as when the process is SIGKILLed. Counts commits.
 */
class KillableStore implements AuthStateStore {
  readonly kind = 'firestore';
  latencyMs = 0;
  commits = 0;
  keyWrites = 0;
  credsWrites = 0;
  private dead = false;
  constructor(private readonly inner: AuthStateStore) {}
  kill(): void {
    this.dead = true;
  }
  load(accountId: string) {
    return this.inner.load(accountId);
  }
  async write(accountId: string, token: number, change: AuthChange, beforeWrite: BeforeWrite) {
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (this.dead) return new Promise<void>(() => undefined);
    this.commits += Math.max(1, Math.ceil(change.keys.length / 450));
    this.keyWrites += change.keys.length;
    if (change.creds !== null) this.credsWrites += 1;
    this.inflight += 1;
    try {
      await this.inner.write(accountId, token, change, beforeWrite);
    } finally {
      this.inflight -= 1;
    }
  }
  inflight = 0;

  /** Resolves once no write is in flight and none started for 500 ms. */
  async quiet(): Promise<void> {
    await expectEventually(async () => {
      const before = this.commits;
      await new Promise((r) => setTimeout(r, 500));
      expect(this.inflight).toBe(0);
      expect(this.commits).toBe(before);
    });
  }
  wipe(accountId: string, token: number, revoked: boolean, beforeWrite: BeforeWrite) {
    return this.inner.wipe(accountId, token, revoked, beforeWrite);
  }
  health() {
    return this.inner.health();
  }
}

async function published(accountId: string, messageId: string) {
  const jobs = await env.inbound.queue.getJobs(['waiting', 'completed']);
  return jobs
    .filter((j) => j.name === 'ingest-messages')
    .filter((j) => (j.data as IngestMessagesJob).accountId === accountId)
    .flatMap((j) => (j.data as IngestMessagesJob).messages)
    .find((m) => m.key.id === messageId);
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
    const retries = env.emulator.receipts(id).filter((r) => r.type === 'retry');
    expect(retries).toEqual([]);
  }, 120_000);
});
