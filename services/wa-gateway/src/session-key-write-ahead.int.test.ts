// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import type { AuthChange, AuthStateStore, BeforeWrite } from './data-access/auth-state.store.js';
import { EmulatorSessions } from '../test/emulator-session.js';

const firestore = useTestFirestore();
let redis: TestRedis;
let env: EmulatorSessions;
let outage: OutageStore | undefined;

beforeAll(async () => {
  redis = await useTestRedis();
  env = await EmulatorSessions.start(firestore, redis);
});

afterAll(async () => {
  // A failed assertion must not leave writes refused (the session would retry them forever).
  if (outage) outage.failing = false;
  await env?.close();
  await redis?.cleanup();
  await firestore.close();
});

/**
 * The Firestore auth-state store as a process sees it while Redis (the fencing check) is down:
 * with `failing`, every write is refused as the ownership check refuses it; after `kill()` nothing
 * more reaches Firestore, as when the process is SIGKILLed.
 */
class OutageStore implements AuthStateStore {
  readonly kind = 'firestore';
  failing = false;
  refused = 0;
  private dead = false;
  constructor(private readonly inner: AuthStateStore) {}
  kill(): void {
    this.dead = true;
  }
  load(accountId: string) {
    return this.inner.load(accountId);
  }
  async write(accountId: string, token: number, change: AuthChange, beforeWrite: BeforeWrite) {
    if (this.dead) return new Promise<void>(() => undefined);
    if (this.failing) {
      this.refused += 1;
      throw new Error('Connection is closed. (Redis unreachable for the ownership check)');
    }
    await this.inner.write(accountId, token, change, beforeWrite);
  }
  wipe(accountId: string, token: number, revoked: boolean, beforeWrite: BeforeWrite) {
    return this.inner.wipe(accountId, token, revoked, beforeWrite);
  }
  health() {
    return this.inner.health();
  }
}

const newId = () => `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;

describe('auth-state keys written ahead of what uses them (real Baileys against the emulator)', () => {
  it('when key writes fail, then a message to a new contact stays on the gateway until its keys are stored; after a crash the next message still decrypts at the contact', async () => {
    const id = 'keys-write-ahead';
    const store = new OutageStore(env.store);
    outage = store;
    const first = await env.paired(id, { store });
    await expectEventually(() => {
      const device = env.emulator.accountViews().find((a) => a.accountId === id)?.devices[0];
      expect(device?.preKeys ?? 0).toBeGreaterThan(0);
    });
    // Every decryption failure at a contact makes the emulator ask the account for a retry.
    const askRetry = vi.spyOn(env.emulator as unknown as { askRetry: () => void }, 'askRetry');

    // Redis is down: the ownership check refuses every auth-state write.
    store.failing = true;
    const contact = '+40722555123';
    const m1 = newId();
    await first.send({
      requestId: `req-${m1}`,
      accountId: id,
      to: contact,
      waMessageId: m1,
      text: 'Prima',
    });
    await expectEventually(() => expect(store.refused).toBeGreaterThan(0));
    // The new Signal session exists only in memory: nothing encrypted with it may reach WhatsApp.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(env.emulator.sent(id).map((m) => m.messageId)).not.toContain(m1);

    // Redis is back: the keys are stored, then the message goes.
    store.failing = false;
    await expectEventually(
      () => expect(env.emulator.sent(id).find((m) => m.messageId === m1)?.text).toBe('Prima'),
      { timeoutMs: 40_000 },
    );

    // SIGKILL: nothing more reaches the store; a new process takes the account over.
    store.kill();
    first.leaseLost();
    await redis.connection.del(`${redis.prefix}:wa:lease:${id}`);
    const second = await env.open(id);
    await env.waitStatus(second, 'connected');
    const m2 = newId();
    await second.send({
      requestId: `req-${m2}`,
      accountId: id,
      to: contact,
      waMessageId: m2,
      text: 'A doua',
    });
    await expectEventually(
      () => expect(env.emulator.sent(id).find((m) => m.messageId === m2)?.text).toBe('A doua'),
      { timeoutMs: 20_000 },
    );
    expect(askRetry).not.toHaveBeenCalled();
  }, 120_000);
});
