import {
  encodeSearchEntry,
  messageSearchTerms,
  searchPeriodOf,
  searchEntryOf,
  threadSearchTerms,
  threadSearchWords,
  type MessageDoc,
  type ThreadDoc,
} from '@wacrm/contracts';
import type { ChangeSet } from './change-set.js';

/** What one (word, period) of the index gains and loses. */
export interface PeriodOps {
  term: string;
  period: number;
  /** Encoded entries by message id. */
  adds: Map<string, string>;
  removes: Set<string>;
  /**
   * Whether an entry of these messages may be in the index already, anywhere in the period (an
   * edit, a revoke, a reindex): every part is then read. False while every add is a message new
   * to the store.
   */
  mayExist: boolean;
}

export interface SearchPlan {
  periods: Map<string, PeriodOps>;
  /** Threads whose terms changed, with their terms and words now. */
  threads: Map<string, { terms: string[]; words: string }>;
}

export function emptySearchPlan(): SearchPlan {
  return { periods: new Map(), threads: new Map() };
}

function periodOps(plan: SearchPlan, term: string, period: number): PeriodOps {
  const key = `${term}\u0000${period}`;
  let ops = plan.periods.get(key);
  if (ops === undefined) {
    ops = { term, period, adds: new Map(), removes: new Set(), mayExist: false };
    plan.periods.set(key, ops);
  }
  return ops;
}

/**
 * Index a message under its words (none when revoked). `isNew`: the message is being stored for
 * the first time by this change (not an edit, not a reindex of stored messages).
 */
export function planMessage(plan: SearchPlan, doc: MessageDoc, isNew = false): void {
  const entry = encodeSearchEntry(searchEntryOf(doc));
  const period = searchPeriodOf(doc.tsClient);
  for (const term of messageSearchTerms(doc)) {
    const ops = periodOps(plan, term, period);
    ops.adds.set(doc.waKey.id, entry);
    if (!isNew) ops.mayExist = true;
  }
}

/** An edit or a revoke: the words it no longer has lose it, the words it has find it. */
export function planMessageChange(plan: SearchPlan, before: MessageDoc, after: MessageDoc): void {
  const now = new Set(messageSearchTerms(after));
  const period = searchPeriodOf(before.tsClient);
  for (const term of messageSearchTerms(before)) {
    if (!now.has(term)) {
      const ops = periodOps(plan, term, period);
      ops.removes.add(before.waKey.id);
      ops.mayExist = true;
    }
  }
  planMessage(plan, after);
}

/**
 * A new thread, or one whose name or phone changed: its one document gets the terms it has now
 * (nothing when they are the same; a backfill passes `before` null and always writes).
 */
export function planThread(
  plan: SearchPlan,
  threadId: string,
  before: Pick<ThreadDoc, 'displayName' | 'phoneE164'> | null,
  after: Pick<ThreadDoc, 'displayName' | 'phoneE164'>,
): void {
  const now = threadSearchTerms(after);
  if (before !== null) {
    const old = threadSearchTerms(before);
    if (old.length === now.length && old.every((term, i) => term === now[i])) return;
  }
  plan.threads.set(threadId, { terms: now, words: threadSearchWords(after) });
}

/** Everything a change set changes in the index. Pure, so a replayed job plans the same. */
export function planSearchIndex(changes: ChangeSet): SearchPlan {
  const plan = emptySearchPlan();
  for (const t of changes.threads) {
    for (const m of t.newMessages) planMessage(plan, m, true);
    const after = { ...(t.existing ?? t.seed), ...t.patch };
    if (
      t.existing === null ||
      after.displayName !== t.existing.displayName ||
      after.phoneE164 !== t.existing.phoneE164
    ) {
      planThread(plan, t.threadId, t.existing, after);
    }
  }
  for (const p of changes.messagePatches) {
    if (p.patch.editedBody !== undefined || p.patch.deleted !== undefined) {
      planMessageChange(plan, p.before, p.after);
    }
  }
  return plan;
}
