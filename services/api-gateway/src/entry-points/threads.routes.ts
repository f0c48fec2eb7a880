import type { FastifyInstance } from 'fastify';
import {
  AppError,
  MarkReadAccepted,
  MarkReadBody,
  MessagePage,
  MessagesQuery,
  ThreadPage,
  ThreadParams,
  ThreadView,
  ThreadsQuery,
  isWaiting,
  type ThreadDoc,
} from '@wacrm/contracts';
import { enqueue } from '@wacrm/queue';
import {
  getThread,
  pageMessages,
  pageThreads,
  type ThreadFilter,
  type TimeRange,
} from '../data-access/threads.repository.js';
import { inboxSettings } from '../data-access/inbox.repository.js';
import { sendReadReceipt } from './read-receipts.js';
import { decodeCursor, encodeCursor } from '../domain/keyset.js';
import { requireAccount } from '../domain/principal.js';
import { toMessageView, toThreadView } from '../domain/views.js';
import { principalOf } from './auth.hook.js';
import type { RouteDeps } from './route-deps.js';
import { errorResponses } from './error-responses.js';
import { documentedRoutes } from './documented.js';

const tags = ['threads'] as const;

function timeRange(query: { since?: string; until?: string }): TimeRange {
  const range: TimeRange = {};
  if (query.since !== undefined) range.since = new Date(query.since);
  if (query.until !== undefined) range.until = new Date(query.until);
  if (range.since !== undefined && range.until !== undefined && range.since >= range.until) {
    throw new AppError('VALIDATION_FAILED', 'since must be before until', {
      errors: [{ path: 'since', message: 'must be before until' }],
    });
  }
  return range;
}

/**
 * The list's inbox filters, as index-answered query clauses where Firestore can answer them.
 * Two cannot be: `unassigned` (a thread nobody took has no `assigneeUid` field, and Firestore
 * indexes neither a missing field nor, in the embedded emulator, a null one) and `waiting=false`
 * (an OR: last message outbound, or inbound within the limit); those are checked while reading.
 */
async function threadFilter(
  deps: RouteDeps,
  q: ThreadsQuery,
  callerId: string,
): Promise<ThreadFilter | undefined> {
  const filter: ThreadFilter = { where: [] };
  const residual: Array<(doc: ThreadDoc) => boolean> = [];
  if (q.assigned === 'mine') filter.where.push({ field: 'assigneeUid', op: '==', value: callerId });
  if (q.assigned === 'unassigned') residual.push((d) => (d.assigneeUid ?? null) === null);
  if (q.stage !== undefined) filter.where.push({ field: 'stage', op: '==', value: q.stage });
  if (q.label !== undefined) {
    filter.where.push({ field: 'labels', op: 'array-contains', value: q.label });
  }
  if (q.waiting !== undefined) {
    const { waitingAfterMinutes } = await inboxSettings(deps.db, q.accountId);
    const now = new Date();
    if (q.waiting === 'true') {
      // isWaiting: the last message is inbound and came more than the limit ago.
      filter.where.push({ field: 'lastMessageDirection', op: '==', value: 'inbound' });
      filter.before = new Date(now.getTime() - waitingAfterMinutes * 60_000);
    } else {
      residual.push((d) => !isWaiting(d, waitingAfterMinutes, now));
    }
  }
  if (residual.length > 0) filter.residual = (doc) => residual.every((t) => t(doc));
  return filter.where.length > 0 || filter.residual !== undefined || filter.before !== undefined
    ? filter
    : undefined;
}

/** The inbox: threads of one account newest first, a thread, and its messages. */
export function threadsRoutes(deps: RouteDeps) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);

    app.get(
      '/api/threads',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'listThreads',
          description: `The threads of one account, newest last message first; pass the answer's nextCursor as cursor for the next page.`,
          summary: "An account's threads, newest last message first (keyset-paginated)",
          querystring: ThreadsQuery,
          response: { 200: ThreadPage, ...errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const principal = principalOf(request);
        requireAccount(principal, q.accountId);
        const filter = await threadFilter(deps, q, principal.id);
        const page = await pageThreads(deps.db, q.accountId, {
          limit: q.limit,
          range: timeRange(q),
          ...(filter !== undefined ? { filter } : {}),
          ...(q.cursor !== undefined ? { cursor: decodeCursor(q.cursor) } : {}),
        });
        return {
          items: page.items.map((i) => toThreadView(i.id, i.doc)),
          nextCursor: page.nextCursor !== null ? encodeCursor(page.nextCursor) : null,
        };
      },
    );

    app.get(
      '/api/threads/:threadId',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'getThread',
          description: 'One conversation: its contact, last message and unread count.',
          summary: 'One thread',
          params: ThreadParams,
          response: { 200: ThreadView, ...errorResponses },
        },
      },
      async (request) => {
        const thread = await getThread(deps.db, request.params.threadId);
        requireAccount(principalOf(request), thread.accountId);
        return toThreadView(request.params.threadId, thread);
      },
    );

    app.get(
      '/api/threads/:threadId/messages',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'listThreadMessages',
          description: `Messages of one thread ordered by the client's time; pass nextCursor for the next page.`,
          summary: "A thread's messages by client time (newest first by default, keyset-paginated)",
          params: ThreadParams,
          querystring: MessagesQuery,
          response: { 200: MessagePage, ...errorResponses },
        },
      },
      async (request) => {
        const { threadId } = request.params;
        const thread = await getThread(deps.db, threadId);
        requireAccount(principalOf(request), thread.accountId);
        const q = request.query;
        const page = await pageMessages(deps.db, threadId, {
          limit: q.limit,
          direction: q.order,
          range: timeRange(q),
          ...(q.cursor !== undefined ? { cursor: decodeCursor(q.cursor) } : {}),
        });
        return {
          items: page.items.map((i) => toMessageView(i.id, i.doc)),
          nextCursor: page.nextCursor !== null ? encodeCursor(page.nextCursor) : null,
        };
      },
    );

    app.post(
      '/api/threads/:threadId/read',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'markThreadRead',
          description:
            'Records a read mark up to a message id or an ISO time; ingest applies it, so unread counts change shortly after the 202.',
          bodyExample: { upTo: '2026-12-07T05:00:00.000Z' },
          summary:
            'Mark a thread read up to a message id or a time; later messages stay unread (applied by ingest)',
          params: ThreadParams,
          body: MarkReadBody,
          response: { 202: MarkReadAccepted, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { threadId } = request.params;
        const principal = principalOf(request);
        const thread = await getThread(deps.db, threadId);
        requireAccount(principal, thread.accountId);
        // Ingest is the single writer of thread counters: it applies the mark in turn with the
        // account's other jobs, so a message stored meanwhile is counted, not lost.
        await enqueue(deps.queues.waInbound, 'mark-read', {
          accountId: thread.accountId,
          threadId,
          upTo: request.body.upTo,
          by: principal.id,
        });
        // Issue 20 item 2: WhatsApp learns of the read only when the account says so, and only
        // from this explicit call (the web makes it when an operator opens the chat).
        await sendReadReceipt(deps, thread.accountId, threadId, request.body.upTo, 'open');
        return reply.status(202).send({ threadId, upTo: request.body.upTo });
      },
    );
    return Promise.resolve();
  };
}
