import { describe, expect, it } from 'vitest';
import { captureLogger } from '@wacrm/testing';
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
