import { z } from 'zod';
import { AccountId } from './common.schema.js';

/**
 * Which accounts a caller may see, as it travels in a job: `'all'` for admins, otherwise the
 * account ids. A job's answer is computed from what this scope allows and nothing else.
 */
export const AccountScope = z.union([z.literal('all'), z.array(AccountId).max(1000)]);
export type AccountScope = z.infer<typeof AccountScope>;

/** A caller's accounts as a principal holds them, or as a job carries them. */
export type AccountAccess = 'all' | ReadonlySet<string> | readonly string[];

/**
 * The one rule of who may see which account's data (routes, client figures, event lists, AI
 * answers and realtime streams all ask here). Data without an account is admin-only.
 */
export function canSeeAccount(access: AccountAccess, accountId: string | null): boolean {
  if (access === 'all') return true;
  if (accountId === null) return false;
  return isSet(access) ? access.has(accountId) : access.includes(accountId);
}

/** The scope a job carries for this access: sorted, so equal scopes serialise equally. */
export function accountScopeOf(access: AccountAccess): AccountScope {
  return access === 'all' ? 'all' : [...access].sort();
}

function isSet(access: ReadonlySet<string> | readonly string[]): access is ReadonlySet<string> {
  return !Array.isArray(access);
}
