import type { Firestore } from 'firebase-admin/firestore';
import type { MediaRef, MessageDoc } from '@wacrm/contracts';
import { collections, historyMediaDelta, recordHistoryMediaDelta } from '@wacrm/firestore';

export type MediaPatch = Partial<
  Pick<
    MediaRef,
    | 'status'
    | 'reason'
    | 'sha256'
    | 'mime'
    | 'size'
    | 'storageKey'
    | 'thumbnail'
    | 'directPath'
    | 'reuploadRequestedAt'
  >
>;

/** The message's media, read and updated field by field: ingest owns the rest of the document. */
export interface MessageMediaStore {
  load(threadId: string, messageId: string): Promise<MessageDoc | null>;
  update(threadId: string, messageId: string, patch: MediaPatch): Promise<void>;
}

export function firestoreMessageMedia(db: Firestore): MessageMediaStore {
  const c = collections(db);
  return {
    async load(threadId, messageId) {
      const snap = await c.messages(threadId).doc(messageId).get();
      return snap.exists ? (snap.data() ?? null) : null;
    },
    async update(threadId, messageId, patch) {
      const now = new Date();
      const fields: Record<string, unknown> = { updatedAt: now };
      for (const [k, v] of Object.entries(patch)) fields[`media.${k}`] = v;
      const typed = c.messages(threadId).doc(messageId);
      // Raw reference: an update of dotted fields, not a whole document through the converter.
      const ref = db.doc(typed.path);
      const status = patch.status;
      if (status === undefined) {
        await ref.update(fields);
        return;
      }
      // The status and the account's history media counts change together, from the status
      // read in the same transaction: a retried job that finds it already there counts nothing.
      await db.runTransaction(async (tx) => {
        const message = (await tx.get(typed)).data();
        if (message === undefined) throw new Error(`message ${messageId} not stored`);
        const delta = historyMediaDelta(message.source, message.media?.status, status);
        tx.update(ref, fields);
        if (delta !== null) recordHistoryMediaDelta(tx, db, message.accountId, delta, now);
      });
    },
  };
}
