import type { FastifyInstance } from 'fastify';
import {
  AccountParams,
  AssignBody,
  InboxSettingsPatch,
  InboxSettingsView,
  NoteBody,
  NoteList,
  NoteView,
  ProblemDetails,
  RealtimeChannel,
  ThreadParams,
  ThreadTagsBody,
  ThreadView,
  WaitingCountView,
  type RealtimeEvent,
} from '@wacrm/contracts';
import {
  addNote,
  assignThread,
  countWaiting,
  inboxSettings,
  listNotes,
  tagThread,
  updateInboxSettings,
} from '../data-access/inbox.repository.js';
import { getThread } from '../data-access/threads.repository.js';
import { requireAccount } from '../domain/principal.js';
import { toNoteView, toThreadView } from '../domain/views.js';
import { principalOf } from './auth.hook.js';
import type { RouteDeps } from './route-deps.js';
import { errorResponses } from './error-responses.js';
import { documentedRoutes } from './documented.js';

const tags = ['threads'] as const;

/**
 * The operator inbox (issue 20): internal notes, assignment, stage and labels, waiting clients and
 * the account's inbox settings. Every route checks the caller against the thread's account.
 */
export function inboxRoutes(deps: RouteDeps) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);

    /** Every operator's inbox hears of the change (SSE `thread.updated`); Firestore is the truth. */
    const announce = async (accountId: string, threadId: string) => {
      const event: RealtimeEvent = {
        type: 'thread.updated',
        accountId,
        threadId,
        at: new Date().toISOString(),
      };
      await deps.redis.publish(RealtimeChannel, JSON.stringify(event)).catch((error: unknown) => {
        deps.logger.warn({ err: error }, 'could not announce a thread change; clients resync');
      });
    };

    app.get(
      '/api/threads/:threadId/notes',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'listThreadNotes',
          summary: "A thread's internal notes, oldest first (the newest 200)",
          description:
            'Notes operators left on the conversation. They are never sent to WhatsApp and never edited or deleted.',
          params: ThreadParams,
          response: { 200: NoteList, ...errorResponses },
        },
      },
      async (request) => {
        const { threadId } = request.params;
        const thread = await getThread(deps.db, threadId);
        requireAccount(principalOf(request), thread.accountId);
        const notes = await listNotes(deps.db, threadId);
        return { items: notes.map((n) => toNoteView(n.id, n.doc)) };
      },
    );

    app.post(
      '/api/threads/:threadId/notes',
      {
        config: { operation: 'send' },
        schema: {
          tags,
          operationId: 'addThreadNote',
          summary: 'Leave an internal note on a thread (never sent to WhatsApp)',
          description:
            'Appends a note with its author and time. Notes are append-only: a correction is a new note. Ask AI reads them as context.',
          params: ThreadParams,
          body: NoteBody,
          bodyExample: { body: 'Called back; wants the Saturday slot, will confirm by 18:00.' },
          response: { 201: NoteView, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { threadId } = request.params;
        const principal = principalOf(request);
        const thread = await getThread(deps.db, threadId);
        requireAccount(principal, thread.accountId);
        const note = await addNote(deps.db, threadId, {
          accountId: thread.accountId,
          threadId,
          body: request.body.body,
          authorId: principal.id,
          createdAt: new Date(),
        });
        await announce(thread.accountId, threadId);
        return reply.status(201).send(toNoteView(note.id, note.doc));
      },
    );

    app.put(
      '/api/threads/:threadId/assignee',
      {
        config: { operation: 'send' },
        schema: {
          tags,
          operationId: 'assignThread',
          summary: 'Assign a thread to a user, or unassign it (null)',
          description:
            'Taking a thread another user holds, or releasing it, needs force: true; otherwise the answer is 409 naming the holder, so the web asks first.',
          params: ThreadParams,
          body: AssignBody,
          bodyExample: { assigneeUid: 'uid-operator-1', force: false },
          response: { 200: ThreadView, ...errorResponses, 409: ProblemDetails },
        },
      },
      async (request) => {
        const { threadId } = request.params;
        const principal = principalOf(request);
        const current = await getThread(deps.db, threadId);
        requireAccount(principal, current.accountId);
        const thread = await assignThread(deps.db, threadId, {
          assigneeUid: request.body.assigneeUid,
          force: request.body.force ?? false,
          callerId: principal.id,
        });
        await announce(thread.accountId, threadId);
        return toThreadView(threadId, thread);
      },
    );

    app.patch(
      '/api/threads/:threadId/tags',
      {
        config: { operation: 'send' },
        schema: {
          tags,
          operationId: 'tagThread',
          summary: "Set a thread's stage and/or labels",
          description:
            "Stage is one of lead, quoted, confirmed, done, lost (or null); labels are ids of the account's labels (inbox settings) and replace the thread's labels.",
          params: ThreadParams,
          body: ThreadTagsBody,
          bodyExample: { stage: 'quoted', labels: ['vip'] },
          response: { 200: ThreadView, ...errorResponses },
        },
      },
      async (request) => {
        const { threadId } = request.params;
        const current = await getThread(deps.db, threadId);
        requireAccount(principalOf(request), current.accountId);
        const thread = await tagThread(deps.db, threadId, {
          ...(request.body.stage !== undefined ? { stage: request.body.stage } : {}),
          ...(request.body.labels !== undefined ? { labels: request.body.labels } : {}),
        });
        await announce(thread.accountId, threadId);
        return toThreadView(threadId, thread);
      },
    );

    app.get(
      '/api/accounts/:accountId/inbox-settings',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'getInboxSettings',
          summary: "An account's inbox settings: read receipts, waiting limit, labels",
          description:
            'readReceipts: off, on_open (when an operator opens the chat) or on_reply (when the business replies); waitingAfterMinutes; the labels with their colours.',
          params: AccountParams,
          response: { 200: InboxSettingsView, ...errorResponses },
        },
      },
      async (request) => {
        const { accountId } = request.params;
        requireAccount(principalOf(request), accountId);
        return { accountId, ...(await inboxSettings(deps.db, accountId)) };
      },
    );

    app.patch(
      '/api/accounts/:accountId/inbox-settings',
      {
        config: { operation: 'admin' },
        schema: {
          tags,
          operationId: 'updateInboxSettings',
          summary: "Change an account's inbox settings",
          description:
            'Changes the given settings only; labels replace the whole list (ids unique, at most 50).',
          params: AccountParams,
          body: InboxSettingsPatch,
          bodyExample: {
            readReceipts: 'on_open',
            waitingAfterMinutes: 15,
            labels: [{ id: 'vip', name: 'VIP', color: '#e53935' }],
          },
          response: { 200: InboxSettingsView, ...errorResponses },
        },
      },
      async (request) => {
        const { accountId } = request.params;
        requireAccount(principalOf(request), accountId);
        const b = request.body;
        const settings = await updateInboxSettings(deps.db, accountId, {
          ...(b.readReceipts !== undefined ? { readReceipts: b.readReceipts } : {}),
          ...(b.waitingAfterMinutes !== undefined
            ? { waitingAfterMinutes: b.waitingAfterMinutes }
            : {}),
          ...(b.labels !== undefined ? { labels: b.labels } : {}),
        });
        deps.inboxSettings.forget(accountId);
        return { accountId, ...settings };
      },
    );

    app.get(
      '/api/accounts/:accountId/waiting',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'countWaitingThreads',
          summary: 'How many clients wait for a reply longer than the account allows',
          description:
            "Counts the account's threads whose last message is inbound and older than its waitingAfterMinutes (computed at the time of the request; no timer).",
          params: AccountParams,
          response: { 200: WaitingCountView, ...errorResponses },
        },
      },
      async (request) => {
        const { accountId } = request.params;
        requireAccount(principalOf(request), accountId);
        const { waitingAfterMinutes } = await inboxSettings(deps.db, accountId);
        const now = new Date();
        const count = await countWaiting(
          deps.db,
          accountId,
          new Date(now.getTime() - waitingAfterMinutes * 60_000),
        );
        return { accountId, waitingAfterMinutes, count, at: now.toISOString() };
      },
    );
    return Promise.resolve();
  };
}
