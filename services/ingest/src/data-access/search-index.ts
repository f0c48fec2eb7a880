import {
  SEARCH_ENTRIES_PER_PART,
  SEARCH_PACKED_MAX_CHARS,
  SEARCH_TAIL_ENTRIES,
  packSearchEntries,
  searchEntryMessageId,
  searchPartId,
  searchPeriodEntries,
  type SearchPeriodDoc,
  type SearchThreadDoc,
} from '@wacrm/contracts';
import { searchPeriods, searchThreads } from '@wacrm/firestore';
import type { PeriodOps, SearchPlan } from '../domain/search-plan.js';
import type { Db, WriteBatch } from './firestore-store.js';

const READ_SLICE = 300;

type PeriodRef = ReturnType<ReturnType<typeof searchPeriods>['doc']>;

async function readAll<T>(db: Db, refs: Array<{ path: string }>): Promise<Array<T | undefined>> {
  const out: Array<T | undefined> = [];
  for (let i = 0; i < refs.length; i += READ_SLICE) {
    const slice = refs.slice(i, i + READ_SLICE) as Parameters<Db['getAll']>;
    const snaps = slice.length > 0 ? await db.getAll(...slice) : [];
    for (const snap of snaps) out.push(snap.exists ? (snap.data() as T) : undefined);
  }
  return out;
}

/**
 * Firestore takes up to 10 MiB per request: a commit carries at most this much of index (a busy
 * week's packed document is up to SEARCH_PACKED_MAX_CHARS), besides at most `maxWrites` writes.
 */
export const SEARCH_COMMIT_MAX_BYTES = 4 * 1024 * 1024;

/** The writes of one index commit, applied to a batch in order, and about what they weigh. */
export interface SearchCommit {
  writes: Array<(b: WriteBatch) => void>;
  bytes: number;
}

/** An index change read and planned, not yet written: its commits, to apply in order. */
export interface PreparedSearchIndex {
  commits: SearchCommit[];
}

/** Writes grouped so that one word-period's documents always share a commit. */
class GroupedBatches {
  private groups: Array<(b: WriteBatch) => void> = [];
  private size = 0;
  private bytes = 0;
  private readonly commits: SearchCommit[] = [];

  constructor(
    private readonly maxWrites: number,
    private readonly maxBytes = SEARCH_COMMIT_MAX_BYTES,
  ) {}

  /** `bytes`: about what the group's documents weigh. */
  add(group: Array<(b: WriteBatch) => void>, bytes = 0): void {
    if (group.length === 0) return;
    const full = this.size + group.length > this.maxWrites || this.bytes + bytes > this.maxBytes;
    if (full && this.size > 0) this.flush();
    this.groups.push(...group);
    this.size += group.length;
    this.bytes += bytes;
  }

  private flush(): void {
    this.commits.push({ writes: this.groups, bytes: this.bytes });
    this.groups = [];
    this.size = 0;
    this.bytes = 0;
  }

  /** The commits planned, in order. */
  planned(): SearchCommit[] {
    if (this.size > 0) this.flush();
    return this.commits;
  }
}

/** Commits the index's writes, each planned commit as one batch, in order. */
export async function commitSearchIndex(db: Db, prepared: PreparedSearchIndex): Promise<number> {
  for (const { writes } of prepared.commits) {
    const batch = db.batch();
    for (const w of writes) w(batch);
    await batch.commit();
  }
  return prepared.commits.length;
}

/**
 * Applies a plan to the index of one account. Read-then-write: it runs under the account's
 * ingest lock (one writer per account), and entries are keyed by message id, so a replay
 * changes nothing. The index is written before the messages it points to: a search never
 * misses a stored message, and a hit whose message is not stored yet is dropped by the reader.
 */
export async function applySearchPlan(
  db: Db,
  accountId: string,
  plan: SearchPlan,
  now: Date,
  maxWrites = 400,
): Promise<{ commits: number }> {
  const prepared = await prepareSearchIndex(db, accountId, plan, now, maxWrites);
  return { commits: await commitSearchIndex(db, prepared) };
}

/**
 * Reads what a plan changes and plans its writes (at most `maxWrites` and about
 * SEARCH_COMMIT_MAX_BYTES per commit) without writing: the caller commits them
 * (commitSearchIndex), or carries a single small commit in the commit of the messages it points
 * to (writeChangeSet; only such an index may be prepared with `reads` 'tail').
 */
export async function prepareSearchIndex(
  db: Db,
  accountId: string,
  plan: SearchPlan,
  now: Date,
  maxWrites = 400,
  reads: SearchReads = 'all',
): Promise<PreparedSearchIndex> {
  const batches = new GroupedBatches(maxWrites);
  await applyPeriods(db, accountId, [...plan.periods.values()], now, batches, reads);
  for (const [threadId, { terms, words }] of plan.threads) {
    // Written whole from the plan: no read, one write per thread.
    const doc: SearchThreadDoc = { threadId, terms, words, updatedAt: now };
    batches.add([(b) => b.set(searchThreads(db, accountId).doc(threadId), doc)]);
  }
  return { commits: batches.planned() };
}

/**
 * Which parts of a word-period a change reads. `all`: every part, so any entry can be found
 * (removes, edits, a reindex, a replay). `tail`: part 0, and the last sealed part only when the
 * tail fills — enough for entries of messages new to the store, when the index lands in the
 * commit of those messages: a replay after that commit finds the messages stored and adds
 * nothing, so no entry can already be in a sealed part. Parts not read are never written. (One
 * way an entry can be there: a history job whose index committed before its messages, stopped
 * between the two, and the same message arriving live before its replay; the entry is then
 * stored twice, and a search keeps one hit per message.)
 */
export type SearchReads = 'all' | 'tail';

async function applyPeriods(
  db: Db,
  accountId: string,
  ops: PeriodOps[],
  now: Date,
  batches: GroupedBatches,
  reads: SearchReads,
): Promise<void> {
  if (ops.length === 0) return;
  const refOf = (o: PeriodOps, part: number): PeriodRef =>
    searchPeriods(db, accountId, o.term).doc(searchPartId(o.period, part));
  const heads = await readAll<SearchPeriodDoc>(
    db,
    ops.map((o) => refOf(o, 0)),
  );
  const more: Array<{ op: number; part: number }> = [];
  heads.forEach((head, i) => {
    const count = head?.parts ?? 1;
    const o = ops[i]!;
    if (reads === 'all' || o.mayExist) {
      for (let part = 1; part < count; part++) more.push({ op: i, part });
    } else if (count > 1 && tailLength(head) + o.adds.size > SEARCH_TAIL_ENTRIES) {
      more.push({ op: i, part: count - 1 }); // the tail may fill: where it moves
    }
  });
  const rest = await readAll<SearchPeriodDoc>(
    db,
    more.map((m) => refOf(ops[m.op]!, m.part)),
  );
  /** A period's parts; null: a part not read (kept as stored). */
  const partsByOp = new Map<number, Array<string[] | null>>();
  /** Parts stored as an array (before the packing): rewritten packed. */
  const unpacked = new Map<number, Set<number>>();
  const load = (i: number, part: number, doc: SearchPeriodDoc | undefined): string[] => {
    if (doc !== undefined && doc.packed === undefined) {
      const set = unpacked.get(i) ?? new Set<number>();
      set.add(part);
      unpacked.set(i, set);
    }
    return doc !== undefined ? searchPeriodEntries(doc) : [];
  };
  heads.forEach((head, i) => {
    const parts = new Array<string[] | null>(head?.parts ?? 1).fill(null);
    parts[0] = load(i, 0, head);
    partsByOp.set(i, parts);
  });
  more.forEach((m, j) => {
    partsByOp.get(m.op)![m.part] = load(m.op, m.part, rest[j]);
  });

  ops.forEach((o, i) => {
    const parts = partsByOp.get(i)!;
    const where = new Map<string, { part: number; at: number }>();
    parts.forEach((entries, p) =>
      entries?.forEach((e, at) => where.set(searchEntryMessageId(e), { part: p, at })),
    );
    const changed = new Set<number>(unpacked.get(i));
    for (const id of o.removes) {
      const found = where.get(id);
      if (found === undefined || o.adds.has(id)) continue;
      const kept = parts[found.part]!.filter((e) => searchEntryMessageId(e) !== id);
      parts[found.part] = kept;
      kept.forEach((e, at) => where.set(searchEntryMessageId(e), { part: found.part, at }));
      where.delete(id);
      changed.add(found.part);
    }
    const chars = parts.map((entries) => entries?.reduce((n, e) => n + e.length + 1, 0) ?? 0);
    const partsBefore = parts.map((entries) => entries?.length ?? 0);
    for (const [id, entry] of o.adds) {
      const found = where.get(id);
      if (found !== undefined) {
        // The same message again (a replay) changes nothing; an entry written before signatures,
        // or one whose words changed (an edit), is replaced where it is.
        const entries = parts[found.part]!;
        if (entries[found.at] === entry) continue;
        chars[found.part]! += entry.length - entries[found.at]!.length;
        entries[found.at] = entry;
        changed.add(found.part);
        continue;
      }
      // A new entry goes into the tail (part 0), so a message rewrites a small document.
      if (parts[0]!.length >= SEARCH_TAIL_ENTRIES) sealTail(parts, chars, where);
      parts[0]!.push(entry);
      chars[0]! += entry.length + 1;
      where.set(id, { part: 0, at: parts[0]!.length - 1 });
      changed.add(0);
    }
    for (const p of sealed(parts, partsBefore)) changed.add(p);
    batches.add(
      [...changed].map((p) => (b: WriteBatch) => {
        const doc: SearchPeriodDoc = {
          term: o.term,
          period: o.period,
          part: p,
          parts: parts.length,
          packed: packSearchEntries(parts[p]!),
          // The embedded store's set() keeps fields the new document lacks: the array is emptied.
          ...(unpacked.get(i)?.has(p) === true ? { entries: [] } : {}),
          updatedAt: now,
        };
        b.set(refOf(o, p), doc);
      }),
      [...changed].reduce((n, p) => n + chars[p]! + 200, 0),
    );
  });
}

function tailLength(head: SearchPeriodDoc | undefined): number {
  return head === undefined ? 0 : searchPeriodEntries(head).length;
}

/**
 * Moves a full tail (part 0) into the last sealed part, or into a new one when that has no room
 * for it (by entries or characters): the tail's entries stay together, so a sealed part ends
 * below SEARCH_ENTRIES_PER_PART by less than a tail. A tail written before the tail existed (a
 * whole part) moves the same way, once.
 */
function sealTail(
  parts: Array<string[] | null>,
  chars: number[],
  where: Map<string, { part: number; at: number }>,
): void {
  const tail = parts[0]!;
  let last = parts.length - 1;
  const lastPart = parts[last];
  // Parts not read are never written: the last part is read whenever the tail may fill.
  if (lastPart === null) throw new Error('search index: the last part of a period was not read');
  if (
    last === 0 ||
    lastPart!.length + tail.length > SEARCH_ENTRIES_PER_PART ||
    chars[last]! + chars[0]! > SEARCH_PACKED_MAX_CHARS
  ) {
    parts.push([]);
    chars.push(0);
    last += 1;
  }
  const into = parts[last]!;
  for (const e of tail) {
    where.set(searchEntryMessageId(e), { part: last, at: into.length });
    into.push(e);
  }
  chars[last]! += chars[0]!;
  parts[0] = [];
  chars[0] = 0;
}

/** Parts a seal added to or created (part 0, which counts them, is written anyway). */
function sealed(parts: Array<string[] | null>, before: number[]): number[] {
  const out: number[] = [];
  for (let p = 1; p < parts.length; p++) {
    const entries = parts[p] ?? null;
    if (entries !== null && (p >= before.length || entries.length > before[p]!)) out.push(p);
  }
  return out;
}
