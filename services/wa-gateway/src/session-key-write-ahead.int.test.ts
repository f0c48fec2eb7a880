// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { EmulatorSessions } from '../test/emulator-session.js';
import { KillableStore } from '../test/killable-store.js';

const firestore = useTestFirestore();
let redis: TestRedis;
let env: EmulatorSessions;
const stores: KillableStore[] = [];

beforeAll(async () => {
  redis = await useTestRedis();
  env = await EmulatorSessions.start(firestore, redis);
});

afterAll(async () => {
  // A failed assertion must not leave writes refused (a session would retry them forever).
  for (const store of stores) store.failing = false;
  await env?.close();
  await redis?.cleanup();
  await firestore.close();
});

const newId = () => `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
const send = (accountId: string, to: string, waMessageId: string, text: string) => ({
  requestId: `req-${waMessageId}`,
  accountId,
  to,
  waMessageId,
  text,
});

async function pairedWith(id: string) {
  const store = new KillableStore(env.store);
  stores.push(store);
  const session = await env.paired(id, { store });
  await expectEventually(() => {
    const device = env.emulator.accountViews().find((a) => a.accountId === id)?.devices[0];
    expect(device?.preKeys ?? 0).toBeGreaterThan(0);
  });
  await store.quiet();
  return { session, store };
}

describe('Signal keys written ahead of the frames that use them (real Baileys against the emulator)', () => {
  it('when the auth-state store cannot be written, then a message to a new contact does not reach WhatsApp and the send is not done until its keys are stored; after a crash the next message decrypts with no retry', async () => {
    const id = 'keys-write-ahead';
    env.driverOptions = {};
    const { session: first, store } = await pairedWith(id);
    // Every decryption failure at a contact makes the emulator ask the account for a retry.
    const askRetry = vi.spyOn(env.emulator as unknown as { askRetry: () => void }, 'askRetry');

    store.failing = true;
    const contact = '+40722555123';
    const m1 = newId();
    let done = false;
    const sending = first.send(send(id, contact, m1, 'Prima')).then(() => (done = true));
    await expectEventually(() => expect(store.refused).toBeGreaterThan(0));
    // The contact's new Signal session exists only in memory: nothing encrypted under it may
    // reach WhatsApp, and the send is not done.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(env.emulator.sent(id).map((m) => m.messageId)).not.toContain(m1);
    expect(done).toBe(false);

    // The store is back within the hold: the keys are stored, then the message goes, once.
    store.failing = false;
    await sending;
    await expectEventually(() =>
      expect(env.emulator.sent(id).filter((m) => m.messageId === m1)).toHaveLength(1),
    );

    // SIGKILL: nothing more reaches the store; a new process takes the account over.
    store.kill();
    first.leaseLost();
    await redis.connection.del(`${redis.prefix}:wa:lease:${id}`);
    const second = await env.open(id);
    await env.waitStatus(second, 'connected');
    const m2 = newId();
    await second.send(send(id, contact, m2, 'A doua'));
    await expectEventually(
      () => expect(env.emulator.sent(id).find((m) => m.messageId === m2)?.text).toBe('A doua'),
      { timeoutMs: 20_000 },
    );
    expect(askRetry).not.toHaveBeenCalled();
  }, 120_000);

  it('when new one-time pre-keys cannot be stored, then their upload does not reach WhatsApp until they and the creds that count them are', async () => {
    const id = 'pre-keys-write-ahead';
    env.driverOptions = {};
    const { store } = await pairedWith(id);
    const onServer = () =>
      env.emulator.accountViews().find((a) => a.accountId === id)?.devices[0]?.preKeys ?? 0;
    // Contacts took every one-time pre-key: at its next login Baileys makes and uploads new ones.
    expect(await env.emulator.takePreKeys(id)).toBeGreaterThan(0);
    const credsBefore = store.credsWrites;
    store.failing = true;
    expect((await env.control(`/accounts/${id}/faults`, { kind: 'drop' })).status).toBe(202);
    // The new pre-keys were made and could not be stored...
    await expectEventually(
      () => expect([...store.refusedKeys].some((k) => k.startsWith('pre-key-'))).toBe(true),
      { timeoutMs: 20_000 },
    );
    // ...so WhatsApp has none of them.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(onServer()).toBe(0);

    store.failing = false;
    await expectEventually(() => expect(onServer()).toBeGreaterThan(0), { timeoutMs: 20_000 });
    // What WhatsApp now hands out is what the store holds: every uploaded pre-key, and creds
    // whose next pre-key id is past them (a restart makes no second key under the same id).
    expect(store.credsWrites).toBeGreaterThan(credsBefore);
    const uploaded = env.emulator.preKeyIds(id);
    const stored = await env.store.load(id);
    for (const preKeyId of uploaded) expect(stored.keys.has(`pre-key-${preKeyId}`)).toBe(true);
    const creds = JSON.parse(stored.creds!) as { nextPreKeyId: number };
    expect(creds.nextPreKeyId).toBeGreaterThan(Math.max(...uploaded));
  }, 120_000);

  it('when the keys cannot be stored within the hold, then the send fails with its frame unwritten and the socket reconnects; sent again with the same id it reaches the contact once', async () => {
    const id = 'keys-hold-bound';
    // A message frame waits at most 3 s for its keys here (30 s in production).
    env.driverOptions = { keysHoldMaxMs: 3_000 };
    const { session, store } = await pairedWith(id);
    const opensBefore = env.opens.get(id) ?? 0;
    store.failing = true;
    const contact = '+40722555124';
    const m1 = newId();
    await expect(session.send(send(id, contact, m1, 'Prima'))).rejects.toThrow(
      /not written|not connected/,
    );
    expect(env.emulator.sent(id).map((m) => m.messageId)).not.toContain(m1);
    // The socket was given up and a new one opens.
    await expectEventually(() => expect(env.opens.get(id) ?? 0).toBeGreaterThan(opensBefore));

    store.failing = false;
    await env.waitStatus(session, 'connected');
    // What the command queue does with a failed send: the same command again.
    await session.send(send(id, contact, m1, 'Prima'));
    await expectEventually(() =>
      expect(env.emulator.sent(id).filter((m) => m.messageId === m1)).toHaveLength(1),
    );
    const got = env.emulator.sent(id).find((m) => m.messageId === m1);
    expect(got?.text).toBe('Prima');
  }, 120_000);
});
