import type { Firestore, Transaction } from 'firebase-admin/firestore';
import {
  AppError,
  inboxSettingsOf,
  NOTES_PAGE_LIMIT,
  type InboxSettings,
  type NoteDoc,
  type ThreadDoc,
  type ThreadStage,
  type WaKey,
} from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { docId } from '../domain/doc-id.js';

/** The operator inbox's writes (issue 20): notes, assignment, stage/labels, settings. */

export async function inboxSettings(db: Firestore, accountId: string): Promise<InboxSettings> {
  const doc = (await collections(db).accounts().doc(docId(accountId, 'accountId')).get()).data();
  if (doc === undefined) throw new AppError('NOT_FOUND', `account ${accountId} does not exist`);
  return inboxSettingsOf(doc.inbox);
}

/** An account's inbox settings read at most once per `ttlMs` (RouteDeps.inboxSettings). */
export interface InboxSettingsCache {
  get(accountId: string): Promise<InboxSettings>;
  /** Drops what is cached for the account (its settings just changed here). */
  forget(accountId: string): void;
}

/**
 * Every accepted send asks whether the account sends read receipts on reply; reading the account
 * document for it on every send was one store read per send. Cached per account for `ttlMs`, one
 * read in flight at a time, a failed read not kept; a change made through this process is seen
 * at once (forget), one made through another replica within `ttlMs`.
 */
export function cachedInboxSettings(
  db: Firestore,
  ttlMs: number,
  now: () => number = Date.now,
): InboxSettingsCache {
  const entries = new Map<string, { at: number; value: Promise<InboxSettings> }>();
  return {
    get(accountId) {
      const at = now();
      const hit = entries.get(accountId);
      if (hit !== undefined && at - hit.at < ttlMs) return hit.value;
      const entry = { at, value: inboxSettings(db, accountId) };
      entries.set(accountId, entry);
      entry.value.catch(() => {
        if (entries.get(accountId) === entry) entries.delete(accountId);
      });
      return entry.value;
    },
    forget(accountId) {
      entries.delete(accountId);
    },
  };
}

export async function updateInboxSettings(
  db: Firestore,
  accountId: string,
  patch: Partial<InboxSettings>,
  now = new Date(),
): Promise<InboxSettings> {
  const ref = collections(db).accounts().doc(docId(accountId, 'accountId'));
  return db.runTransaction(async (tx) => {
    const doc = (await tx.get(ref)).data();
    if (doc === undefined) throw new AppError('NOT_FOUND', `account ${accountId} does not exist`);
    const next = { ...inboxSettingsOf(doc.inbox), ...patch };
    tx.set(ref, { inbox: next, updatedAt: now }, { merge: true });
    return next;
  });
}

/** A thread read inside a transaction (404 when it does not exist). */
async function threadIn(db: Firestore, tx: Transaction, threadId: string) {
  const ref = collections(db).threads().doc(docId(threadId, 'threadId'));
  const thread = (await tx.get(ref)).data();
  if (thread === undefined) throw new AppError('NOT_FOUND', `thread ${threadId} does not exist`);
  return { ref, thread };
}

/** Appends a note; notes are never edited or deleted (the thread keeps their history). */
export async function addNote(
  db: Firestore,
  threadId: string,
  note: NoteDoc,
): Promise<{ id: string; doc: NoteDoc }> {
  const ref = collections(db).notes(docId(threadId, 'threadId')).doc();
  await ref.create(note);
  return { id: ref.id, doc: note };
}

/** A thread's notes, oldest first, the newest NOTES_PAGE_LIMIT. */
export async function listNotes(
  db: Firestore,
  threadId: string,
  limit = NOTES_PAGE_LIMIT,
): Promise<Array<{ id: string; doc: NoteDoc }>> {
  const snap = await collections(db)
    .notes(docId(threadId, 'threadId'))
    .orderBy('createdAt', 'desc')
    .limit(limit)
    .get();
  return snap.docs.map((d) => ({ id: d.id, doc: d.data() })).reverse();
}

/**
 * Sets the thread's assignee in a transaction. Taking a thread another user holds (or releasing
 * it) needs `force`; otherwise a 409 names the holder, so the web can ask the operator first.
 */
export async function assignThread(
  db: Firestore,
  threadId: string,
  input: { assigneeUid: string | null; force: boolean; callerId: string },
  now = new Date(),
): Promise<ThreadDoc> {
  return db.runTransaction(async (tx) => {
    const { ref, thread } = await threadIn(db, tx, threadId);
    const holder = thread.assigneeUid ?? null;
    if (
      holder !== null &&
      holder !== input.assigneeUid &&
      holder !== input.callerId &&
      !input.force
    ) {
      throw new AppError(
        'CONFLICT',
        `thread ${threadId} is assigned to ${holder}; send force: true to take it`,
        { errors: [{ path: 'assigneeUid', message: `held by ${holder}` }] },
      );
    }
    if (holder === input.assigneeUid) return thread;
    const patch = {
      assigneeUid: input.assigneeUid,
      assignedAt: input.assigneeUid === null ? null : now,
      updatedAt: now,
    };
    tx.set(ref, patch, { merge: true });
    return { ...thread, ...patch };
  });
}

export async function tagThread(
  db: Firestore,
  threadId: string,
  input: { stage?: ThreadStage | null; labels?: string[] },
  now = new Date(),
): Promise<ThreadDoc> {
  return db.runTransaction(async (tx) => {
    const { ref, thread } = await threadIn(db, tx, threadId);
    if (input.labels !== undefined) {
      const account = (
        await tx.get(collections(db).accounts().doc(docId(thread.accountId, 'accountId')))
      ).data();
      const known = new Set(inboxSettingsOf(account?.inbox).labels.map((l) => l.id));
      const unknown = input.labels.filter((l) => !known.has(l));
      if (unknown.length > 0) {
        throw new AppError('VALIDATION_FAILED', `unknown labels: ${unknown.join(', ')}`, {
          errors: [{ path: 'labels', message: `not a label of account ${thread.accountId}` }],
        });
      }
    }
    const patch = {
      ...(input.stage !== undefined ? { stage: input.stage } : {}),
      ...(input.labels !== undefined ? { labels: input.labels } : {}),
      updatedAt: now,
    };
    tx.set(ref, patch, { merge: true });
    return { ...thread, ...patch };
  });
}

/** Threads whose last message is inbound and older than `cutoff` (a count aggregation). */
export async function countWaiting(db: Firestore, accountId: string, cutoff: Date) {
  const snap = await collections(db)
    .threads()
    .where('accountId', '==', accountId)
    .where('lastMessageDirection', '==', 'inbound')
    .where('lastMessageAt', '<', cutoff)
    .count()
    .get();
  return snap.data().count;
}

/** Keys of the thread's inbound messages up to `upTo` since its last outbound one (read receipts). */
export async function inboundKeysUpTo(
  db: Firestore,
  threadId: string,
  upTo: string,
  limit: number,
): Promise<WaKey[]> {
  const col = collections(db).messages(docId(threadId, 'threadId'));
  let until: Date;
  if (/^\d{4}-\d{2}-\d{2}T/.test(upTo)) {
    until = new Date(upTo);
  } else {
    const message = (await col.doc(docId(upTo, 'messageId')).get()).data();
    if (message === undefined) return [];
    until = message.tsClient;
  }
  const snap = await col
    .where('tsClient', '<=', until)
    .orderBy('tsClient', 'desc')
    .limit(limit * 4)
    .get();
  // The client's messages since the business last spoke (newest first, up to `limit`).
  const keys: WaKey[] = [];
  for (const d of snap.docs) {
    const m = d.data();
    if (m.direction === 'outbound') break;
    if (!m.waKey.fromMe) keys.push(m.waKey);
    if (keys.length === limit) break;
  }
  return keys;
}
