import type { Firestore } from 'firebase-admin/firestore';
import { Collections, MediaUploadDoc } from '@wacrm/contracts';

/**
 * `mediaUploads/{mediaId}` (issue 17): written once per account and content by `POST /api/media`;
 * a second upload of the same file keeps the first record. Nothing deletes one.
 */
export async function recordMediaUpload(
  db: Firestore,
  mediaId: string,
  doc: MediaUploadDoc,
): Promise<void> {
  try {
    await db.collection(Collections.mediaUploads).doc(mediaId).create(MediaUploadDoc.parse(doc));
  } catch (error) {
    // gRPC ALREADY_EXISTS (6): the same account uploaded the same file before.
    if ((error as { code?: unknown }).code !== 6) throw error;
  }
}

/** The upload, only if it belongs to `accountId`: another account's media id is unknown here. */
export async function readMediaUpload(
  db: Firestore,
  mediaId: string,
  accountId: string,
): Promise<MediaUploadDoc | null> {
  const snap = await db.collection(Collections.mediaUploads).doc(mediaId).get();
  if (!snap.exists) return null;
  const raw = snap.data() as Record<string, unknown>;
  const createdAt = raw.createdAt as { toDate?: () => Date } | Date | undefined;
  const doc = MediaUploadDoc.parse({
    ...raw,
    createdAt: createdAt instanceof Date ? createdAt : createdAt?.toDate?.(),
  });
  return doc.accountId === accountId ? doc : null;
}
