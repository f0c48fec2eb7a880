import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { AppError } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import type { ObjectRange, ObjectStore } from '@wacrm/object-store';
import { getThread } from '../data-access/threads.repository.js';
import { docId } from '../domain/doc-id.js';
import { requireAccount } from '../domain/principal.js';
import { principalOf } from './auth.hook.js';
import { errorResponses } from './error-responses.js';
import type { RouteDeps } from './route-deps.js';
import { documentedRoutes } from './documented.js';

const MediaParams = z.object({
  threadId: z.string().min(1).max(1500),
  messageId: z.string().min(1).max(256),
});
const MediaQuery = z.object({ thumbnail: z.enum(['0', '1']).optional() });

const RANGE = /^bytes=(\d{0,15})-(\d{0,15})$/;

/** One `bytes=` range of a file of `size` bytes; null for none, 'unsatisfiable' for a bad one. */
export function parseRange(
  header: string | undefined,
  size: number,
): ObjectRange | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const m = RANGE.exec(header.trim());
  if (m === null) return null; // several ranges or another unit: the whole file (RFC 9110 allows it)
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return 'unsatisfiable';
  if (a === '') {
    const suffix = Math.min(Number(b), size);
    return suffix === 0 ? 'unsatisfiable' : { start: size - suffix, end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  return start >= size || start > end ? 'unsatisfiable' : { start, end };
}

/** `filename*` of RFC 6266, so any name travels without breaking the header. */
function disposition(kind: string, fileName: string | null): string {
  const type = kind === 'document' ? 'attachment' : 'inline';
  return fileName === null ? type : `${type}; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/**
 * A message's stored media (issue 17), authorised like the message: the caller must see the
 * thread's account. Streamed from object storage with one Range (206), a strong ETag (the
 * content's SHA-256) and immutable caching (the content of a key never changes).
 */
export function mediaRoutes(deps: RouteDeps & { objects: ObjectStore }) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);
    app.get(
      '/api/threads/:threadId/messages/:messageId/media',
      {
        config: { operation: 'read' },
        schema: {
          tags: ['threads'],
          operationId: 'getMessageMedia',
          description: `The bytes of a message's media (or its thumbnail with ?thumbnail=1), with one Range, a strong ETag and If-Range support; authorised like the message.`,
          summary: "A message's stored file, or its thumbnail with ?thumbnail=1 (Range supported)",
          params: MediaParams,
          querystring: MediaQuery,
          // The bytes are streamed (never serialised); the document names their media type.
          response: {
            200: z.string().describe('the file'),
            206: z.string().describe('the requested byte range of the file'),
            304: z
              .null()
              .describe('Not modified: the copy the caller holds (If-None-Match) is current'),
            ...errorResponses,
            416: z.null().describe('Range not satisfiable (Content-Range: bytes */size)'),
          },
        },
      },
      async (request, reply) => {
        const { threadId, messageId } = request.params;
        const thread = await getThread(deps.db, threadId);
        requireAccount(principalOf(request), thread.accountId);
        const snap = await collections(deps.db)
          .messages(threadId)
          .doc(docId(messageId, 'messageId'))
          .get();
        const media = snap.exists ? snap.data()?.media : null;
        if (media === null || media === undefined) {
          throw new AppError('NOT_FOUND', 'this message has no media');
        }
        if (media.status !== 'stored' || media.storageKey == null || media.sha256 == null) {
          throw new AppError(
            'NOT_FOUND',
            `the media is not stored (${media.status ?? 'not kept'})`,
          );
        }
        const thumb = request.query.thumbnail === '1';
        if (thumb && media.thumbnail == null) throw new AppError('NOT_FOUND', 'no thumbnail');
        const key = thumb ? media.thumbnail!.storageKey : media.storageKey;
        const size = thumb ? media.thumbnail!.size : (media.size ?? 0);
        const mime = thumb ? media.thumbnail!.mime : (media.mime ?? 'application/octet-stream');
        // Content-addressed: the key ends with the content's SHA-256, a strong validator.
        const etag = `"${key.slice(key.lastIndexOf('/') + 1)}"`;
        // Bytes, not a serialised body: the reply is used without the schema's body typing.
        const raw: FastifyReply = reply;
        raw
          .header('etag', etag)
          .header('accept-ranges', 'bytes')
          .header('cache-control', 'private, max-age=31536000, immutable')
          .header('content-disposition', disposition(media.kind, media.fileName))
          // A stranger's file is never run as a page of this origin.
          .header('content-security-policy', "sandbox; default-src 'none'");
        if (request.headers['if-none-match'] === etag) return raw.code(304).send();
        const ifRange = request.headers['if-range'];
        const range =
          ifRange === undefined || ifRange === etag
            ? parseRange(request.headers.range, size)
            : null;
        if (range === 'unsatisfiable') {
          return raw.code(416).header('content-range', `bytes */${size}`).send();
        }
        const read = await deps.objects.read(key, range ?? undefined);
        if (read === null) throw new AppError('NOT_FOUND', 'the stored file is missing');
        raw.header('content-type', mime).header('content-length', String(read.length));
        if (range !== null) {
          raw.code(206).header('content-range', `bytes ${range.start}-${range.end}/${read.size}`);
        }
        return raw.send(read.body);
      },
    );
    return Promise.resolve();
  };
}
