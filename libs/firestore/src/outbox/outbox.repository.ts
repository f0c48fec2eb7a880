import { createHash } from 'node:crypto';
import type { Firestore } from 'firebase-admin/firestore';
import { AppError, waMessageIdFor, type OutboxDoc, type OutgoingMedia } from '@wacrm/contracts';
import { collections } from '../collections.js';

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
}

export type OutboxWrite = { created: true; doc: OutboxDoc } | { created: false; doc: OutboxDoc };

/** What makes two sends "the same request": everything the caller chose, nothing we derived. */
export function outboxBodyHash(entry: NewOutboxEntry): string {
  const canonical = JSON.stringify([
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
        ],
    entry.replyTo,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Writes `outbox/{requestId}` once. `create()` is atomic in Firestore (and in the emulator, which
 * applies each commit in one step), so of N concurrent identical calls exactly one creates; the
 * others read it back. The same key with another body is a conflict.
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
          },
    replyTo: entry.replyTo,
    waMessageId: waMessageIdFor(entry.requestId),
    status: 'queued',
    attempts: 0,
    lastError: null,
    bodyHash,
    createdBy: entry.createdBy,
    createdAt: now,
    updatedAt: now,
    sentAt: null,
  };
  try {
    await ref.create(doc);
    return { created: true, doc };
  } catch (error) {
    // gRPC ALREADY_EXISTS (6): someone created it first — the normal path of a retried request.
    if ((error as { code?: unknown }).code !== 6) throw error;
  }
  const existing = (await ref.get()).data();
  if (existing === undefined)
    throw new AppError('DEPENDENCY_UNAVAILABLE', `outbox/${entry.requestId} vanished`);
  if (existing.bodyHash !== bodyHash) {
    throw new AppError(
      'CONFLICT',
      `requestId ${entry.requestId} was already used for a different message`,
    );
  }
  return { created: false, doc: existing };
}
