import type { Firestore, Query, QueryDocumentSnapshot } from 'firebase-admin/firestore';
import { AppError, type MessageDoc, type ThreadDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { docId } from '../domain/doc-id.js';
import { keysetPage, type Direction, type KeysetCursor } from '../domain/keyset.js';

/** Bound on one group of equal timestamps read to order it by id. */
const MAX_TIES = 2_000;
/**
 * Bound on the threads one page reads for a filter no index answers (`unassigned`, not waiting);
 * such a page may end early past it.
 */
const FILTER_SCAN = 5_000;
const FILTER_CHUNK = 200;

/**
 * The inbox filters of a thread list. `where` clauses and `before` go into the query, each
 * answered by a composite index ending in `lastMessageAt DESC` (firebase/firestore.indexes.json;
 * several clauses at once by Firestore's index merging), so a page reads what it returns.
 * `residual` is what no index can answer, checked while reading on in order.
 */
export interface ThreadFilter {
  where: Array<
    | { field: 'assigneeUid' | 'stage' | 'lastMessageDirection'; op: '=='; value: string }
    | { field: 'labels'; op: 'array-contains'; value: string }
  >;
  /** Only threads whose last message is before this time (waiting: came before the limit). */
  before?: Date;
  residual?: (doc: ThreadDoc) => boolean;
}

export interface TimeRange {
  since?: Date;
  until?: Date;
}

function withRange<T>(query: Query<T>, field: string, range: TimeRange): Query<T> {
  let q = query;
  if (range.since !== undefined) q = q.where(field, '>=', range.since);
  if (range.until !== undefined) q = q.where(field, '<', range.until);
  return q;
}

export async function getThread(db: Firestore, threadId: string): Promise<ThreadDoc> {
  const doc = (await collections(db).threads().doc(docId(threadId, 'threadId')).get()).data();
  if (doc === undefined) throw new AppError('NOT_FOUND', `thread ${threadId} does not exist`);
  return doc;
}

/** One account's threads, newest last message first, keyset-paginated on (lastMessageAt, id). */
export async function pageThreads(
  db: Firestore,
  accountId: string,
  options: {
    limit: number;
    cursor?: KeysetCursor;
    range: TimeRange;
    /** Inbox filters (assignee, stage, label, waiting). */
    filter?: ThreadFilter;
  },
) {
  let base = collections(db).threads().where('accountId', '==', accountId);
  for (const w of options.filter?.where ?? []) base = base.where(w.field, w.op, w.value);
  const residual = options.filter?.residual;
  const range: TimeRange = { ...options.range };
  const before = options.filter?.before;
  if (before !== undefined && (range.until === undefined || before < range.until)) {
    range.until = before;
  }
  const toItem = (d: QueryDocumentSnapshot<ThreadDoc>) => {
    const doc = d.data();
    return { id: d.id, ts: doc.lastMessageAt ?? new Date(0), doc };
  };
  type Item = ReturnType<typeof toItem>;
  const ties = async (ts: Date): Promise<Item[]> => {
    const snap = await base.where('lastMessageAt', '==', ts).limit(MAX_TIES).get();
    const items = snap.docs.map(toItem);
    return residual === undefined ? items : items.filter((i) => residual(i.doc));
  };
  const ordered = (beyond: Date | undefined) => {
    let q = withRange(base, 'lastMessageAt', range);
    if (beyond !== undefined) q = q.where('lastMessageAt', '<', beyond);
    return q.orderBy('lastMessageAt', 'desc');
  };
  return keysetPage(
    {
      async range(beyond, limit) {
        if (residual === undefined)
          return (await ordered(beyond).limit(limit).get()).docs.map(toItem);
        // Read on in order, a chunk at a time, until `limit` match or FILTER_SCAN were read. The
        // next chunk starts below the last one's time (cursors by range: the emulator ignores
        // startAfter), so the group at that time is read whole by `ties`.
        const found: Item[] = [];
        let below = beyond;
        for (let scanned = 0; found.length < limit && scanned < FILTER_SCAN;) {
          const chunk = (await ordered(below).limit(FILTER_CHUNK).get()).docs.map(toItem);
          scanned += chunk.length;
          const last = chunk.at(-1);
          if (last === undefined || chunk.length < FILTER_CHUNK) {
            found.push(...chunk.filter((i) => residual(i.doc)));
            break;
          }
          const lastTs = last.ts.getTime();
          found.push(...chunk.filter((i) => i.ts.getTime() !== lastTs && residual(i.doc)));
          found.push(...(await ties(last.ts)));
          below = last.ts;
        }
        return found;
      },
      ties,
    },
    {
      limit: options.limit,
      direction: 'desc',
      ...(options.cursor ? { cursor: options.cursor } : {}),
    },
  );
}

/** A thread's messages by tsClient (newest first by default), keyset-paginated on (tsClient, id). */
export async function pageMessages(
  db: Firestore,
  threadId: string,
  options: { limit: number; direction: Direction; cursor?: KeysetCursor; range: TimeRange },
) {
  const col = collections(db).messages(docId(threadId, 'threadId'));
  const toItem = (d: QueryDocumentSnapshot<MessageDoc>) => {
    const doc = d.data();
    return { id: d.id, ts: doc.tsClient, doc };
  };
  return keysetPage(
    {
      async range(beyond, limit) {
        let q = withRange(col, 'tsClient', options.range);
        if (beyond !== undefined) {
          q = q.where('tsClient', options.direction === 'desc' ? '<' : '>', beyond);
        }
        const snap = await q.orderBy('tsClient', options.direction).limit(limit).get();
        return snap.docs.map(toItem);
      },
      async ties(ts) {
        const snap = await col.where('tsClient', '==', ts).limit(MAX_TIES).get();
        return snap.docs.map(toItem);
      },
    },
    {
      limit: options.limit,
      direction: options.direction,
      ...(options.cursor ? { cursor: options.cursor } : {}),
    },
  );
}
