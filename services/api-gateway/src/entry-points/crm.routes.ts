import type { FastifyInstance } from 'fastify';
import {
  AppError,
  AskBody,
  AskResponse,
  ClientEventsQuery,
  ClientParams,
  ClientView,
  CreateEventBody,
  EventList,
  EventParams,
  EventView,
  ExtractEventBody,
  ExtractEventResponse,
  UpdateEventBody,
  accountScopeOf,
} from '@wacrm/contracts';
import { archiveEvent, createEvent, readClientFor, updateEvent } from '@wacrm/firestore';
import type { AiClient } from '../data-access/ai-requests.js';
import { getThread } from '../data-access/threads.repository.js';
import { requireAccount, type Principal } from '../domain/principal.js';
import { toClientView, toEventView } from '../domain/views.js';
import { principalOf } from './auth.hook.js';
import {
  aiRequestIdOf,
  IdempotencyHeaders,
  idempotencyKeyOf,
  VersionedEditHeaders,
} from './request-id.js';
import type { RouteDeps } from './route-deps.js';
import { errorResponses } from './error-responses.js';
import { eventEditing } from './event-edits.js';
import { scheduling } from './scheduling.js';
import { documentedRoutes } from './documented.js';

const tags = ['crm'] as const;
const crmErrors = { ...errorResponses, 409: errorResponses[400], 503: errorResponses[400] };

/** Issue 6: AI drafts, events (created, updated, archived — never deleted), clients, ask. */
export function crmRoutes(deps: RouteDeps & { ai: AiClient }) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);
    const config = { operation: 'crm' as const };
    const edits = eventEditing(deps);
    // A booking's reminders follow every save of it (issue 19 item 5).
    const reminders = scheduling(deps);
    root.addHook('onClose', () => reminders.close());

    const eventForWrite = edits.eventForWrite;
    const editOptionsOf = edits.optionsOf;
    const sendEdited = edits.sendEdited;

    /** The client as the caller may see it (figures and events of its accounts only). */
    async function visibleClient(principal: Principal, phoneE164: string) {
      const found = await readClientFor(deps.db, phoneE164, principal.accounts);
      if (found.status === 'forbidden') throw new AppError('FORBIDDEN', 'no access to this client');
      if (found.status === 'not-found') {
        throw new AppError('NOT_FOUND', 'no client with this phone number');
      }
      return found.record;
    }

    app.post(
      '/api/whatsapp/extract-event',
      {
        config,
        schema: {
          tags,
          operationId: 'extractEvent',
          description: `Asks the AI extractor for a booking drafted from the thread's recent messages; with dryRun (the default) nothing is written.`,
          bodyExample: {
            accountId: 'acc_demo',
            threadId: 'acc_demo_40722333444',
            dryRun: true,
            messageLimit: 50,
          },
          summary:
            "Draft a booking from a thread's recent messages (AI); a dry run writes no event",
          body: ExtractEventBody,
          headers: IdempotencyHeaders,
          response: { 200: ExtractEventResponse, ...crmErrors },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const body = request.body;
        requireAccount(principal, body.accountId);
        const thread = await getThread(deps.db, body.threadId);
        if (thread.accountId !== body.accountId) {
          throw new AppError('VALIDATION_FAILED', 'the thread belongs to another account', {
            errors: [{ path: 'accountId', message: 'does not match the thread' }],
          });
        }
        return deps.ai.request(
          'extract-event',
          {
            ...body,
            requestId: aiRequestIdOf(request, principal, 'extract'),
            requestedBy: principal.id,
          },
          ExtractEventResponse,
        );
      },
    );

    app.post(
      '/api/crm/ask',
      {
        config,
        schema: {
          tags,
          operationId: 'askCrm',
          description:
            'Answers a question about a client from its stored events, citing the events it used.',
          bodyExample: { phoneE164: '+40722333444', question: 'How much is still unpaid?' },
          summary: 'Answer a question about a client from its events, with sources',
          body: AskBody,
          headers: IdempotencyHeaders,
          response: { 200: AskResponse, ...crmErrors },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        // An unknown phone is answered (with nothing); another account's client is not.
        const found = await readClientFor(deps.db, request.body.phoneE164, principal.accounts);
        if (found.status === 'forbidden') {
          throw new AppError('FORBIDDEN', 'no access to this client');
        }
        return deps.ai.request(
          'ask-client',
          {
            ...request.body,
            requestId: aiRequestIdOf(request, principal, 'ask'),
            requestedBy: principal.id,
            accountScope: accountScopeOf(principal.accounts),
          },
          AskResponse,
        );
      },
    );

    app.post(
      '/api/crm/events',
      {
        config,
        schema: {
          tags,
          operationId: 'createEvent',
          description:
            'Stores a confirmed booking as a new event of the client (by thread or phone); a retry with the same Idempotency-Key answers the first event.',
          bodyExample: {
            phoneE164: '+40722333444',
            accountId: 'acc_demo',
            date: '2026-12-24',
            time: '16:00',
            durationHours: 2,
            address: 'Str. Lalelelor 3',
            characters: ['Elsa'],
            amount: 500,
            advance: 100,
            childName: 'Maria',
          },
          summary:
            'Save a confirmed booking as a new event (never overwrites one; a retry with the same Idempotency-Key returns the first event)',
          body: CreateEventBody,
          headers: IdempotencyHeaders,
          response: { 201: EventView, ...crmErrors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const body = request.body;
        if (body.threadId !== undefined) {
          requireAccount(principal, (await getThread(deps.db, body.threadId)).accountId);
        }
        // Without a thread the event belongs to body.accountId; without either, to no account.
        if (body.threadId === undefined || body.accountId !== undefined) {
          requireAccount(principal, body.accountId ?? null);
        }
        const idempotencyKey = idempotencyKeyOf(request);
        const saved = await createEvent(deps.db, body, {
          uid: principal.id,
          queue: deps.queues.crmEvents,
          resourceLock: edits.resourceLock,
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        });
        request.log.info(
          { eventId: saved.eventId, eventShortId: saved.event.eventShortId },
          saved.created ? 'event created' : 'event create replayed (same Idempotency-Key)',
        );
        if (!saved.created) void reply.header('idempotent-replayed', 'true');
        await reminders.syncAfterSave(saved.eventId, request.log);
        return reply.status(201).send(toEventView(saved.eventId, saved.event));
      },
    );

    app.patch(
      '/api/crm/events/:eventId',
      {
        config,
        schema: {
          tags,
          operationId: 'updateEvent',
          description:
            "Changes the given booking fields; If-Match with the event's version refuses a stale edit (409).",
          bodyExample: { time: '17:00', amount: 550 },
          summary:
            'Edit an event\'s booking fields; with If-Match: "<version>" a stale edit is 409, a retry with the same Idempotency-Key returns the first answer',
          params: EventParams,
          body: UpdateEventBody,
          headers: VersionedEditHeaders,
          response: { 200: EventView, ...crmErrors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        await eventForWrite(principal, request.params.eventId);
        const saved = await updateEvent(deps.db, request.params.eventId, request.body, {
          uid: principal.id,
          queue: deps.queues.crmEvents,
          ...editOptionsOf(request),
        });
        await reminders.syncAfterSave(saved.eventId, request.log);
        return sendEdited(reply, saved);
      },
    );

    app.post(
      '/api/crm/events/:eventId/archive',
      {
        config,
        schema: {
          tags,
          operationId: 'archiveEvent',
          description: `Archives the event: kept forever, no longer counted in the client's figures.`,
          summary:
            'Archive an event: kept forever, no longer counted (there is no delete); If-Match and Idempotency-Key as for an edit',
          params: EventParams,
          headers: VersionedEditHeaders,
          response: { 200: EventView, ...crmErrors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        await eventForWrite(principal, request.params.eventId);
        const saved = await archiveEvent(deps.db, request.params.eventId, {
          uid: principal.id,
          queue: deps.queues.crmEvents,
          ...editOptionsOf(request),
        });
        await reminders.syncAfterSave(saved.eventId, request.log);
        return sendEdited(reply, saved);
      },
    );

    app.get(
      '/api/crm/clients/:phoneE164',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'getClient',
          description:
            "The client behind a phone number: name, figures from its events, and its conversations (in the caller's accounts, most recent first).",
          summary: "A client's profile and figures",
          params: ClientParams,
          response: { 200: ClientView, ...crmErrors },
        },
      },
      async (request) => {
        const { client, threads } = await visibleClient(
          principalOf(request),
          request.params.phoneE164,
        );
        return toClientView(client, threads);
      },
    );

    app.get(
      '/api/crm/clients/:phoneE164/events',
      {
        config: { operation: 'read' },
        schema: {
          tags,
          operationId: 'listClientEvents',
          description: `The client's events, newest first.`,
          summary: "A client's events, newest first (`limit` of them, at most 500)",
          params: ClientParams,
          querystring: ClientEventsQuery,
          response: { 200: EventList, ...crmErrors },
        },
      },
      async (request) => {
        // A phone with no events yet has no client document: its list is empty, not missing.
        const found = await readClientFor(
          deps.db,
          request.params.phoneE164,
          principalOf(request).accounts,
        );
        if (found.status === 'forbidden')
          throw new AppError('FORBIDDEN', 'no access to this client');
        const events = found.status === 'not-found' ? [] : found.record.events;
        const { limit } = request.query;
        return {
          items: events.slice(0, limit).map(({ eventId, event }) => toEventView(eventId, event)),
          truncated: events.length > limit,
        };
      },
    );
    return Promise.resolve();
  };
}
