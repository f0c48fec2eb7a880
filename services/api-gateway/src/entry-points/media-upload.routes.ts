import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  AccountId,
  AppError,
  MEDIA_UPLOAD_TYPES,
  MediaUploaded,
  type MediaUploadDoc,
} from '@wacrm/contracts';
import { recordMediaUpload } from '@wacrm/firestore';
import { FileTooLargeError, sniffMime, spoolToFile, type ObjectStore } from '@wacrm/object-store';
import { requireAccount } from '../domain/principal.js';
import { principalOf } from './auth.hook.js';
import { documentedRoutes } from './documented.js';
import type { RouteDeps } from './route-deps.js';
import { errorResponses } from './error-responses.js';

const UploadQuery = z.object({ accountId: AccountId });

/** One id per account and content: the same file uploaded again is the same media. */
export function mediaUploadId(accountId: string, sha256: string): string {
  return `md_${createHash('sha256').update(`${accountId}:${sha256}`).digest('hex').slice(0, 40)}`;
}

function isFileTooLarge(error: unknown): boolean {
  return (
    error instanceof FileTooLargeError ||
    (error as { code?: unknown }).code === 'FST_REQ_FILE_TOO_LARGE'
  );
}

/**
 * `POST /api/media` (issue 17): a file to send later by its media id. Streamed to a scratch file
 * while hashed and counted (over the cap: 413), its type read from the bytes and checked against
 * the allow-list (415), stored content-addressed in object storage, recorded per account.
 */
export function mediaUploadRoutes(deps: RouteDeps & { objects: ObjectStore; maxBytes: number }) {
  return async (root: FastifyInstance): Promise<void> => {
    await root.register(multipart, {
      limits: { files: 1, fields: 0, parts: 1, fileSize: deps.maxBytes },
    });
    const app = documentedRoutes(root);
    app.post(
      '/api/media',
      {
        config: { operation: 'send' },
        schema: {
          tags: ['whatsapp'],
          operationId: 'uploadMedia',
          summary: 'Upload a file to send by its media id (multipart, size-capped, type-checked)',
          description: `A multipart/form-data body with one part named \`file\`. The type is read from the bytes (not the declared one) and must be an image, video, audio or document type WhatsApp sends; the file is stored content-addressed (the same file twice is stored once) and kept. Answers 201 with a \`mediaId\` to pass as \`media.mediaId\` in POST /api/whatsapp/send for the same account; 413 over MEDIA_UPLOAD_MAX_BYTES (${deps.maxBytes} bytes here), 415 for another type or a body that is not multipart.`,
          consumes: ['multipart/form-data'],
          querystring: UploadQuery,
          response: {
            201: MediaUploaded.describe('the stored file and its media id'),
            ...errorResponses,
            413: errorResponses[400],
            415: errorResponses[400],
          },
        },
      },
      async (request, reply) => {
        const { accountId } = request.query;
        const principal = principalOf(request);
        requireAccount(principal, accountId);
        if (!request.isMultipart()) {
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the file as multipart/form-data');
        }
        const dir = await mkdtemp(join(tmpdir(), 'upload-'));
        try {
          const part = await request.file();
          if (part === undefined || part.fieldname !== 'file') {
            throw new AppError('VALIDATION_FAILED', 'one multipart part named "file" is needed', {
              errors: [{ path: 'file', message: 'required' }],
            });
          }
          const path = join(dir, 'content');
          let spooled: { sha256: string; size: number };
          try {
            spooled = await spoolToFile(part.file, path, deps.maxBytes);
          } catch (error) {
            if (isFileTooLarge(error)) {
              throw new AppError(
                'PAYLOAD_TOO_LARGE',
                `the file is larger than the cap of ${deps.maxBytes} bytes`,
              );
            }
            throw error;
          }
          if (part.file.truncated) {
            throw new AppError('PAYLOAD_TOO_LARGE', `larger than ${deps.maxBytes} bytes`);
          }
          const mime = await sniffMime(path);
          const kind = mime === null ? undefined : MEDIA_UPLOAD_TYPES[mime];
          if (mime === null || kind === undefined) {
            throw new AppError(
              'UNSUPPORTED_MEDIA_TYPE',
              `the file's type (${mime ?? 'not recognised from its bytes'}) cannot be sent`,
            );
          }
          const stored = await deps.objects.putFile(path, { ...spooled, mime });
          const mediaId = mediaUploadId(accountId, spooled.sha256);
          const fileName = part.filename.length > 0 ? part.filename.slice(0, 255) : null;
          const doc: MediaUploadDoc = {
            accountId,
            sha256: spooled.sha256,
            storageKey: stored.key,
            mime,
            kind,
            size: spooled.size,
            fileName,
            createdBy: principal.id,
            createdAt: new Date(),
          };
          await recordMediaUpload(deps.db, mediaId, doc);
          reply.code(201);
          return {
            mediaId,
            accountId,
            kind,
            mime,
            size: spooled.size,
            sha256: spooled.sha256,
            fileName,
          };
        } finally {
          // The scratch copy only; the stored file is never removed.
          await rm(dir, { recursive: true, force: true });
        }
      },
    );
  };
}
