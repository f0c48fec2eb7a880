import type { DocumentReference, Firestore } from 'firebase-admin/firestore';
import {
  SEARCH_THREADS_PER_TERM,
  decodeSearchEntry,
  searchPeriodEntries,
  searchSignatureBits,
  searchSignatureHas,
  threadSearchWordsHave,
  type SearchThreadDoc,
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
import {
  collections,
  searchPeriods,
  searchThreads as searchThreadDocs,
  timestampsToDates,
} from '@wacrm/firestore';
import { compareEntries, isBeyondCursor, snippetOf } from '../domain/search-query.js';

/**
 * Period documents read in each round, then in every later one. A week of a common word holds
 * hundreds of entries, so most searches end after the newest week; a rare word widens the window.
 * (Reading four weeks at once made every search move ~100 KB of index from the store: bench:api
 * measured 65 CPU ms per search, mostly the store serialising them.)
 */
const PERIODS_PER_ROUND = [1, 8, 26] as const;
const MAX_ROUNDS = 8;
/** Candidates read per request, in pages of the search's limit (see searchMessages). */
const HYDRATE_PAGES = 4;
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

interface TermPage {
  entries: string[];
  /** Periods from this one up to the window's top are complete in `entries`. */
  completeFrom: number;
  /** The lowest period read (Infinity when none). */
  lowest: number;
}

/** One word's periods in [lo, hi], newest first, at most `limit` documents. */
async function readTerm(
  db: Firestore,
  accountId: string,
  term: string,
  lo: number,
  hi: number,
  limit: number,
): Promise<TermPage> {
  const snap = await searchPeriods(db, accountId, term)
    .where('period', '<=', hi)
    .where('period', '>=', lo)
    .orderBy('period', 'desc')
    .limit(limit)
    .get();
  const docs = snap.docs.map((d) => d.data());
  const entries: string[] = [];
  let lowest = Infinity;
  for (const doc of docs) {
    lowest = Math.min(lowest, doc.period);
    for (const e of searchPeriodEntries(doc)) entries.push(e);
  }
  // A full page may have cut the lowest period's parts: unless all of them (part 0 says how
  // many) are here, that period is read again next round.
  let completeFrom = lo;
  if (docs.length >= limit) {
    const cut = docs.filter((doc) => doc.period === lowest);
    const head = cut.find((doc) => doc.part === 0);
    completeFrom = head !== undefined && cut.length >= head.parts ? lowest : lowest + 1;
  }
  return { entries, completeFrom, lowest };
}

/**
 * Messages containing every word, newest first. The first round reads each word's newest period
 * document; the word with the fewest entries per week read (the rarest) drives the search: later
 * rounds read only its periods, a window at a time (range filters on one small collection), and
 * its entries are kept when their signature holds the other words' bits. The hits' messages are
 * read to drop a false match and what was revoked or edited away since it was indexed.
 */
export async function searchMessages(db: Firestore, s: MessageSearch): Promise<MessageSearchPage> {
  const terms = [...new Set(s.terms)];
  if (terms.length === 0) return { items: [], nextCursor: null };
  const sinceMs = s.since?.getTime() ?? 0;
  let untilMs = s.until?.getTime() ?? 8.64e15;
  if (s.cursor !== undefined) untilMs = Math.min(untilMs, s.cursor.ts + 1);
  const lo = searchPeriodOf(new Date(sinceMs));
  let hi = searchPeriodOf(new Date(Math.min(untilMs, Date.now() + 86_400_000 * 366)));

  const probes = await Promise.all(
    terms.map((term) => readTerm(db, s.accountId, term, lo, hi, PERIODS_PER_ROUND[0])),
  );
  // A word with no period in the window: nothing has every word.
  if (probes.some((p) => p.entries.length === 0)) return { items: [], nextCursor: null };
  // Entries per week from a word's newest period in the window to now.
  const top = Math.min(hi, searchPeriodOf(new Date()));
  const density = (p: TermPage) => p.entries.length / (Math.max(top - p.lowest, 0) + 1);
  let driver = 0;
  probes.forEach((p, i) => {
    if (density(p) < density(probes[driver]!)) driver = i;
  });
  const driverTerm = terms[driver]!;
  const otherBits = terms.filter((t) => t !== driverTerm).flatMap((t) => searchSignatureBits(t));

  const found: SearchEntry[] = [];
  const seen = new Set<string>();
  let page = probes[driver]!;
  let exhausted = false;
  let rounds = 1;
  for (;;) {
    for (const raw of page.entries) {
      const e = decodeSearchEntry(raw);
      if (e === null) continue;
      if (e.tsMs < sinceMs || e.tsMs >= untilMs) continue;
      if (searchPeriodOf(new Date(e.tsMs)) < page.completeFrom) continue;
      if (s.cursor !== undefined && !isBeyondCursor(e, s.cursor)) continue;
      if (s.threadId !== undefined && e.threadId !== s.threadId) continue;
      if (s.direction !== undefined && e.direction !== s.direction) continue;
      if (s.hasMedia !== undefined && e.hasMedia !== s.hasMedia) continue;
      if (!searchSignatureHas(e.signature, otherBits)) continue;
      const key = `${e.threadId}\u0000${e.messageId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      found.push(e);
    }
    if (page.completeFrom <= lo) {
      exhausted = true;
      break;
    }
    hi = page.completeFrom - 1;
    if (found.length > s.limit || rounds >= MAX_ROUNDS) break;
    rounds += 1;
    const perRound = PERIODS_PER_ROUND[Math.min(rounds, PERIODS_PER_ROUND.length) - 1]!;
    page = await readTerm(db, s.accountId, driverTerm, lo, hi, perRound);
  }
  found.sort(compareEntries);
  // Read in turn as many as the page shows, until it is full or no candidate is left. Entries
  // without a signature (indexed before signatures, until a reindex) may all be false matches
  // of a several-word search: a page reads at most HYDRATE_PAGES pages of them, and the cursor
  // goes on after the last one read.
  const items: SearchMessageHit[] = [];
  let next = 0;
  let lastRead: SearchEntry | undefined;
  while (items.length < s.limit && next < found.length && next < s.limit * HYDRATE_PAGES) {
    const chunk = found.slice(next, next + s.limit - items.length);
    next += chunk.length;
    lastRead = chunk[chunk.length - 1];
    for (const hit of await hydrate(db, s.accountId, chunk, terms)) items.push(hit);
  }
  const nextCursor =
    next < found.length && lastRead !== undefined
      ? { ts: lastRead.tsMs, id: lastRead.messageId }
      : exhausted
        ? null
        : { ts: searchPeriodStart(hi + 1).getTime(), id: '' };
  return { items, nextCursor };
}

/** What a hit shows and checks of its message and thread: only these fields are read. */
const MESSAGE_FIELDS = [
  'accountId',
  'threadId',
  'waKey',
  'body',
  'editedBody',
  'media',
  'deleted',
  'direction',
  'type',
  'tsClient',
] as const;
const THREAD_FIELDS = [
  'accountId',
  'displayName',
  'phoneE164',
  'mergedInto',
  'lastMessageAt',
] as const;

/**
 * Some fields of documents (a field mask: the store sends only those), timestamps as dates.
 * Not parsed by the contract: a hit is checked field by field and the response by its schema.
 */
async function readFields<T, K extends keyof T & string>(
  db: Firestore,
  refs: Array<DocumentReference<T>>,
  fields: readonly K[],
): Promise<Array<Pick<T, K> | undefined>> {
  if (refs.length === 0) return [];
  const snaps = await db.getAll(...refs.map((r) => r.withConverter(null)), {
    fieldMask: [...fields],
  });
  return snaps.map((snap) =>
    snap.exists ? (timestampsToDates(snap.data()) as Pick<T, K>) : undefined,
  );
}

/**
 * A hit's message and thread fields in one mask: neither kind of document has the other's
 * fields, so one batch get answers both as two masked ones would, one store round trip less.
 */
const HIT_FIELDS = [...new Set([...MESSAGE_FIELDS, ...THREAD_FIELDS])];

async function hydrate(
  db: Firestore,
  accountId: string,
  page: SearchEntry[],
  terms: string[],
): Promise<SearchMessageHit[]> {
  if (page.length === 0) return [];
  const c = collections(db);
  const threadIds = [...new Set(page.map((e) => e.threadId))];
  const docs = await readFields<MessageDoc & ThreadDoc, (typeof HIT_FIELDS)[number]>(
    db,
    [
      ...page.map((e) => c.messages(e.threadId).doc(e.messageId)),
      ...threadIds.map((id) => c.threads().doc(id)),
    ] as Array<DocumentReference<MessageDoc & ThreadDoc>>,
    HIT_FIELDS,
  );
  const messageDocs = docs.slice(0, page.length) as Array<
    Pick<MessageDoc, (typeof MESSAGE_FIELDS)[number]> | undefined
  >;
  const threadDocs = docs.slice(page.length) as Array<
    Pick<ThreadDoc, (typeof THREAD_FIELDS)[number]> | undefined
  >;
  const threads = new Map<string, Pick<ThreadDoc, (typeof THREAD_FIELDS)[number]>>();
  threadDocs.forEach((t, i) => {
    if (t !== undefined) threads.set(threadIds[i]!, t);
  });
  const out: SearchMessageHit[] = [];
  messageDocs.forEach((m) => {
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
  // One query by the longest (rarest) word; the others are checked on the documents it
  // returns, from their words (a few characters: only those are selected, not the prefixes).
  const index = searchThreadDocs(db, accountId);
  const longest = terms.reduce((a, b) => (b.length > a.length ? b : a));
  const found: Array<{ threadId: string; words: string | undefined; terms?: string[] }> =
    threadId !== undefined
      ? [(await index.doc(threadId).get()).data()]
          .filter((d) => d !== undefined)
          .map((d) => ({ threadId: d.threadId, words: d.words, terms: d.terms }))
      : (
          await index
            .withConverter(null)
            .where('terms', 'array-contains', longest)
            .select('threadId', 'words')
            .limit(terms.length === 1 ? THREAD_CANDIDATES : SEARCH_THREADS_PER_TERM)
            .get()
        ).docs.map((d) => ({
          threadId: d.id,
          words: typeof d.get('words') === 'string' ? (d.get('words') as string) : undefined,
        }));
  // Documents indexed before `words` existed are read whole (until a reindex rewrites them).
  const older = found
    .filter((d) => d.words === undefined && d.terms === undefined)
    .map((d) => d.threadId);
  const olderTerms = new Map<string, string[]>();
  if (terms.length > 1 && older.length > 0) {
    const snaps = await db.getAll(...older.map((id) => index.doc(id)));
    snaps.forEach((snap) => {
      const d = snap.data() as SearchThreadDoc | undefined;
      if (d !== undefined) olderTerms.set(snap.id, d.terms);
    });
  }
  const candidates = found
    .filter((d) =>
      terms.every((t) =>
        d.words !== undefined
          ? threadSearchWordsHave(d.words, t)
          : terms.length === 1 || (d.terms ?? olderTerms.get(d.threadId) ?? []).includes(t),
      ),
    )
    .map((d) => d.threadId)
    .slice(0, THREAD_CANDIDATES);
  if (candidates.length === 0) return [];
  const c = collections(db);
  const threadDocs = await readFields<ThreadDoc, (typeof THREAD_FIELDS)[number]>(
    db,
    candidates.map((id) => c.threads().doc(id)),
    THREAD_FIELDS,
  );
  const hits: Array<{ id: string; t: Pick<ThreadDoc, (typeof THREAD_FIELDS)[number]> }> = [];
  threadDocs.forEach((t, i) => {
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
