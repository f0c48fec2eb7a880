import type { Firestore } from 'firebase-admin/firestore';
import type { MediaRef, MessageDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';

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
      const fields: Record<string, unknown> = { updatedAt: new Date() };
      for (const [k, v] of Object.entries(patch)) fields[`media.${k}`] = v;
      // Raw reference: an update of dotted fields, not a whole document through the converter.
      await db.doc(c.messages(threadId).doc(messageId).path).update(fields);
    },
  };
}
