import type { RealtimeEvent } from '@wacrm/contracts';
import { recordWebhookEvents } from '@wacrm/firestore';
import { planBatches, type PlannedBatch } from '../domain/batch-plan.js';
import type { ChangeSet } from '../domain/change-set.js';
import { countersOf, foldNewMessages, type ThreadCounters } from '../domain/thread-fold.js';
import { planSearchIndex } from '../domain/search-plan.js';
import type { FirestoreStore, WriteBatch } from './firestore-store.js';
import { hasHistoryMediaToKeep } from './media-jobs.js';
import {
  commitSearchIndex,
  prepareSearchIndex,
  SEARCH_COMMIT_MAX_BYTES,
  type SearchCommit,
  type SearchReads,
} from './search-index.js';

/**
 * At most this many writes of a change set (a live job: a message or a few, a status) take their
 * index writes into their own commit: with up to one index commit (SEARCH_COMMIT_MAX_BYTES) the
 * request stays well under Firestore's 10 MiB even with bodies at their 65,536-character clip.
 */
export const CARRY_MAX_WRITES = 16;

/** A write that may go in any commit, with what to announce once it is committed. */
export interface LooseWrite {
  apply(batch: WriteBatch): void;
  events: RealtimeEvent[];
}

export interface BatchProgress {
  index: number;
  isLast: boolean;
  /** New messages committed up to and including this batch. */
  newMessages: number;
  /** Of those, the ones with history media to keep (a `store-media` job each; not live). */
  newHistoryMedia: number;
}

export interface WriteOptions {
  accountId: string;
  now: Date;
  maxWrites: number;
  /** Writes added to every commit (e.g. history progress), counted against `reservePerBatch`. */
  reservePerBatch?: number;
  perBatch?: (progress: BatchProgress) => LooseWrite[];
  loose?: LooseWrite[];
  onCommitted: (events: RealtimeEvent[]) => Promise<void>;
}

export interface WriteResult {
  commits: number;
  newMessages: number;
  createdThreads: number;
}

/**
 * Commits a change set in as few batches as the write limit allows, in order. A thread's
 * document always travels with the messages it counts (see planBatches), so after a crash at
 * any point the stored counters match the stored messages and the replay adds only the rest.
 */
export async function writeChangeSet(
  store: FirestoreStore,
  changes: ChangeSet,
  options: WriteOptions,
): Promise<WriteResult> {
  const { accountId, now } = options;
  const loose: LooseWrite[] = [
    ...changes.messagePatches.map((p): LooseWrite => ({
      apply: (b) => b.set(store.messageRef(p.threadId, p.messageId), p.patch, { merge: true }),
      events:
        p.patch.status !== undefined
          ? [
              {
                type: 'message.status',
                accountId,
                threadId: p.threadId,
                messageId: p.messageId,
                status: p.patch.status,
                at: now.toISOString(),
              },
            ]
          : [],
    })),
    ...changes.pendingWrites.map((doc): LooseWrite => ({
      apply: (b) => b.set(store.pendingRef(accountId, doc.messageId), doc),
      events: [],
    })),
    ...(options.loose ?? []),
  ];
  const reserve = options.reservePerBatch ?? 0;
  const newCounts = changes.threads.map((t) => t.newMessages.length);
  const mustWrite = changes.threads.map(
    (t) => t.existing === null || Object.keys(t.patch).length > 0,
  );
  // One write per commit is its webhook events' record (recordWebhookEvents).
  const capacity = options.maxWrites - reserve - 1;
  const planWith = (room: number) =>
    planBatches({ newMessages: newCounts, mustWrite, loose: loose.length, capacity: room });
  // The index is committed no later than the messages it points to: a crash after it leaves
  // entries whose messages the replay stores. A live job's index (one commit's worth beside a
  // few messages) goes in the commit of its messages, so both land at once in one commit;
  // anything bigger commits its index first.
  const changeWrites =
    newCounts.reduce((n, c, i) => n + c + (c > 0 || mustWrite[i] ? 1 : 0), 0) +
    loose.length +
    reserve;
  const searchPlan = planSearchIndex(changes);
  const prepare = (reads: SearchReads) =>
    prepareSearchIndex(store.db, accountId, searchPlan, now, options.maxWrites, reads);
  // A job small enough to carry its index reads only the tails it appends to (SearchReads).
  const mayCarry = changeWrites <= CARRY_MAX_WRITES;
  let searchIndex = await prepare(mayCarry ? 'tail' : 'all');
  const single = searchIndex.commits.length === 1 ? searchIndex.commits[0]! : null;
  let carried: SearchCommit | null = null;
  let plan: PlannedBatch[] | null = null;
  if (
    single !== null &&
    single.bytes <= SEARCH_COMMIT_MAX_BYTES &&
    mayCarry &&
    changeWrites + single.writes.length + 1 <= options.maxWrites
  ) {
    const merged = planWith(Math.max(2, capacity - single.writes.length));
    if (merged.length <= 1) {
      plan = merged;
      carried = single;
    }
  }
  if (plan === null) {
    // Committed apart from its messages: a replay may find any entry already indexed.
    if (mayCarry) searchIndex = await prepare('all');
    await commitSearchIndex(store.db, searchIndex);
    plan = planWith(capacity);
  }
  if (plan.length === 0 && (options.perBatch !== undefined || carried !== null)) {
    plan.push({ pieces: [], loose: { from: 0, to: 0 } });
  }

  let newMessages = 0;
  let newHistoryMedia = 0;
  let createdThreads = 0;
  const running = new Map<number, ThreadCounters>();
  for (const [index, planned] of plan.entries()) {
    const batch = store.db.batch();
    const events: RealtimeEvent[] = [];
    if (index === 0 && carried !== null) for (const write of carried.writes) write(batch);
    for (const piece of planned.pieces) {
      const change = changes.threads[piece.thread]!;
      const slice = change.newMessages.slice(piece.from, piece.to);
      for (const message of slice)
        batch.set(store.messageRef(change.threadId, message.waKey.id), message);
      // Pieces of a thread come in order: fold each slice onto the counters of the ones before.
      const before =
        running.get(piece.thread) ??
        countersOf({ ...(change.existing ?? change.seed), ...change.patch });
      const counters = foldNewMessages(before, slice);
      running.set(piece.thread, counters);
      const ref = store.threadRef(change.threadId);
      if (change.existing === null) {
        batch.set(ref, { ...change.seed, ...change.patch, ...counters, updatedAt: now });
        if (piece.from === 0) createdThreads += 1;
      } else {
        batch.set(ref, { ...change.patch, ...counters, updatedAt: now }, { merge: true });
      }
      newMessages += slice.length;
      newHistoryMedia += slice.filter(hasHistoryMediaToKeep).length;
      if (slice.length > 0) {
        events.push({
          type: 'message.created',
          accountId,
          threadId: change.threadId,
          messageIds: slice.map((m) => m.waKey.id),
          at: now.toISOString(),
        });
      }
      events.push({
        type: 'thread.updated',
        accountId,
        threadId: change.threadId,
        at: now.toISOString(),
      });
    }
    for (const write of loose.slice(planned.loose.from, planned.loose.to)) {
      write.apply(batch);
      events.push(...write.events);
    }
    for (const write of options.perBatch?.({
      index,
      isLast: index === plan.length - 1,
      newMessages,
      newHistoryMedia,
    }) ?? []) {
      write.apply(batch);
      events.push(...write.events);
    }
    // The webhook events travel in the commit of their change: delivered even if the live
    // notification below is lost, and never re-emitted by a replay (it finds nothing new).
    recordWebhookEvents(store.db, batch, events, now);
    await batch.commit();
    await options.onCommitted(events);
  }
  return { commits: plan.length, newMessages, createdThreads };
}
