import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthCipher } from '../domain/auth-cipher.js';
import { DiskAuthStateStore } from './auth-state.store.js';
import { LeaseLostError } from './lease.store.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function diskStore() {
  const dir = await mkdtemp(join(tmpdir(), 'wa-auth-disk-'));
  dirs.push(dir);
  return new DiskAuthStateStore(dir, new AuthCipher(randomBytes(32)));
}

const noCheck = () => Promise.resolve();

describe('auth state on disk: the owner claims the account', () => {
  it('when a newer owner has claimed the account, then an older owner’s writes and wipe are refused and the newer one’s keys stay', async () => {
    const store = await diskStore();
    await store.claim('acc', 1);
    await store.write('acc', 1, { keys: [['session-a.0', '"old"']], creds: null }, noCheck);
    await store.claim('acc', 2);
    await store.write('acc', 2, { keys: [['session-a.0', '"new"']], creds: null }, noCheck);

    await expect(
      store.write('acc', 1, { keys: [['session-a.0', '"stale"']], creds: '{}' }, noCheck),
    ).rejects.toBeInstanceOf(LeaseLostError);
    await expect(store.wipe('acc', 1, false, noCheck)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(store.claim('acc', 1)).rejects.toBeInstanceOf(LeaseLostError);

    const loaded = await store.load('acc');
    expect(loaded.keys.get('session-a.0')).toBe('"new"');
    expect(loaded.creds).toBeNull();
  });

  it('when the same owner claims again, then its writes go on', async () => {
    const store = await diskStore();
    await store.claim('acc', 3);
    await store.claim('acc', 3);
    await store.write('acc', 3, { keys: [['pre-key-1', '"k"']], creds: '{"me":1}' }, noCheck);
    const loaded = await store.load('acc');
    expect(loaded.keys.get('pre-key-1')).toBe('"k"');
    expect(loaded.creds).toBe('{"me":1}');
  });
});
