import type { DocumentSnapshot, Firestore } from 'firebase-admin/firestore';
import { waMessageIdFor, type OutboxDoc, type OutgoingMedia } from '@wacrm/contracts';
import { collections } from '../collections.js';
import { createOnce, sha256Of, type CreateOnceResult } from '../create-once.js';

export interface NewOutboxEntry {
  requestId: string;
  accountId: string;
  threadId: string;
  /** Recipient JID. */
  to: string;
  text: string | null;
  media: OutgoingMedia | null;
  /** Id of the quoted message in the same thread. */
  replyTo: string | null;
  createdBy: string;
  /** The accepting request's W3C traceparent, if it is traced. */
  traceparent?: string | null;
  /** Issue 19: a scheduled send (created `scheduled`, handed over at this time). */
  sendAt?: Date | null;
}

export type OutboxWrite = CreateOnceResult<OutboxDoc>;

/** What makes two sends "the same request": everything the caller chose, nothing we derived. */
export function outboxBodyHash(entry: NewOutboxEntry): string {
  return sha256Of([
    entry.accountId,
    entry.threadId,
    entry.to,
    entry.text,
    entry.media === null
      ? null
      : [
          entry.media.kind,
          entry.media.url ?? null,
          entry.media.mimetype,
          entry.media.fileName ?? null,
          entry.media.caption ?? null,
          // Only when set: sends from before media ids keep their hash.
          ...(entry.media.mediaId !== undefined ? [entry.media.mediaId] : []),
        ],
    entry.replyTo,
    // Only when set: unscheduled sends keep their hash.
    ...(entry.sendAt != null ? [entry.sendAt.toISOString()] : []),
  ]);
}

/**
 * Writes `outbox/{requestId}` once: of N concurrent identical calls exactly one creates, the others
 * read it back; the same key with another body is a conflict (see `createOnce`).
 */
export async function createOutboxEntry(
  db: Firestore,
  entry: NewOutboxEntry,
  now = new Date(),
): Promise<OutboxWrite> {
  const ref = collections(db).outbox().doc(entry.requestId);
  const bodyHash = outboxBodyHash(entry);
  const doc: OutboxDoc = {
    requestId: entry.requestId,
    accountId: entry.accountId,
    threadId: entry.threadId,
    to: entry.to,
    body: entry.text,
    media:
      entry.media === null
        ? null
        : {
            kind: entry.media.kind,
            mimetype: entry.media.mimetype,
            fileName: entry.media.fileName ?? null,
            caption: entry.media.caption ?? null,
            url: entry.media.url ?? null,
            ...(entry.media.mediaId !== undefined ? { mediaId: entry.media.mediaId } : {}),
          },
    replyTo: entry.replyTo,
    waMessageId: waMessageIdFor(entry.requestId),
    status: entry.sendAt != null ? 'scheduled' : 'queued',
    attempts: 0,
    lastError: null,
    bodyHash,
    createdBy: entry.createdBy,
    createdAt: now,
    updatedAt: now,
    sentAt: null,
    traceparent: entry.traceparent ?? null,
    ...(entry.sendAt != null ? { sendAt: entry.sendAt } : {}),
  };
  return createOnce(
    ref,
    doc,
    `requestId ${entry.requestId} was already used for a different message`,
  );
}

/**
 * Reads outbox documents by request id (ingest builds the conversation's copy of a send from
 * it). Read-only: after the accept, only outbox-sender writes `outbox/*` (its OutboxStore).
 */
export async function readOutboxEntries(
  db: Firestore,
  requestIds: Iterable<string>,
): Promise<Map<string, OutboxDoc>> {
  const ids = [...new Set(requestIds)];
  const out = new Map<string, OutboxDoc>();
  if (ids.length === 0) return out;
  const outbox = collections(db).outbox();
  // getAll keeps each reference's converter; its declared type does not.
  const snaps = (await db.getAll(
    ...ids.map((id) => outbox.doc(id)),
  )) as DocumentSnapshot<OutboxDoc>[];
  snaps.forEach((snap, i) => {
    const doc = snap.data();
    if (doc !== undefined) out.set(ids[i]!, doc);
  });
  return out;
}

/**
 * The scheduled sends of a thread (issue 19), those still waiting and those cancelled, soonest
 * first. Read-only, like `readOutboxEntries`.
 */
export async function readScheduledOutbox(
  db: Firestore,
  threadId: string,
  limit: number,
): Promise<OutboxDoc[]> {
  const snap = await collections(db)
    .outbox()
    .where('threadId', '==', threadId)
    .where('status', 'in', ['scheduled', 'cancelled'])
    .limit(limit)
    .get();
  return snap.docs
    .map((d) => d.data())
    .sort((a, b) => (a.sendAt?.getTime() ?? 0) - (b.sendAt?.getTime() ?? 0));
}
