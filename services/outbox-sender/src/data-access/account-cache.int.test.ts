import { afterAll, describe, expect, it } from 'vitest';
import { collections, newAccountDoc } from '@wacrm/firestore';
import { useTestFirestore } from '@wacrm/testing';
import { cachedAccounts } from './account-cache.js';

const fs = useTestFirestore();

afterAll(async () => {
  await fs.close();
});

describe('cached account reads', () => {
  it('when an account changes, then the cache answers the old document until its TTL passes and the new one after', async () => {
    const ref = collections(fs.db).accounts().doc('wa-cache01');
    await ref.set({ ...newAccountDoc('WA cache', null, new Date()), status: 'connected' });
    let now = 1_000;
    const accounts = cachedAccounts(fs.db, 1_000, () => now);

    const first = accounts.get('wa-cache01');
    // Concurrent sends of one account share one read.
    expect(accounts.get('wa-cache01')).toBe(first);
    expect((await first)?.status).toBe('connected');

    await ref.update({ status: 'logged_out' });
    now += 999;
    expect((await accounts.get('wa-cache01'))?.status).toBe('connected');
    now += 1;
    expect((await accounts.get('wa-cache01'))?.status).toBe('logged_out');
    expect(await accounts.get('wa-missing1')).toBeUndefined();
  });
});
