import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  AppError,
  CancelScheduledResult,
  CreateMessageTemplateBody,
  MessageTemplateList,
  MessageTemplateListQuery,
  MessageTemplateParams,
  MessageTemplateView,
  ProblemDetails,
  RenderTemplateBody,
  RenderedTemplateView,
  ReminderList,
  ReminderParams,
  ReminderView,
  ScheduledSendList,
  ScheduledSendParams,
  TEMPLATE_VARIABLES,
  UpdateMessageTemplateBody,
  renderTemplate,
  type MessageTemplateDoc,
  type OutboxDoc,
  type ReminderDoc,
} from '@wacrm/contracts';
import { readMediaUpload, readScheduledOutbox } from '@wacrm/firestore';
import {
  createTemplate,
  listTemplates,
  readTemplate,
  updateTemplate,
} from '../data-access/templates.repository.js';
import { getThread } from '../data-access/threads.repository.js';
import { docId } from '../domain/doc-id.js';
import { requireAccount } from '../domain/principal.js';
import { bookingValues } from '../domain/reminder-plan.js';
import { principalOf } from './auth.hook.js';
import { documentedRoutes } from './documented.js';
import type { RouteDeps } from './route-deps.js';
import { scheduling } from './scheduling.js';
import { errorResponses } from './error-responses.js';

const errors = { ...errorResponses, 409: ProblemDetails, 503: ProblemDetails };
const SCHEDULED_LIST_MAX = 200;
const ThreadParams = z.object({ threadId: z.string().min(1).max(1500) });
const EventParams = ReminderParams.pick({ eventId: true });

const iso = (d: Date) => d.toISOString();
function templateView(id: string, doc: MessageTemplateDoc): z.infer<typeof MessageTemplateView> {
  return { ...doc, id, createdAt: iso(doc.createdAt), updatedAt: iso(doc.updatedAt) };
}
function reminderView(r: ReminderDoc): z.infer<typeof ReminderView> {
  return {
    ...r,
    id: `${r.eventId}.${r.kind}`,
    sendAt: r.sendAt === null ? null : iso(r.sendAt),
    approvedAt: r.approvedAt === null ? null : iso(r.approvedAt),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}
const ORDER = ['confirmation', 'deposit_due', 'day_before', 'review_request'];
const reminderList = (items: ReminderDoc[]) => ({
  items: [...items].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind)).map(reminderView),
});
function scheduledView(doc: OutboxDoc) {
  return {
    requestId: doc.requestId,
    accountId: doc.accountId,
    threadId: doc.threadId,
    text: doc.body ?? doc.media?.caption ?? null,
    hasMedia: doc.media !== null,
    sendAt: iso(doc.sendAt ?? doc.createdAt),
    status: doc.status === 'cancelled' ? ('cancelled' as const) : ('scheduled' as const),
    createdBy: doc.createdBy,
  };
}

/**
 * Issue 19 items 5 and 6: scheduled sends (listed per chat, cancelled while pending), message
 * templates with booking variables (reminder texts and `/` quick replies, archived never
 * deleted), and a booking's reminders (drafts approved or cancelled with one click).
 */
export function schedulingRoutes(deps: RouteDeps) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);
    const plan = scheduling(deps);
    root.addHook('onClose', () => plan.close());

    app.get(
      '/api/threads/:threadId/scheduled',
      {
        config: { operation: 'read' },
        schema: {
          tags: ['threads'],
          operationId: 'listScheduledSends',
          summary: "A chat's scheduled messages, pending and cancelled",
          description:
            'The messages of one chat that are scheduled for later (status scheduled) or were cancelled before they went out, soonest first. Once one goes out it is a message of the chat like any other.',
          params: ThreadParams,
          response: { 200: ScheduledSendList, ...errors },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const threadId = docId(request.params.threadId, 'threadId');
        // A chat with a new number has no thread until its first message goes out: then the
        // scheduled sends themselves say whose they are.
        const thread = await getThread(deps.db, threadId).catch((error: unknown) => {
          if (error instanceof AppError && error.code === 'NOT_FOUND') return null;
          throw error;
        });
        if (thread !== null) requireAccount(principal, thread.accountId);
        const docs = await readScheduledOutbox(deps.db, threadId, SCHEDULED_LIST_MAX);
        if (thread === null && docs.length === 0) {
          throw new AppError('NOT_FOUND', `thread ${threadId} does not exist`);
        }
        for (const doc of docs) requireAccount(principal, doc.accountId);
        return { items: docs.map(scheduledView) };
      },
    );

    app.post(
      '/api/whatsapp/scheduled/:requestId/cancel',
      {
        config: { operation: 'send' },
        schema: {
          tags: ['whatsapp'],
          operationId: 'cancelScheduledSend',
          summary: 'Cancel a scheduled message before it goes out',
          description:
            'Cancels a send accepted with sendAt while it is still waiting: it is kept with status cancelled and never sent. Cancelling again answers the same; once it has gone out (or is on its way) the answer is 409.',
          params: ScheduledSendParams,
          response: { 200: CancelScheduledResult, ...errors },
        },
      },
      async (request) => {
        await plan.cancelScheduled(principalOf(request), request.params.requestId);
        return { requestId: request.params.requestId, status: 'cancelled' as const };
      },
    );

    app.get(
      '/api/message-templates',
      {
        config: { operation: 'read' },
        schema: {
          tags: ['crm'],
          operationId: 'listMessageTemplates',
          summary: "An account's message templates and quick replies",
          description:
            'Texts with booking variables ({{nume_copil}}, {{data}}, …; `variables` lists them): reminder templates (reminderKind) and quick replies (shortcut, picked with / in the composer). quickReplies=true lists only those; archived ones only with includeArchived=true.',
          querystring: MessageTemplateListQuery,
          response: { 200: MessageTemplateList, ...errors },
        },
      },
      async (request) => {
        const { accountId, quickReplies, includeArchived } = request.query;
        requireAccount(principalOf(request), accountId);
        const items = (await listTemplates(deps.db, accountId, includeArchived)).filter(
          (t) => !quickReplies || t.doc.shortcut !== null,
        );
        return {
          items: items.map((t) => templateView(t.id, t.doc)),
          variables: { ...TEMPLATE_VARIABLES },
        };
      },
    );

    app.post(
      '/api/message-templates',
      {
        config: { operation: 'crm' },
        schema: {
          tags: ['crm'],
          operationId: 'createMessageTemplate',
          summary: 'Add a message template or quick reply',
          description:
            'A text with booking variables; an unknown variable or a stray {{ is a 400 naming it. With reminderKind it is the text of that reminder for every booking of the account; with shortcut it is a quick reply; mediaId (from POST /api/media) attaches a file.',
          body: CreateMessageTemplateBody,
          bodyExample: {
            accountId: 'acc_demo',
            name: 'Confirmare',
            body: 'Bună ziua! {{personaj}} vine la {{nume_copil}} pe {{data}}, ora {{ora}}.',
            shortcut: 'confirmare',
          },
          response: { 201: MessageTemplateView, ...errors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        requireAccount(principal, request.body.accountId);
        const saved = await createTemplate(deps.db, request.body, principal.id);
        return reply.status(201).send(templateView(saved.id, saved.doc));
      },
    );

    app.patch(
      '/api/message-templates/:templateId',
      {
        config: { operation: 'crm' },
        schema: {
          tags: ['crm'],
          operationId: 'updateMessageTemplate',
          summary: 'Edit or archive a message template',
          description:
            'Changes the given fields; isArchived: true retires it (there is no delete). The body is checked as on create.',
          params: MessageTemplateParams,
          body: UpdateMessageTemplateBody,
          bodyExample: { body: 'Vă așteptăm pe {{data}}!', isArchived: false },
          response: { 200: MessageTemplateView, ...errors },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const id = docId(request.params.templateId, 'templateId');
        const current = await readTemplate(deps.db, id);
        requireAccount(principal, current.accountId);
        const saved = await updateTemplate(deps.db, id, current, request.body);
        return templateView(saved.id, saved.doc);
      },
    );

    app.post(
      '/api/message-templates/:templateId/render',
      {
        config: { operation: 'read' },
        schema: {
          tags: ['crm'],
          operationId: 'renderMessageTemplate',
          summary: 'Fill a template with a booking',
          description:
            "The template's text with the values of a booking (eventId) or of a chat's client's next booking (threadId); variables without a value render empty and are listed in missing. Nothing is stored or sent.",
          params: MessageTemplateParams,
          body: RenderTemplateBody,
          bodyExample: { threadId: 'acc_demo__40722333444@s.whatsapp.net' },
          response: { 200: RenderedTemplateView, ...errors },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const template = await readTemplate(
          deps.db,
          docId(request.params.templateId, 'templateId'),
        );
        requireAccount(principal, template.accountId);
        let booking: Awaited<ReturnType<typeof plan.bookingOfThread>> = null;
        if (request.body.eventId !== undefined) {
          const event = await plan.eventFor(principal, request.body.eventId);
          if (event.accountId !== template.accountId) {
            throw new AppError('NOT_FOUND', `event ${request.body.eventId} is not of this account`);
          }
          booking = { eventId: request.body.eventId, event };
        } else if (request.body.threadId !== undefined) {
          const thread = await getThread(deps.db, request.body.threadId);
          requireAccount(principal, thread.accountId);
          if (thread.accountId !== template.accountId) {
            throw new AppError(
              'NOT_FOUND',
              `thread ${request.body.threadId} is not of this account`,
            );
          }
          booking = await plan.bookingOfThread(thread.accountId, thread.phoneE164);
        }
        const rendered = renderTemplate(
          template.body,
          booking === null ? {} : bookingValues(booking.event),
        );
        const upload =
          template.mediaId === null
            ? null
            : await readMediaUpload(deps.db, template.mediaId, template.accountId);
        return {
          ...rendered,
          media:
            upload === null || template.mediaId === null
              ? null
              : {
                  kind: upload.kind,
                  mediaId: template.mediaId,
                  mimetype: upload.mime,
                  ...(upload.fileName !== null ? { fileName: upload.fileName } : {}),
                },
          eventId: booking?.eventId ?? null,
        };
      },
    );

    app.get(
      '/api/crm/events/:eventId/reminders',
      {
        config: { operation: 'read' },
        schema: {
          tags: ['crm'],
          operationId: 'listReminders',
          summary: "A booking's reminders",
          description:
            'The confirmation, deposit-due, day-before and review-request reminders of a booking: drafts to approve, scheduled sends (requestId) and cancelled ones.',
          params: EventParams,
          response: { 200: ReminderList, ...errors },
        },
      },
      async (request) =>
        reminderList(await plan.list(principalOf(request), request.params.eventId)),
    );

    app.post(
      '/api/crm/events/:eventId/reminders',
      {
        config: { operation: 'crm' },
        schema: {
          tags: ['crm'],
          operationId: 'syncReminders',
          summary: "Create or refresh a booking's reminder drafts",
          description:
            "Brings the reminders in line with the booking (done on every save of it too): missing drafts are created from the account's templates (or the Romanian defaults), drafts follow the booking's text and times, those it no longer has are cancelled — all of them when the booking is cancelled.",
          params: EventParams,
          response: { 200: ReminderList, ...errors },
        },
      },
      async (request) =>
        reminderList(await plan.sync(principalOf(request), request.params.eventId)),
    );

    app.post(
      '/api/crm/events/:eventId/reminders/:kind/approve',
      {
        config: { operation: 'send' },
        schema: {
          tags: ['crm'],
          operationId: 'approveReminder',
          summary: 'Approve a reminder: schedule its message',
          description:
            "One click: the draft's text is scheduled as a send to the client at the reminder's time (now for the confirmation, or when its time has come), paced like any send and cancellable until then. Approving again answers the same; a cancelled reminder is 409.",
          params: ReminderParams,
          response: { 200: ReminderView, ...errors },
        },
      },
      async (request) =>
        reminderView(
          await plan.approve(
            principalOf(request),
            request.params.eventId,
            request.params.kind,
            request.log,
          ),
        ),
    );

    app.post(
      '/api/crm/events/:eventId/reminders/:kind/cancel',
      {
        config: { operation: 'crm' },
        schema: {
          tags: ['crm'],
          operationId: 'cancelReminder',
          summary: 'Cancel a reminder',
          description:
            'A draft is cancelled; an approved one has its scheduled send cancelled too (409 once it went out). Kept, never deleted.',
          params: ReminderParams,
          response: { 200: ReminderView, ...errors },
        },
      },
      async (request) =>
        reminderView(
          await plan.cancelReminder(
            principalOf(request),
            request.params.eventId,
            request.params.kind,
          ),
        ),
    );
    return Promise.resolve();
  };
}
