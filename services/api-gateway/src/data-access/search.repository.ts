import type { Firestore } from 'firebase-admin/firestore';
import {
  SEARCH_THREADS_PER_TERM,
  decodeSearchEntry,
  messageSearchTerms,
  messageSearchText,
  searchPeriodOf,
  searchPeriodStart,
  type MessageDoc,
  type SearchEntry,
  type SearchMessageHit,
  type SearchThreadHit,
  type ThreadDoc,
} from '@wacrm/contracts';
import { collections, searchPeriods, searchThreads as searchThreadDocs } from '@wacrm/firestore';
import { compareEntries, isBeyondCursor, snippetOf } from '../domain/search-query.js';

/**
 * Period documents read per word in each round, then in every later one. A week of a common
 * word holds hundreds of entries, so most searches end after the newest week; a rare word widens
 * the window. (Reading four weeks at once made every search move ~100 KB of index from the store:
 * bench:api measured 65 CPU ms per search, mostly the store serialising them.)
 */
const PERIODS_PER_ROUND = [1, 8, 26] as const;
const MAX_ROUNDS = 8;
const THREAD_HITS = 10;
/**
 * A one-word name or phone search reads as many index documents and threads as it shows,
 * newest first among them: a phone prefix may match every thread, and on the embedded store
 * each index document returned (all of a thread's prefixes) costs ~0.5 CPU ms (50 of them were
 * 29 ms, most of a search). Several words intersect up to SEARCH_THREADS_PER_TERM documents of
 * the longest one.
 */
const THREAD_CANDIDATES = THREAD_HITS;

export interface MessageSearch {
  accountId: string;
  terms: string[];
  threadId?: string;
  direction?: 'inbound' | 'outbound';
  hasMedia?: boolean;
  since?: Date;
  until?: Date;
  cursor?: { ts: number; id: string };
  limit: number;
}

export interface MessageSearchPage {
  items: SearchMessageHit[];
  nextCursor: { ts: number; id: string } | null;
}

/** One round: every word's periods in [lo, hi], newest first, and from which period on they are complete. */
async function readRound(
  db: Firestore,
  accountId: string,
  terms: string[],
  lo: number,
  hi: number,
  perRound: number,
): Promise<{ byTerm: Array<Map<string, SearchEntry>>; completeFrom: number }> {
  const snaps = await Promise.all(
    terms.map((term) =>
      searchPeriods(db, accountId, term)
        .where('period', '<=', hi)
        .where('period', '>=', lo)
        .orderBy('period', 'desc')
        .limit(perRound)
        .get(),
    ),
  );
  let completeFrom = lo;
  const byTerm = snaps.map((snap) => {
    const entries = new Map<string, SearchEntry>();
    let lowest = Infinity;
    for (const d of snap.docs) {
      const doc = d.data();
      lowest = Math.min(lowest, doc.period);
      for (const raw of doc.entries) {
        const e = decodeSearchEntry(raw);
        if (e !== null) entries.set(`${e.threadId}\u0000${e.messageId}`, e);
      }
    }
    // A full page may have cut the lowest period's parts: that period is read again next round.
    if (snap.docs.length >= perRound) completeFrom = Math.max(completeFrom, lowest + 1);
    return entries;
  });
  return { byTerm, completeFrom };
}

/**
 * Messages containing every word, newest first. Reads the words' period documents a window of
 * periods at a time (range filters on one small collection per word), intersects them in memory,
 * then reads the hits' messages to drop what was revoked or edited away since it was indexed.
 */
export async function searchMessages(db: Firestore, s: MessageSearch): Promise<MessageSearchPage> {
  if (s.terms.length === 0) return { items: [], nextCursor: null };
  const sinceMs = s.since?.getTime() ?? 0;
  let untilMs = s.until?.getTime() ?? 8.64e15;
  if (s.cursor !== undefined) untilMs = Math.min(untilMs, s.cursor.ts + 1);
  const lo = searchPeriodOf(new Date(sinceMs));
  let hi = searchPeriodOf(new Date(Math.min(untilMs, Date.now() + 86_400_000 * 366)));
  const found: SearchEntry[] = [];
  let exhausted = false;
  let rounds = 0;
  while (found.length <= s.limit && rounds < MAX_ROUNDS) {
    rounds += 1;
    const { byTerm, completeFrom } = await readRound(
      db,
      s.accountId,
      s.terms,
      lo,
      hi,
      PERIODS_PER_ROUND[Math.min(rounds, PERIODS_PER_ROUND.length) - 1]!,
    );
    const smallest = byTerm.reduce((a, b) => (b.size < a.size ? b : a));
    for (const [key, e] of smallest) {
      if (searchPeriodOf(new Date(e.tsMs)) < completeFrom) continue;
      if (!byTerm.every((m) => m.has(key))) continue;
      if (e.tsMs < sinceMs || e.tsMs >= untilMs) continue;
      if (s.cursor !== undefined && !isBeyondCursor(e, s.cursor)) continue;
      if (s.threadId !== undefined && e.threadId !== s.threadId) continue;
      if (s.direction !== undefined && e.direction !== s.direction) continue;
      if (s.hasMedia !== undefined && e.hasMedia !== s.hasMedia) continue;
      found.push(e);
    }
    if (completeFrom <= lo) {
      exhausted = true;
      break;
    }
    hi = completeFrom - 1;
  }
  found.sort(compareEntries);
  const page = found.slice(0, s.limit);
  const more = found.length > s.limit || !exhausted;
  const items = await hydrate(db, s.accountId, page, s.terms);
  const last = page[page.length - 1];
  const nextCursor = !more
    ? null
    : last !== undefined && found.length > s.limit
      ? { ts: last.tsMs, id: last.messageId }
      : { ts: searchPeriodStart(hi + 1).getTime(), id: '' };
  return { items, nextCursor };
}

async function hydrate(
  db: Firestore,
  accountId: string,
  page: SearchEntry[],
  terms: string[],
): Promise<SearchMessageHit[]> {
  if (page.length === 0) return [];
  const c = collections(db);
  const threadIds = [...new Set(page.map((e) => e.threadId))];
  const [messageSnaps, threadSnaps] = await Promise.all([
    db.getAll(...page.map((e) => c.messages(e.threadId).doc(e.messageId))),
    db.getAll(...threadIds.map((id) => c.threads().doc(id))),
  ]);
  const threads = new Map<string, ThreadDoc>();
  threadSnaps.forEach((snap, i) => {
    const t = snap.data() as ThreadDoc | undefined;
    if (t !== undefined) threads.set(threadIds[i]!, t);
  });
  const out: SearchMessageHit[] = [];
  messageSnaps.forEach((snap) => {
    const m = snap.data() as MessageDoc | undefined;
    if (m === undefined || m.accountId !== accountId) return;
    const thread = threads.get(m.threadId);
    if (thread === undefined || thread.accountId !== accountId || thread.mergedInto) return;
    // The index may lag an edit or a revoke by a moment; the stored message decides.
    const now = new Set(messageSearchTerms(m));
    if (!terms.every((t) => now.has(t))) return;
    out.push({
      threadId: m.threadId,
      messageId: m.waKey.id,
      displayName: thread.displayName,
      phoneE164: thread.phoneE164,
      direction: m.direction,
      type: m.type,
      snippet: snippetOf(messageSearchText(m), terms),
      hasMedia: m.media !== null,
      tsClient: m.tsClient.toISOString(),
    });
  });
  return out;
}

/** Threads whose name or phone has words starting with every query word, most recent first. */
export async function searchThreads(
  db: Firestore,
  accountId: string,
  terms: string[],
  threadId?: string,
): Promise<SearchThreadHit[]> {
  if (terms.length === 0) return [];
  // Each thread's document holds all its terms: one query by the longest (rarest) word, the
  // others checked on the documents it returns.
  const index = searchThreadDocs(db, accountId);
  const longest = terms.reduce((a, b) => (b.length > a.length ? b : a));
  const docs =
    threadId !== undefined
      ? [(await index.doc(threadId).get()).data()].filter((d) => d !== undefined)
      : (
          await index
            .where('terms', 'array-contains', longest)
            .limit(terms.length === 1 ? THREAD_CANDIDATES : SEARCH_THREADS_PER_TERM)
            .get()
        ).docs.map((d) => d.data());
  const candidates = docs
    .filter((d) => terms.every((t) => d.terms.includes(t)))
    .map((d) => d.threadId)
    .slice(0, THREAD_CANDIDATES);
  if (candidates.length === 0) return [];
  const c = collections(db);
  const threadSnaps = await db.getAll(...candidates.map((id) => c.threads().doc(id)));
  const hits: Array<{ id: string; t: ThreadDoc }> = [];
  threadSnaps.forEach((snap, i) => {
    const t = snap.data() as ThreadDoc | undefined;
    if (t !== undefined && t.accountId === accountId && !t.mergedInto) {
      hits.push({ id: candidates[i]!, t });
    }
  });
  hits.sort((a, b) => (b.t.lastMessageAt?.getTime() ?? 0) - (a.t.lastMessageAt?.getTime() ?? 0));
  return hits.slice(0, THREAD_HITS).map(({ id, t }) => ({
    threadId: id,
    displayName: t.displayName,
    phoneE164: t.phoneE164,
    lastMessageAt: t.lastMessageAt?.toISOString() ?? null,
  }));
}
