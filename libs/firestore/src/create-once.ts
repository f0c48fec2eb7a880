import { createHash } from 'node:crypto';
import type { DocumentReference } from 'firebase-admin/firestore';
import { AppError } from '@wacrm/contracts';

/** SHA-256 (hex) of a canonical JSON value: what makes two requests "the same request". */
export function sha256Of(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

export type CreateOnceResult<T> = { created: true; doc: T } | { created: false; doc: T };

/**
 * Writes `doc` at `ref` only if nothing is there. `create()` is atomic in Firestore (and in the
 * emulator, which applies each commit in one step), so of N concurrent identical calls exactly
 * one creates and the others read it back. A stored document whose `bodyHash` differs is a
 * request id reused for another body: a conflict, never an overwrite.
 */
export async function createOnce<T extends { bodyHash?: string | undefined }>(
  ref: DocumentReference<T>,
  doc: T,
  conflict: string,
): Promise<CreateOnceResult<T>> {
  try {
    await ref.create(doc);
    return { created: true, doc };
  } catch (error) {
    // gRPC ALREADY_EXISTS (6): someone created it first — the normal path of a retried request.
    if ((error as { code?: unknown }).code !== 6) throw error;
  }
  const existing = (await ref.get()).data();
  if (existing === undefined) throw new AppError('DEPENDENCY_UNAVAILABLE', `${ref.path} vanished`);
  if (existing.bodyHash !== doc.bodyHash) throw new AppError('CONFLICT', conflict);
  return { created: false, doc: existing };
}
