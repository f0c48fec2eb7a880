import { MAX_READ_KEYS } from '@wacrm/contracts';
import { enqueue } from '@wacrm/queue';
import { inboundKeysUpTo } from '../data-access/inbox.repository.js';
import type { RouteDeps } from './route-deps.js';

/**
 * Puts a `mark-read` command on the account's wa-commands queue for the thread's newest inbound
 * messages up to `upTo`, when the account's read receipt mode matches `reason`.
 */
export async function sendReadReceipt(
  deps: RouteDeps,
  accountId: string,
  threadId: string,
  upTo: string,
  reason: 'open' | 'reply',
): Promise<boolean> {
  const { readReceipts } = await deps.inboxSettings.get(accountId);
  if (readReceipts !== (reason === 'open' ? 'on_open' : 'on_reply')) return false;
  const keys = await inboundKeysUpTo(deps.db, threadId, upTo, MAX_READ_KEYS);
  if (keys.length === 0) return false;
  await enqueue(deps.queues.commands(accountId), 'mark-read', {
    accountId,
    threadId,
    keys,
    reason,
  });
  return true;
}
