import type { Auth } from 'firebase-admin/auth';
import type { Firestore } from 'firebase-admin/firestore';
import { AppError, type ApiKeyDoc, type UserDoc } from '@wacrm/contracts';
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

/** Whether a user's ID tokens still stand: not revoked since they were issued, user enabled. */
export interface RevocationCheck {
  /** Throws UNAUTHENTICATED when tokens issued at `authTimeSec` were revoked or the user is off. */
  check(uid: string, authTimeSec: number): Promise<void>;
}

interface UserStanding {
  disabled: boolean;
  /** Tokens whose auth_time is before this (ms) are revoked. */
  validAfterMs: number;
  expiresAt: number;
}

/**
 * The revocation check firebase-admin's `verifyIdToken(token, true)` makes, with the user record
 * cached for `ttlMs` (per replica), so every request is checked without an Auth API call each.
 * A deleted user counts as revoked.
 */
export function createRevocationCheck(
  auth: Pick<Auth, 'getUser'>,
  options: { ttlMs?: number } = {},
): RevocationCheck {
  const ttlMs = options.ttlMs ?? 10_000;
  const users = new Map<string, UserStanding>();

  async function standing(uid: string): Promise<UserStanding | undefined> {
    const now = Date.now();
    const hit = users.get(uid);
    if (hit !== undefined && hit.expiresAt > now) return hit;
    let record;
    try {
      record = await auth.getUser(uid);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'auth/user-not-found') return undefined;
      throw new AppError('DEPENDENCY_UNAVAILABLE', 'could not check the ID token’s revocation', {
        cause: error,
      });
    }
    const validAfter = record.tokensValidAfterTime;
    const value: UserStanding = {
      disabled: record.disabled,
      validAfterMs: validAfter === undefined ? 0 : Date.parse(validAfter),
      expiresAt: now + ttlMs,
    };
    if (users.size > 10_000) users.clear();
    users.set(uid, value);
    return value;
  }

  return {
    async check(uid, authTimeSec) {
      const user = await standing(uid);
      if (user === undefined) throw new AppError('UNAUTHENTICATED', 'the user no longer exists');
      if (user.disabled) throw new AppError('UNAUTHENTICATED', 'the user is disabled');
      if (authTimeSec * 1000 < user.validAfterMs) {
        throw new AppError('UNAUTHENTICATED', 'the ID token was revoked; sign in again');
      }
    },
  };
}
