import type { Firestore } from 'firebase-admin/firestore';
import type { ApiKeyDoc, UserDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';

export interface AuthStore {
  getUser(uid: string): Promise<UserDoc | undefined>;
  getApiKey(id: string): Promise<ApiKeyDoc | undefined>;
  /** Records the key's last use, at most once a minute per key. */
  touchApiKey(id: string, lastUsedAt: Date | null): void;
  /** Drops cached entries after a local change (role, revocation). */
  invalidate(kind: 'user' | 'apiKey', id: string): void;
}

interface Cached<T> {
  value: T | undefined;
  expiresAt: number;
}

const TOUCH_INTERVAL_MS = 60_000;

/**
 * Users and API keys are read on every request, so they are cached briefly. A change made on
 * this replica applies at once; other replicas see it within `ttlMs`.
 */
export function createAuthStore(
  db: Firestore,
  options: { ttlMs?: number; onError?: (error: unknown) => void } = {},
): AuthStore {
  const ttlMs = options.ttlMs ?? 5_000;
  const cols = collections(db);
  const users = new Map<string, Cached<UserDoc>>();
  const keys = new Map<string, Cached<ApiKeyDoc>>();
  const touched = new Map<string, number>();

  async function cached<T>(
    cache: Map<string, Cached<T>>,
    id: string,
    load: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const now = Date.now();
    const hit = cache.get(id);
    if (hit !== undefined && hit.expiresAt > now) return hit.value;
    const value = await load();
    if (cache.size > 10_000) cache.clear();
    cache.set(id, { value, expiresAt: now + ttlMs });
    return value;
  }

  return {
    getUser: (uid) => cached(users, uid, async () => (await cols.users().doc(uid).get()).data()),
    getApiKey: (id) => cached(keys, id, async () => (await cols.apiKeys().doc(id).get()).data()),
    touchApiKey(id, lastUsedAt) {
      const now = Date.now();
      const last = Math.max(touched.get(id) ?? 0, lastUsedAt?.getTime() ?? 0);
      if (now - last < TOUCH_INTERVAL_MS) return;
      touched.set(id, now);
      cols
        .apiKeys()
        .doc(id)
        .update({ lastUsedAt: new Date(now) })
        .catch((error: unknown) => options.onError?.(error));
    },
    invalidate(kind, id) {
      (kind === 'user' ? users : keys).delete(id);
    },
  };
}
