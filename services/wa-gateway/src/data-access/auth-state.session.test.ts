import { describe, expect, it } from 'vitest';
import { captureLogger } from '@wacrm/testing';
import { sendScope, type SendScope } from '../domain/send-scope.js';
import { openSessionAuth } from './auth-state.session.js';
import type { AuthChange, AuthStateStore, StoredAuth } from './auth-state.store.js';

/** An in-memory store that records every change written. */
function memoryStore(initial: Array<[string, string]> = []) {
  const changes: AuthChange[] = [];
  const store: AuthStateStore = {
    kind: 'disk',
    load: (): Promise<StoredAuth> =>
      Promise.resolve({ creds: null, keys: new Map(initial), revoked: false }),
    claim: () => Promise.resolve(),
    write: (_accountId, _token, change) => {
      changes.push(change);
      return Promise.resolve();
    },
    wipe: () => Promise.resolve(),
    health: () => Promise.resolve({ ok: true, store: 'disk' }),
  };
  return { store, changes };
}

async function open(store: AuthStateStore) {
  return openSessionAuth({
    accountId: 'wa-test01',
    store,
    token: () => 1,
    beforeWrite: () => Promise.resolve(),
    logger: captureLogger('wa-gateway', 'warn').logger,
    onLeaseLost: () => undefined,
  });
}

const written = (changes: AuthChange[]) => changes.flatMap((c) => c.keys);

describe('session auth state: key writes', () => {
  it('when Baileys sets a key to the value it already has, then nothing is written', async () => {
    const { store, changes } = memoryStore([['device-list-4071', JSON.stringify(['0', '1'])]]);
    const auth = await open(store);
    await auth.state.keys.set({ 'device-list': { '4071': ['0', '1'] } });
    await auth.state.keys.set({ 'device-list': { '4072': ['0'] } });
    await auth.state.keys.set({ 'device-list': { '4072': ['0'] } });
    await auth.flush();
    expect(written(changes)).toEqual([['device-list-4072', JSON.stringify(['0'])]]);
  });

  it('when a key changes and changes back before it is written, then the newest value is written', async () => {
    const { store, changes } = memoryStore([['device-list-4071', JSON.stringify(['0'])]]);
    const auth = await open(store);
    await auth.state.keys.set({ 'device-list': { '4071': ['0', '1'] } });
    await auth.state.keys.set({ 'device-list': { '4071': ['0'] } });
    await auth.state.keys.set({ 'device-list': { '4071': ['0'] } });
    await auth.flush();
    const last = new Map(written(changes));
    expect(last.get('device-list-4071')).toBe(JSON.stringify(['0']));
  });

  it('when a key that was never stored is deleted, then nothing is written; a stored one is deleted', async () => {
    const { store, changes } = memoryStore([['device-list-4071', JSON.stringify(['0'])]]);
    const auth = await open(store);
    await auth.state.keys.set({ 'device-list': { '4079': null, '4071': null } });
    await auth.flush();
    expect(written(changes)).toEqual([['device-list-4071', null]]);
    // Set again after the delete: written, though the value equals the one stored before.
    await auth.state.keys.set({ 'device-list': { '4071': ['0'] } });
    await auth.flush();
    expect(written(changes)).toContainEqual(['device-list-4071', JSON.stringify(['0'])]);
  });
});

describe('session auth state: a send waits for its keys', () => {
  it('when Baileys commits keys inside a send, then the send’s scope resolves only once they are stored; a set of unchanged keys resolves at once', async () => {
    const { store, changes } = memoryStore();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow: AuthStateStore = {
      ...store,
      write: async (...args) => {
        await gate;
        return store.write(...args);
      },
    };
    const auth = await open(slow);
    const scope: SendScope = { messageId: 'M1', durable: null };
    await sendScope.run(scope, () =>
      auth.state.keys.set({ session: { '4071.0': Buffer.from('ratchet-1') } }),
    );
    expect(scope.durable).not.toBeNull();
    let stored = false;
    void scope.durable!.then(() => (stored = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stored).toBe(false);
    release();
    await scope.durable;
    expect(written(changes).map(([name]) => name)).toEqual(['session-4071.0']);

    const again: SendScope = { messageId: 'M2', durable: null };
    await sendScope.run(again, () =>
      auth.state.keys.set({ session: { '4071.0': Buffer.from('ratchet-1') } }),
    );
    await again.durable;
  });

  it('when Baileys sets new pre-keys and then advances the creds, then storeNow resolves only once the keys and those creds are stored', async () => {
    const { store, changes } = memoryStore();
    const releases: Array<() => void> = [];
    const slow: AuthStateStore = {
      ...store,
      write: async (...args) => {
        await new Promise<void>((r) => releases.push(r));
        return store.write(...args);
      },
    };
    const auth = await open(slow);
    // The pre-keys' write leaves at once (nothing else pending); the creds Baileys advanced in
    // place are not in it.
    void auth.state.keys.set({
      'pre-key': { '31': { public: Buffer.from('p'), private: Buffer.from('q') } },
    });
    auth.state.creds.nextPreKeyId = 32;
    let stored = false;
    const storing = auth.storeNow().then(() => (stored = true));
    const credsStored = () =>
      changes.some(
        (c) =>
          c.creds !== null && (JSON.parse(c.creds) as { nextPreKeyId: number }).nextPreKeyId === 32,
      );
    for (let round = 0; round < 4 && !stored; round++) {
      await new Promise((r) => setTimeout(r, 10));
      // Never resolved while the creds that count the pre-keys are not stored.
      expect(stored && !credsStored()).toBe(false);
      releases.shift()?.();
      await new Promise((r) => setTimeout(r, 10));
      expect(stored && !credsStored()).toBe(false);
    }
    await storing;
    expect(changes.some((c) => c.keys.some(([name]) => name === 'pre-key-31'))).toBe(true);
    expect(credsStored()).toBe(true);
  });

  it('when the auth state is wiped with keys still unstored, then a waiting send is refused', async () => {
    const { store } = memoryStore();
    let failing = true;
    const down: AuthStateStore = {
      ...store,
      write: (...args) =>
        failing ? Promise.reject(new Error('store unreachable')) : store.write(...args),
    };
    const auth = await open(down);
    const scope: SendScope = { messageId: 'M3', durable: null };
    await sendScope.run(scope, () =>
      auth.state.keys.set({ session: { '4072.0': Buffer.from('ratchet') } }),
    );
    const outcome = scope.durable!.then(
      () => 'stored',
      (e: Error) => e.message,
    );
    const wiped = auth.wipe(false);
    expect(await outcome).toMatch(/will not be stored: auth state wiped/);
    await wiped;
    failing = false;
    // Paired again: the new keys are waited for, and stored, as before.
    const next: SendScope = { messageId: 'M4', durable: null };
    await sendScope.run(next, () =>
      auth.state.keys.set({ session: { '4073.0': Buffer.from('ratchet') } }),
    );
    let settled = false;
    void next.durable!.then(
      () => (settled = true),
      () => (settled = true),
    );
    expect(settled).toBe(false);
    await next.durable;
  });
});
