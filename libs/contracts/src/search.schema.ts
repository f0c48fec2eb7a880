import { z } from 'zod';
import { AccountId, IsoDateTime, MessageDirection, MessageType } from './common.schema.js';
import type { MessageDoc, ThreadDoc } from './firestore.schema.js';

/**
 * The search index, kept by ingest beside the conversations (derived data: it may be rebuilt,
 * never the other way round). Every read of it is a document lookup or a range query on one
 * small collection, so it needs neither collection-group queries nor cursors:
 *
 * - `accounts/{accountId}/searchTerms/{term}/periods/{period}[.{part}]` — the messages of one
 *   period (7 days from the epoch, UTC)
 *   that contain `term`, as compact entries (see `encodeSearchEntry`) packed into one string
 *   (`packed`, one entry a line), at most `SEARCH_ENTRIES_PER_PART` per document. Part 0 is the
 *   tail new entries are added to (`SEARCH_TAIL_ENTRIES`); a full tail moves into the parts
 *   `{period}.1`, `{period}.2`… A reader takes a period's parts as one set: which part holds an
 *   entry says nothing. Documents written before the packing hold an
 *   array (`entries`, one element per entry): read both ways (`searchPeriodEntries`), rewritten
 *   packed whenever touched (a reindex touches them all). One string instead of an array cut a
 *   search's CPU on the embedded store, which converts and serialises every array element
 *   (~8 µs each) of what a search reads.
 * - `accounts/{accountId}/searchThreads/{threadId}` — one document per thread with every prefix
 *   of its name's words and phone forms (`threadSearchTerms`), found by an `array-contains`
 *   query: a new thread costs one write, where a document per prefix cost one per prefix.
 * - `accounts/{accountId}/searchIndexState/backfill` — progress of the resumable backfill.
 */
export const SearchCollections = {
  terms: 'searchTerms',
  periods: 'periods',
  threads: 'searchThreads',
  state: 'searchIndexState',
} as const;

/** Every text comes from a stranger: only this much of it is read. */
export const SEARCH_TEXT_MAX_CHARS = 8192;
/** Distinct words indexed per message. */
export const SEARCH_TERMS_PER_MESSAGE = 64;
/** A word is cut to this many characters (the same cut applies to a query). */
export const SEARCH_TERM_MAX_CHARS = 32;
export const SEARCH_TERM_MIN_CHARS = 2;
export const SEARCH_ENTRIES_PER_PART = 2000;
/**
 * Part 0 of a period is its tail: new entries go there, and a full tail moves into the sealed
 * parts (1, 2…) in one piece. A message then rewrites a document of at most this many entries
 * plus, once per this many messages, a sealed part: about 32 + 2000 / 64 entries written per
 * word, where appending to a whole part wrote up to 2000 (a common word's week, every message).
 */
export const SEARCH_TAIL_ENTRIES = 64;
/**
 * A packed document's string: 2000 entries of ids at their longest (256 characters each, a few
 * escaped) would pass Firestore's 1 MiB per document, so a part also ends at this many characters.
 */
export const SEARCH_PACKED_MAX_CHARS = 512 * 1024;
/** Threads read for one query word (the most recent of them are shown). */
export const SEARCH_THREADS_PER_TERM = 500;
/** Words of a query; more are ignored. */
export const SEARCH_QUERY_MAX_TERMS = 8;
/**
 * A week: few enough documents per word for the bulk of history (one per word and week), small
 * enough that a common word's document stays a few kilobytes, rewritten as messages arrive.
 */
const PERIOD_MS = 7 * 86_400_000;

// Both linear: one character class, no nested or adjacent quantifiers.
const MARKS = /\p{M}+/gu;
const SEPARATORS = /[^\p{L}\p{N}]+/u;

/**
 * Lower case without diacritics: NFKD splits "ș" (comma below), "ş" (cedilla), "ț", "ţ", "ă",
 * "â", "î" into a base letter and a combining mark, and the marks are dropped — so "Ștefan",
 * "Ştefan" and "stefan" are one word.
 */
export function foldForSearch(text: string): string {
  return text.slice(0, SEARCH_TEXT_MAX_CHARS).normalize('NFKD').replace(MARKS, '').toLowerCase();
}

/** The distinct words of a text, folded, bounded in number and length, in order of appearance. */
export function searchTermsOf(text: string, max = SEARCH_TERMS_PER_MESSAGE): string[] {
  const out = new Set<string>();
  for (const raw of foldForSearch(text).split(SEPARATORS)) {
    if (raw.length < SEARCH_TERM_MIN_CHARS) continue;
    out.add(raw.slice(0, SEARCH_TERM_MAX_CHARS));
    if (out.size >= max) break;
  }
  return [...out];
}

/** What a message is found by: its text (the edited one when edited), caption and file name. */
export function messageSearchText(doc: Pick<MessageDoc, 'body' | 'editedBody' | 'media'>): string {
  return [doc.editedBody ?? doc.body, doc.media?.caption, doc.media?.fileName]
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
    .join('\n');
}

/** The words a message is indexed under; none for a revoked message. */
export function messageSearchTerms(
  doc: Pick<MessageDoc, 'body' | 'editedBody' | 'media' | 'deleted'>,
): string[] {
  return doc.deleted ? [] : searchTermsOf(messageSearchText(doc));
}

/** Digits a phone is typed with: international (40722…), national (0722…) and bare (722…) forms. */
function phoneForms(phoneE164: string): string[] {
  const digits = phoneE164.replace(/\D/g, '');
  const forms = [digits];
  // Country codes are 1–3 digits; a national number is typed with a leading 0, or without it.
  for (let cc = 1; cc <= 3 && cc < digits.length - 4; cc++) {
    forms.push(`0${digits.slice(cc)}`, digits.slice(cc));
  }
  return forms;
}

/** The folded words of a thread's name, as indexed. */
function threadNameWords(thread: Pick<ThreadDoc, 'displayName'>): string[] {
  return searchTermsOf(thread.displayName ?? '', 16);
}

const NAME_PREFIX_MIN = SEARCH_TERM_MIN_CHARS;
const PHONE_PREFIX_MIN = 3;

/** Prefixes (≥ 2 characters) of a thread's name words and (≥ 3) of its phone number's forms. */
export function threadSearchTerms(thread: Pick<ThreadDoc, 'displayName' | 'phoneE164'>): string[] {
  const out = new Set<string>();
  for (const word of threadNameWords(thread)) {
    for (let n = NAME_PREFIX_MIN; n <= word.length; n++) out.add(word.slice(0, n));
  }
  if (thread.phoneE164 !== null) {
    for (const form of phoneForms(thread.phoneE164)) {
      for (let n = PHONE_PREFIX_MIN; n <= form.length; n++) out.add(form.slice(0, n));
    }
  }
  return [...out];
}

/**
 * The same as `threadSearchTerms` in a few characters: the name's words, then `|`, then the
 * phone's forms, each list space-separated. A search selects this instead of the prefixes.
 */
export function threadSearchWords(thread: Pick<ThreadDoc, 'displayName' | 'phoneE164'>): string {
  const phone = thread.phoneE164 !== null ? phoneForms(thread.phoneE164) : [];
  return `${threadNameWords(thread).join(' ')}|${phone.join(' ')}`;
}

/** Whether `threadSearchTerms` of the thread whose `threadSearchWords` these are holds `term`. */
export function threadSearchWordsHave(words: string, term: string): boolean {
  const bar = words.indexOf('|');
  const has = (list: string, min: number) =>
    term.length >= min && list.split(' ').some((w) => w.length > 0 && w.startsWith(term));
  return has(words.slice(0, bar), NAME_PREFIX_MIN) || has(words.slice(bar + 1), PHONE_PREFIX_MIN);
}

export function searchPeriodOf(at: Date): number {
  return Math.floor(at.getTime() / PERIOD_MS);
}

export function searchPeriodStart(period: number): Date {
  return new Date(period * PERIOD_MS);
}

export function searchPartId(period: number, part: number): string {
  return part === 0 ? String(period) : `${period}.${part}`;
}

/** One indexed message: enough to filter and order without reading the message. */
export interface SearchEntry {
  messageId: string;
  threadId: string;
  tsMs: number;
  direction: MessageDirection;
  hasMedia: boolean;
}

/**
 * The words of a message as 128 bits (two per word, from a 32-bit FNV-1a hash), written with
 * the entry: a search of several words reads the entries of its rarest word only and keeps those
 * whose signature has every other word's bits. A false match (~2 % for a message of ten words) is
 * dropped when the message is read; a word the message has always matches.
 */
export const SEARCH_SIGNATURE_CHARS = 22;
const SIGNATURE_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const SIGNATURE_VALUES = new Map([...SIGNATURE_DIGITS].map((c, i) => [c, i]));

/** The two bit positions (0–127) of a word in a signature. */
export function searchSignatureBits(term: string): [number, number] {
  let h = 0x811c9dc5;
  for (let i = 0; i < term.length; i++) {
    h ^= term.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [h & 127, (h >>> 7) & 127];
}

export function searchSignature(terms: readonly string[]): string {
  const bits = new Array<number>(SEARCH_SIGNATURE_CHARS).fill(0);
  for (const term of terms) {
    for (const b of searchSignatureBits(term)) bits[Math.floor(b / 6)]! |= 1 << (b % 6);
  }
  return bits.map((v) => SIGNATURE_DIGITS[v]!).join('');
}

/** Whether a signature may hold every one of the bits; no signature (an older entry) may hold anything. */
export function searchSignatureHas(signature: string, bits: readonly number[]): boolean {
  if (signature.length !== SEARCH_SIGNATURE_CHARS) return true;
  for (const b of bits) {
    const v = SIGNATURE_VALUES.get(signature[Math.floor(b / 6)]!) ?? 63;
    if ((v & (1 << (b % 6))) === 0) return false;
  }
  return true;
}

/** One indexed message: enough to filter and order without reading the message. */
export interface SearchEntry {
  messageId: string;
  threadId: string;
  tsMs: number;
  direction: MessageDirection;
  hasMedia: boolean;
  /** `searchSignature` of the message's words; '' in entries written before signatures. */
  signature: string;
}

// Ids come from the network: the separators of the format are escaped in them (linear: one class).
const ID_SPECIAL = /[%|\n\r]/;
const ID_SPECIALS = /[%|\n\r]/g;
const ID_ESCAPES = /%(?:25|7C|0A|0D)/g;
const ESCAPES: Record<string, string> = { '%': '%25', '|': '%7C', '\n': '%0A', '\r': '%0D' };
const escapeId = (id: string) =>
  ID_SPECIAL.test(id) ? id.replace(ID_SPECIALS, (c) => ESCAPES[c] ?? c) : id;
const unescapeId = (id: string) =>
  id.includes('%') ? id.replace(ID_ESCAPES, (e) => decodeURIComponent(e)) : id;

/**
 * `ts(base 36)|flags|messageId|threadId`, flags being direction (`i`/`o`), media (`m`/`-`) and
 * the signature (entries written before signatures have the first two only). `|`, `%`, line
 * breaks in ids are %-escaped, so an entry is one line of a packed document.
 */
export function encodeSearchEntry(e: SearchEntry): string {
  const flags = `${e.direction === 'inbound' ? 'i' : 'o'}${e.hasMedia ? 'm' : '-'}${e.signature}`;
  return `${e.tsMs.toString(36)}|${flags}|${escapeId(e.messageId)}|${escapeId(e.threadId)}`;
}

export function decodeSearchEntry(s: string): SearchEntry | null {
  const first = s.indexOf('|');
  const second = s.indexOf('|', first + 1);
  const third = s.indexOf('|', second + 1);
  if (first < 0 || second < 0 || third < 0) return null;
  const tsMs = parseInt(s.slice(0, first), 36);
  const flags = s.slice(first + 1, second);
  if (
    !Number.isFinite(tsMs) ||
    (flags.length !== 2 && flags.length !== 2 + SEARCH_SIGNATURE_CHARS)
  ) {
    return null;
  }
  return {
    tsMs,
    direction: flags[0] === 'i' ? 'inbound' : 'outbound',
    hasMedia: flags[1] === 'm',
    signature: flags.slice(2),
    messageId: unescapeId(s.slice(second + 1, third)),
    threadId: unescapeId(s.slice(third + 1)),
  };
}

/** The message id of an encoded entry, without decoding the rest. */
export function searchEntryMessageId(s: string): string {
  const second = s.indexOf('|', s.indexOf('|') + 1);
  const third = s.indexOf('|', second + 1);
  return unescapeId(s.slice(second + 1, third));
}

export function searchEntryOf(doc: MessageDoc): SearchEntry {
  return {
    messageId: doc.waKey.id,
    threadId: doc.threadId,
    tsMs: doc.tsClient.getTime(),
    direction: doc.direction,
    hasMedia: doc.media !== null,
    signature: searchSignature(messageSearchTerms(doc)),
  };
}

const Time = z.date();

export const SearchPeriodDoc = z.object({
  term: z.string().min(1).max(SEARCH_TERM_MAX_CHARS),
  period: z.number().int(),
  part: z.number().int().nonnegative(),
  /** On part 0 only: how many parts the period has. */
  parts: z.number().int().positive(),
  /** The entries, one a line (`searchPeriodEntries` reads them). */
  packed: z.string().max(SEARCH_PACKED_MAX_CHARS).optional(),
  /** Before the packing: one array element per entry. Read, never written. */
  entries: z.array(z.string().max(2048)).max(SEARCH_ENTRIES_PER_PART).optional(),
  updatedAt: Time,
});
export type SearchPeriodDoc = z.infer<typeof SearchPeriodDoc>;

/** The encoded entries of a period document, in either format. */
export function searchPeriodEntries(doc: Pick<SearchPeriodDoc, 'packed' | 'entries'>): string[] {
  if (doc.packed !== undefined) return doc.packed.length > 0 ? doc.packed.split('\n') : [];
  return doc.entries ?? [];
}

/** Joins entries for `packed`. */
export function packSearchEntries(entries: readonly string[]): string {
  return entries.join('\n');
}

export const SearchThreadDoc = z.object({
  threadId: z.string().min(1),
  /** `threadSearchTerms` of the thread's name and phone. */
  terms: z.array(z.string().min(1).max(64)),
  /** `threadSearchWords`: what a search of several words reads (absent in older documents). */
  words: z.string().max(4096).optional(),
  updatedAt: Time,
});
export type SearchThreadDoc = z.infer<typeof SearchThreadDoc>;

export const SearchBackfillDoc = z.object({
  status: z.enum(['running', 'completed']),
  /** The last thread id done, in id order: a restarted job continues after it. */
  afterThreadId: z.string().nullable(),
  threads: z.number().int().nonnegative(),
  messages: z.number().int().nonnegative(),
  startedAt: Time,
  updatedAt: Time,
  completedAt: Time.nullable(),
});
export type SearchBackfillDoc = z.infer<typeof SearchBackfillDoc>;

// HTTP

const booleanQuery = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .describe('true or false');

export const SearchQuery = z.object({
  q: z.string().trim().min(1).max(200),
  accountId: AccountId,
  threadId: z.string().min(1).max(1500).optional(),
  direction: MessageDirection.optional(),
  since: IsoDateTime.optional(),
  until: IsoDateTime.optional(),
  hasMedia: booleanQuery.optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
  cursor: z.string().max(2000).optional(),
});
export type SearchQuery = z.infer<typeof SearchQuery>;

export const SearchThreadHit = z.object({
  threadId: z.string(),
  displayName: z.string().nullable(),
  phoneE164: z.string().nullable(),
  lastMessageAt: IsoDateTime.nullable(),
});
export type SearchThreadHit = z.infer<typeof SearchThreadHit>;

export const SearchMessageHit = z.object({
  threadId: z.string(),
  messageId: z.string(),
  /** Thread name, for the result list. */
  displayName: z.string().nullable(),
  phoneE164: z.string().nullable(),
  direction: MessageDirection,
  type: MessageType,
  /** The matching text (edited text when edited), cut to 300 characters around the match. */
  snippet: z.string(),
  hasMedia: z.boolean(),
  tsClient: IsoDateTime,
});
export type SearchMessageHit = z.infer<typeof SearchMessageHit>;

export const SearchResponse = z.object({
  /** The folded words searched for. */
  terms: z.array(z.string()),
  /** Threads by name or phone (first page only). */
  threads: z.array(SearchThreadHit),
  /** Messages newest first. */
  messages: z.array(SearchMessageHit),
  nextCursor: z.string().nullable(),
});
export type SearchResponse = z.infer<typeof SearchResponse>;

export const SearchReindexBody = z.object({ accountId: AccountId });
export const SearchReindexAccepted = z.object({ accountId: AccountId, jobId: z.string() });

/** `reindex-search` on wa-inbound: one slice of the backfill; it enqueues the next. */
export const ReindexSearchJob = z.object({
  accountId: AccountId,
  /** Continue after this thread id (null: from the stored progress, or the start). */
  afterThreadId: z.string().nullable(),
  requestedBy: z.string().min(1).max(256),
});
export type ReindexSearchJob = z.infer<typeof ReindexSearchJob>;
