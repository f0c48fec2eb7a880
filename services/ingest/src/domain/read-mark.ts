import {
  IsoDateTime,
  type MarkReadJob,
  type MessageDoc,
  type RealtimeEvent,
} from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { commitWrites, unreadCountWrite } from '../data-access/document-writes.js';
import { inAccountTurn } from './account-turn.js';
import type { IngestDeps } from './ingest-deps.js';
import { countsAsUnread } from './thread-fold.js';

/** A read mark in message order: a client time, and the id that breaks ties at that time. */
export interface ResolvedMark {
  at: Date;
  /** Null for a mark given as a time: every message at that time counts as read. */
  messageId: string | null;
}

/** Most messages read to count the unread tail; a longer tail leaves the count as it is. */
export const TAIL_LIMIT = 1000;

/** Same order as the thread's counters (thread-fold): client time, then message id. */
export function isAfterMark(message: MessageDoc, mark: ResolvedMark): boolean {
  const delta = message.tsClient.getTime() - mark.at.getTime();
  if (delta !== 0) return delta > 0;
  return mark.messageId !== null && message.waKey.id > mark.messageId;
}

/**
 * The unread count once everything up to `mark` is read: the unread messages after it, never
 * more than the current count (a replayed or older mark raises nothing). `tail` holds the
 * thread's messages from the mark's time on; when it was cut at the limit nothing is lowered.
 */
export function unreadAfterMark(
  current: number,
  tail: readonly MessageDoc[],
  mark: ResolvedMark,
  truncated: boolean,
): number {
  if (truncated) return current;
  const after = tail.filter((m) => countsAsUnread(m) && isAfterMark(m, mark)).length;
  return Math.min(current, after);
}

/**
 * `mark-read`: an operator read a thread up to a message or a time. Runs under the account's
 * lock like every other thread write, so the counters keep a single writer.
 */
export async function markRead(
  job: MarkReadJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return inAccountTurn(deps, job.accountId, async () => {
    const thread = (await deps.store.loadThreads([job.threadId])).get(job.threadId);
    if (thread === undefined || thread.accountId !== job.accountId) {
      logger.warn(
        { accountId: job.accountId, threadId: job.threadId },
        'mark-read for a thread this account does not have; nothing to do',
      );
      return { skipped: 'unknown thread' };
    }
    if (thread.unreadCount === 0) return { unreadCount: 0, changed: false };

    let mark: ResolvedMark;
    if (IsoDateTime.safeParse(job.upTo).success) {
      mark = { at: new Date(job.upTo), messageId: null };
    } else {
      const key = { threadId: job.threadId, messageId: job.upTo };
      const message = [...(await deps.store.loadMessages([key])).values()][0];
      if (message === undefined) {
        logger.warn(
          { accountId: job.accountId, threadId: job.threadId, upTo: job.upTo },
          'mark-read up to a message that is not stored; nothing to do',
        );
        return { skipped: 'unknown message' };
      }
      mark = { at: message.tsClient, messageId: message.waKey.id };
    }

    const tail = await deps.store.messagesFrom(job.threadId, mark.at, TAIL_LIMIT + 1);
    const unreadCount = unreadAfterMark(thread.unreadCount, tail, mark, tail.length > TAIL_LIMIT);
    if (unreadCount === thread.unreadCount) return { unreadCount, changed: false };

    const now = new Date();
    const events: RealtimeEvent[] = [
      {
        type: 'thread.updated',
        accountId: job.accountId,
        threadId: job.threadId,
        at: now.toISOString(),
      },
    ];
    await commitWrites(
      deps.store,
      [unreadCountWrite(deps.store, job.threadId, unreadCount, now, events)],
      now,
      (committed) => deps.publisher.publish(committed),
    );
    logger.info(
      {
        accountId: job.accountId,
        threadId: job.threadId,
        by: job.by,
        before: thread.unreadCount,
        unreadCount,
      },
      'thread marked read',
    );
    return { unreadCount, changed: true };
  });
}
