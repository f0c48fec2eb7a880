import type { Firestore } from 'firebase-admin/firestore';
import type { AccountDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';

export interface AccountReader {
  get(accountId: string): Promise<AccountDoc | undefined>;
}

/**
 * Account documents read at most once per `ttlMs` per account, one read in flight at a time:
 * every send needs its account's status, and at 100 sends/s over 30 accounts re-reading it for
 * each one is most of the sender's Firestore traffic. A logout is seen at most `ttlMs` late,
 * which is no worse than a logout landing just after a fresh read.
 */
export function cachedAccounts(
  db: Firestore,
  ttlMs: number,
  now: () => number = Date.now,
): AccountReader {
  const entries = new Map<string, { at: number; value: Promise<AccountDoc | undefined> }>();
  return {
    get(accountId) {
      const at = now();
      const hit = entries.get(accountId);
      if (hit !== undefined && at - hit.at < ttlMs) return hit.value;
      const value = collections(db)
        .accounts()
        .doc(accountId)
        .get()
        .then((s) => s.data());
      const entry = { at, value };
      entries.set(accountId, entry);
      // A failed read is not cached: the next send reads again.
      value.catch(() => {
        if (entries.get(accountId) === entry) entries.delete(accountId);
      });
      return value;
    },
  };
}
