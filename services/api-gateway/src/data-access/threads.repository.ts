import type { Firestore, Query, QueryDocumentSnapshot } from 'firebase-admin/firestore';
import { AppError, type MessageDoc, type ThreadDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { docId } from '../domain/doc-id.js';
import { keysetPage, type Direction, type KeysetCursor } from '../domain/keyset.js';

/** Bound on one group of equal timestamps read to order it by id. */
const MAX_TIES = 2_000;
/** Bound on the threads one filtered page reads (a page may end early past it). */
const FILTER_SCAN = 5_000;
const FILTER_CHUNK = 200;

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
    /** Inbox filters (assignee, stage, label, waiting), applied while reading in order. */
    filter?: (doc: ThreadDoc) => boolean;
  },
) {
  const base = collections(db).threads().where('accountId', '==', accountId);
  const filter = options.filter;
  const toItem = (d: QueryDocumentSnapshot<ThreadDoc>) => {
    const doc = d.data();
    return { id: d.id, ts: doc.lastMessageAt ?? new Date(0), doc };
  };
  return keysetPage(
    {
      async range(beyond, limit) {
        let q = withRange(base, 'lastMessageAt', options.range);
        if (beyond !== undefined) q = q.where('lastMessageAt', '<', beyond);
        q = q.orderBy('lastMessageAt', 'desc');
        if (filter === undefined) return (await q.limit(limit).get()).docs.map(toItem);
        // Filtered: read on in order until `limit` match or FILTER_SCAN threads were read.
        const found: ReturnType<typeof toItem>[] = [];
        let after: QueryDocumentSnapshot<ThreadDoc> | undefined;
        for (let scanned = 0; found.length < limit && scanned < FILTER_SCAN;) {
          const chunk = Math.min(FILTER_CHUNK, FILTER_SCAN - scanned);
          const snap = await (after !== undefined ? q.startAfter(after) : q).limit(chunk).get();
          scanned += snap.size;
          for (const d of snap.docs) if (filter(d.data())) found.push(toItem(d));
          if (snap.size < chunk) break;
          after = snap.docs.at(-1);
        }
        return found.slice(0, limit);
      },
      async ties(ts) {
        const snap = await base.where('lastMessageAt', '==', ts).limit(MAX_TIES).get();
        const items = snap.docs.map(toItem);
        return filter === undefined ? items : items.filter((i) => filter(i.doc));
      },
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
