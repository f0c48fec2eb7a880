import type { FastifyInstance } from 'fastify';
import {
  AppError,
  SearchQuery,
  SearchReindexAccepted,
  SearchReindexBody,
  SearchResponse,
} from '@wacrm/contracts';
import { enqueue } from '@wacrm/queue';
import { searchMessages, searchThreads } from '../data-access/search.repository.js';
import { decodeCursor, encodeCursor } from '../domain/keyset.js';
import { requireAccount } from '../domain/principal.js';
import { queryTerms } from '../domain/search-query.js';
import { principalOf } from './auth.hook.js';
import type { RouteDeps } from './route-deps.js';
import { errorResponses } from './error-responses.js';
import { documentedRoutes } from './documented.js';

const tags = ['search'] as const;

/** Server-side search over one account's threads and messages, and the index backfill. */
export function searchRoutes(deps: RouteDeps) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);

    app.get(
      '/api/search',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'search',
          description:
            'Searches one account: threads by contact name or phone (with or without the country code) and messages by text, caption or file name.',
          summary:
            'Threads (name, phone) and messages (text, caption, file name) of one account, case- and diacritics-insensitive; messages newest first',
          querystring: SearchQuery,
          response: { 200: SearchResponse, ...errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        requireAccount(principalOf(request), q.accountId);
        const since = q.since !== undefined ? new Date(q.since) : undefined;
        const until = q.until !== undefined ? new Date(q.until) : undefined;
        if (since !== undefined && until !== undefined && since >= until) {
          throw new AppError('VALIDATION_FAILED', 'since must be before until', {
            errors: [{ path: 'since', message: 'must be before until' }],
          });
        }
        const terms = queryTerms(q.q);
        const cursor = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
        const [threads, page] = await Promise.all([
          cursor === undefined ? searchThreads(deps.db, q.accountId, terms, q.threadId) : [],
          searchMessages(deps.db, {
            accountId: q.accountId,
            terms,
            limit: q.limit,
            ...(q.threadId !== undefined ? { threadId: q.threadId } : {}),
            ...(q.direction !== undefined ? { direction: q.direction } : {}),
            ...(q.hasMedia !== undefined ? { hasMedia: q.hasMedia } : {}),
            ...(since !== undefined ? { since } : {}),
            ...(until !== undefined ? { until } : {}),
            ...(cursor !== undefined ? { cursor: { ts: cursor.ts, id: cursor.id } } : {}),
          }),
        ]);
        return {
          terms,
          threads,
          messages: page.items,
          nextCursor: page.nextCursor !== null ? encodeCursor(page.nextCursor) : null,
        };
      },
    );

    app.post(
      '/api/search/reindex',
      {
        config: { operation: 'admin' },
        schema: {
          tags,
          operationId: 'reindexSearch',
          description:
            'Queues a resumable job that indexes every stored thread and message of the account for search.',
          bodyExample: { accountId: 'acc_demo' },
          summary:
            "Index an account's stored threads and messages (resumable; ingest keeps the index from then on)",
          body: SearchReindexBody,
          response: { 202: SearchReindexAccepted, ...errorResponses },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        requireAccount(principal, request.body.accountId);
        const job = await enqueue(deps.queues.waInbound, 'reindex-search', {
          accountId: request.body.accountId,
          afterThreadId: null,
          requestedBy: principal.id,
        });
        return reply.status(202).send({ accountId: request.body.accountId, jobId: job.id ?? '' });
      },
    );
    return Promise.resolve();
  };
}
