import type { FastifyInstance } from 'fastify';
import {
  AppError,
  AvailabilityQuery,
  AvailabilityView,
  CalendarQuery,
  CostumeList,
  CostumeParams,
  CostumeView,
  CreateCostumeBody,
  CreatePerformerBody,
  DuesQuery,
  DuesView,
  EventList,
  EventParams,
  EventView,
  PerformerList,
  PerformerParams,
  PerformerView,
  ProblemDetails,
  RecordPaymentBody,
  ResourceListQuery,
  UpdateCostumeBody,
  UpdatePerformerBody,
  bucharestWeekOf,
  instantOf,
} from '@wacrm/contracts';
import {
  BOOKINGS_WINDOW_MAX,
  availability,
  createCostume,
  createPerformer,
  duesOf,
  eventsStartingIn,
  listCostumes,
  listPerformers,
  readCostume,
  readPerformer,
  recordPayment,
  updateCostume,
  updatePerformer,
} from '@wacrm/firestore';
import { requireAccount } from '../domain/principal.js';
import { toCostumeView, toEventView, toPerformerView } from '../domain/views.js';
import { principalOf } from './auth.hook.js';
import { documentedRoutes } from './documented.js';
import { eventEditing } from './event-edits.js';
import { scheduling } from './scheduling.js';
import { VersionedEditHeaders } from './request-id.js';
import type { RouteDeps } from './route-deps.js';
import { errorResponses } from './error-responses.js';

const tags = ['crm'] as const;
const errors = { ...errorResponses, 409: ProblemDetails, 503: ProblemDetails };
const read = { operation: 'read' as const };
const crm = { operation: 'crm' as const };
const CALENDAR_MAX_DAYS = 62;

/**
 * Issue 19: performers and costumes (listed, created, edited, archived — never deleted),
 * payments on a booking, availability of a character, deposits and balances due, the calendar.
 * Every route is scoped to one account the caller may use.
 */
export function bookingsRoutes(deps: RouteDeps) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);
    const edits = eventEditing(deps);
    // A payment changes the balance the reminders quote, and may settle the deposit.
    const reminders = scheduling(deps);
    root.addHook('onClose', () => reminders.close());
    const resourceOptions = (uid: string) => ({ uid, lock: edits.resourceLock });

    app.get(
      '/api/crm/performers',
      {
        config: read,
        schema: {
          tags,
          operationId: 'listPerformers',
          summary: "An account's performers, by name",
          description:
            'The performers of one account with the characters each plays, working days (ISO, 1 = Monday), days off and travel buffer; archived ones only with includeArchived=true.',
          querystring: ResourceListQuery,
          response: { 200: PerformerList, ...errors },
        },
      },
      async (request) => {
        requireAccount(principalOf(request), request.query.accountId);
        const list = await listPerformers(
          deps.db,
          request.query.accountId,
          request.query.includeArchived,
        );
        return {
          items: list.items.map((p) => toPerformerView(p.id, p.doc)),
          truncated: list.truncated,
        };
      },
    );

    app.post(
      '/api/crm/performers',
      {
        config: crm,
        schema: {
          tags,
          operationId: 'createPerformer',
          summary: 'Add a performer',
          description:
            'Adds a performer to an account: the characters they play, the weekdays they work (default every day), days off (Europe/Bucharest dates) and the minutes they need between two bookings.',
          body: CreatePerformerBody,
          bodyExample: {
            accountId: 'acc_demo',
            name: 'Ana Popescu',
            characters: ['Elsa', 'Spiderman'],
            workingDays: [3, 4, 5, 6, 7],
            daysOff: ['2026-12-24'],
            travelBufferMinutes: 45,
          },
          response: { 201: PerformerView, ...errors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        requireAccount(principal, request.body.accountId);
        const saved = await createPerformer(deps.db, request.body, resourceOptions(principal.id));
        return reply.status(201).send(toPerformerView(saved.id, saved.doc));
      },
    );

    app.patch(
      '/api/crm/performers/:performerId',
      {
        config: crm,
        schema: {
          tags,
          operationId: 'updatePerformer',
          summary: 'Edit or archive a performer',
          description:
            'Changes the given fields of a performer; isArchived: true retires them (there is no delete). Serialised with the saves of their bookings.',
          params: PerformerParams,
          body: UpdatePerformerBody,
          bodyExample: { daysOff: ['2026-12-24', '2026-12-25'], characters: ['Elsa'] },
          response: { 200: PerformerView, ...errors },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const id = request.params.performerId;
        requireAccount(principal, (await readPerformer(deps.db, id)).accountId);
        const saved = await updatePerformer(
          deps.db,
          id,
          request.body,
          resourceOptions(principal.id),
        );
        return toPerformerView(saved.id, saved.doc);
      },
    );

    app.get(
      '/api/crm/costumes',
      {
        config: read,
        schema: {
          tags,
          operationId: 'listCostumes',
          summary: "An account's costumes, by name",
          description:
            'The costumes of one account, each with the character it is for and how many pieces there are; archived ones only with includeArchived=true.',
          querystring: ResourceListQuery,
          response: { 200: CostumeList, ...errors },
        },
      },
      async (request) => {
        requireAccount(principalOf(request), request.query.accountId);
        const list = await listCostumes(
          deps.db,
          request.query.accountId,
          request.query.includeArchived,
        );
        return {
          items: list.items.map((c) => toCostumeView(c.id, c.doc)),
          truncated: list.truncated,
        };
      },
    );

    app.post(
      '/api/crm/costumes',
      {
        config: crm,
        schema: {
          tags,
          operationId: 'createCostume',
          summary: 'Add a costume',
          description:
            'Adds a costume as a counted resource: count 2 lets two bookings use it at the same time.',
          body: CreateCostumeBody,
          bodyExample: { accountId: 'acc_demo', name: 'Rochie Elsa', character: 'Elsa', count: 1 },
          response: { 201: CostumeView, ...errors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        requireAccount(principal, request.body.accountId);
        const saved = await createCostume(deps.db, request.body, resourceOptions(principal.id));
        return reply.status(201).send(toCostumeView(saved.id, saved.doc));
      },
    );

    app.patch(
      '/api/crm/costumes/:costumeId',
      {
        config: crm,
        schema: {
          tags,
          operationId: 'updateCostume',
          summary: 'Edit or archive a costume',
          description:
            'Changes the given fields of a costume; isArchived: true retires it (there is no delete).',
          params: CostumeParams,
          body: UpdateCostumeBody,
          bodyExample: { count: 2 },
          response: { 200: CostumeView, ...errors },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const id = request.params.costumeId;
        requireAccount(principal, (await readCostume(deps.db, id)).accountId);
        const saved = await updateCostume(deps.db, id, request.body, resourceOptions(principal.id));
        return toCostumeView(saved.id, saved.doc);
      },
    );

    app.post(
      '/api/crm/events/:eventId/payments',
      {
        config: crm,
        schema: {
          tags,
          operationId: 'recordPayment',
          summary: 'Record a payment on a booking (Idempotency-Key required)',
          description:
            "Adds a payment (amount, day, method, note) to the event's payments, which are never removed; paid and outstanding follow. A retry with the same Idempotency-Key answers the first result and records nothing more; If-Match as for an edit.",
          params: EventParams,
          body: RecordPaymentBody,
          bodyExample: { amount: 200, date: '2026-12-01', method: 'transfer', note: 'avans' },
          headers: VersionedEditHeaders,
          response: { 200: EventView, ...errors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        await edits.eventForWrite(principal, request.params.eventId);
        const options = edits.optionsOf(request);
        if (options.idempotencyKey === undefined) {
          throw new AppError('VALIDATION_FAILED', 'a payment needs an Idempotency-Key header', {
            errors: [{ path: 'Idempotency-Key', message: 'required' }],
          });
        }
        const saved = await recordPayment(deps.db, request.params.eventId, request.body, {
          uid: principal.id,
          queue: deps.queues.crmEvents,
          ...options,
          idempotencyKey: options.idempotencyKey,
        });
        await reminders.syncAfterSave(saved.eventId, request.log);
        return edits.sendEdited(reply, saved);
      },
    );

    app.get(
      '/api/crm/availability',
      {
        config: read,
        schema: {
          tags,
          operationId: 'getAvailability',
          summary: 'Is a character free at a time, and the nearest free slots',
          description:
            'Whether a performer who plays the character (and a costume for it, when the account tracks any) is free for the duration from start (a wall time without offset is Europe/Bucharest), counting days off, working days and travel buffers; with the nearest free starts within a week, on the half hour.',
          querystring: AvailabilityQuery,
          response: { 200: AvailabilityView, ...errors },
        },
      },
      async (request) => {
        const query = request.query;
        requireAccount(principalOf(request), query.accountId);
        return availability(deps.db, { ...query, start: instantOf(query.start) });
      },
    );

    app.get(
      '/api/crm/dues',
      {
        config: read,
        schema: {
          tags,
          operationId: 'listDues',
          summary: 'Deposits and balances due (this week by default), overdue ones flagged',
          description:
            'The unpaid deposits and balances of an account due between from and to (default: this Monday–Sunday, Europe/Bucharest), and earlier ones still unpaid, flagged overdue (never removed).',
          querystring: DuesQuery,
          response: { 200: DuesView, ...errors },
        },
      },
      async (request) => {
        const query = request.query;
        requireAccount(principalOf(request), query.accountId);
        const week = bucharestWeekOf(new Date());
        const range = { from: query.from ?? week.from, to: query.to ?? week.to };
        if (range.from > range.to) {
          throw new AppError('VALIDATION_FAILED', 'from is after to', {
            errors: [{ path: 'from', message: 'after to' }],
          });
        }
        return duesOf(deps.db, query.accountId, range);
      },
    );

    app.get(
      '/api/crm/calendar',
      {
        config: read,
        schema: {
          tags,
          operationId: 'listCalendar',
          summary: "An account's bookings between two times (at most 62 days)",
          description:
            'The bookings (events with a start) overlapping [from, to), cancelled and archived ones included for the calendar to colour, optionally only those of a performer or a character; ordered by start.',
          querystring: CalendarQuery,
          response: { 200: EventList, ...errors },
        },
      },
      async (request) => {
        const query = request.query;
        requireAccount(principalOf(request), query.accountId);
        const from = instantOf(query.from);
        const to = instantOf(query.to);
        const days = (to.getTime() - from.getTime()) / 86_400_000;
        if (!(days > 0) || days > CALENDAR_MAX_DAYS) {
          throw new AppError(
            'VALIDATION_FAILED',
            `to must be after from, ${CALENDAR_MAX_DAYS} days at most`,
            {
              errors: [{ path: 'to', message: 'not within 62 days after from' }],
            },
          );
        }
        const events = await eventsStartingIn(
          deps.db,
          query.accountId,
          new Date(from.getTime() - 86_400_000),
          to,
        );
        const items = events
          .filter(({ event }) => event.end !== undefined && event.end > from)
          .filter(
            ({ event }) =>
              query.performerId === undefined ||
              (event.performerIds ?? []).includes(query.performerId),
          )
          .filter(
            ({ event }) =>
              query.character === undefined ||
              event.characters.some(
                (c) => c.localeCompare(query.character!, 'ro', { sensitivity: 'base' }) === 0,
              ),
          )
          .sort((a, b) => a.event.start!.getTime() - b.event.start!.getTime());
        return {
          items: items.map(({ eventId, event }) => toEventView(eventId, event)),
          truncated: events.length >= BOOKINGS_WINDOW_MAX,
        };
      },
    );

    return Promise.resolve();
  };
}
