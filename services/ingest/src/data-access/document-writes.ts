import type {
  AccountDoc,
  HistoryChunkDoc,
  IdentityDoc,
  RealtimeEvent,
  SearchBackfillDoc,
} from '@wacrm/contracts';
import { recordWebhookEvents, searchBackfillState } from '@wacrm/firestore';
import type { LooseWrite } from './change-writer.js';
import type { FirestoreStore } from './firestore-store.js';

/**
 * The writes of ingest's documents other than threads and messages (those are change sets, see
 * writeChangeSet). The domain decides what to write and gets a LooseWrite; only data-access
 * touches a batch.
 */

/** An account's fields: merged into the stored document, or on a new one seeded with `seed`. */
export function accountWrite(
  store: FirestoreStore,
  accountId: string,
  seed: AccountDoc | null,
  fields: Partial<AccountDoc>,
  events: RealtimeEvent[] = [],
): LooseWrite {
  const ref = store.accountRef(accountId);
  return {
    apply: (b) =>
      seed !== null ? b.set(ref, { ...seed, ...fields }) : b.set(ref, fields, { merge: true }),
    events,
  };
}

export function historyChunkWrite(store: FirestoreStore, chunk: HistoryChunkDoc): LooseWrite {
  return { apply: (b) => b.set(store.chunkRef(chunk.accountId, chunk.chunkId), chunk), events: [] };
}

export function identityWrite(store: FirestoreStore, doc: IdentityDoc): LooseWrite {
  return { apply: (b) => b.set(store.identityRef(doc.accountId, doc.lid), doc), events: [] };
}

/** A thread's unread count after a read mark (counters otherwise move with change sets). */
export function unreadCountWrite(
  store: FirestoreStore,
  threadId: string,
  unreadCount: number,
  now: Date,
  events: RealtimeEvent[],
): LooseWrite {
  return {
    apply: (b) =>
      b.set(store.threadRef(threadId), { unreadCount, updatedAt: now }, { merge: true }),
    events,
  };
}

/** Commits writes in one batch with their webhook events' record, then announces them. */
export async function commitWrites(
  store: FirestoreStore,
  writes: readonly LooseWrite[],
  now: Date,
  onCommitted: (events: RealtimeEvent[]) => Promise<void>,
): Promise<void> {
  const batch = store.db.batch();
  const events: RealtimeEvent[] = [];
  for (const w of writes) {
    w.apply(batch);
    events.push(...w.events);
  }
  recordWebhookEvents(store.db, batch, events, now);
  await batch.commit();
  await onCommitted(events);
}

/** `searchIndexState/backfill`: where an account's search backfill got to. */
export async function loadSearchBackfill(
  store: FirestoreStore,
  accountId: string,
): Promise<SearchBackfillDoc | undefined> {
  return (await searchBackfillState(store.db, accountId).get()).data();
}

export async function saveSearchBackfill(
  store: FirestoreStore,
  accountId: string,
  state: SearchBackfillDoc,
): Promise<void> {
  await searchBackfillState(store.db, accountId).set(state);
}
