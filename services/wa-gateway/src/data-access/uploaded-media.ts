import type { Firestore } from 'firebase-admin/firestore';
import { AppError } from '@wacrm/contracts';
import { readMediaUpload } from '@wacrm/firestore';
import type { ObjectStore } from '@wacrm/object-store';

/**
 * The bytes of a file uploaded with `POST /api/media`, read from object storage (never fetched
 * by URL): only the account's own upload, at most `maxBytes`. An unknown id fails the send for
 * good; object storage being down is retried.
 */
export function uploadedMediaReader(deps: {
  db: Firestore;
  objects: ObjectStore;
  maxBytes: number;
}): (accountId: string, mediaId: string) => Promise<Buffer> {
  return async (accountId, mediaId) => {
    const upload = await readMediaUpload(deps.db, mediaId, accountId);
    if (upload === null) {
      throw new AppError('NOT_FOUND', `media ${mediaId} was not uploaded for ${accountId}`);
    }
    if (upload.size > deps.maxBytes) {
      throw new AppError('PAYLOAD_TOO_LARGE', `media ${mediaId} is over ${deps.maxBytes} bytes`);
    }
    const bytes = await deps.objects.readBuffer(upload.storageKey);
    if (bytes === null) {
      throw new AppError('DEPENDENCY_UNAVAILABLE', `media ${mediaId} is not in object storage`);
    }
    return bytes;
  };
}
