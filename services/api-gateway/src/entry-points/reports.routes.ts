import type { FastifyInstance } from 'fastify';
import ical, { ICalEventStatus } from 'ical-generator';
import { z } from 'zod';
import {
  AppError,
  CalendarFeedParams,
  CalendarFeedQuery,
  ClientListQuery,
  ClientListView,
  EXPORT_MAX_DAYS,
  ExportParams,
  ExportQuery,
  MonthlyReport,
  MonthlyReportQuery,
  PerformerFeedRevoked,
  PerformerFeedView,
  PerformerParams,
  ProblemDetails,
  bucharestParts,
  type EventDoc,
  type ExportKind,
} from '@wacrm/contracts';
import {
  accountOfFeed,
  bookingMoney,
  bookingStatusOf,
  clientListPage,
  eventsDatedIn,
  listPerformers,
  monthlyReportOf,
  paymentsReceivedIn,
  performerBookings,
  readPerformer,
  revokePerformerFeed,
  rotatePerformerFeed,
  visibleClientRows,
} from '@wacrm/firestore';
import { toCsv, type CsvValue } from '../domain/csv.js';
import { requireAccount } from '../domain/principal.js';
import { principalOf } from './auth.hook.js';
import { documentedRoutes } from './documented.js';
import type { RouteDeps } from './route-deps.js';
import { errorResponses } from './whatsapp.routes.js';

const tags = ['crm'] as const;
const errors = { ...errorResponses, 503: ProblemDetails };
const read = { operation: 'read' as const };
const crm = { operation: 'crm' as const };
const DAY_MS = 86_400_000;

const bucharestTime = (d: Date | undefined) => {
  if (d === undefined) return null;
  const p = bucharestParts(d);
  return `${p.date} ${p.time}`;
};

/** Checks an export's range: from ≤ to, at most EXPORT_MAX_DAYS days. */
function checkRange(range: { from: string; to: string }): void {
  const days = (Date.parse(range.to) - Date.parse(range.from)) / DAY_MS + 1;
  if (!(days >= 1) || days > EXPORT_MAX_DAYS) {
    throw new AppError(
      'VALIDATION_FAILED',
      `to must be on or after from, ${EXPORT_MAX_DAYS} days at most`,
      { errors: [{ path: 'to', message: `not within ${EXPORT_MAX_DAYS} days from from` }] },
    );
  }
}

/** The last calendar day of a YYYY-MM month. */
const monthEnd = (month: string) => {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
};

/** What a booking is called in a performer's calendar (Romanian: the business's language). */
function feedSummary(event: EventDoc): string {
  const what = event.characters.join(', ') || event.eventShortId;
  if (event.childName === null) return what;
  const age = event.childAge !== null ? ` (${event.childAge} ani)` : '';
  return `${what} — ${event.childName}${age}`;
}

function feedDescription(event: EventDoc): string {
  return [
    `Rezervare ${event.eventShortId}`,
    event.guests !== null ? `Invitați: ${event.guests}` : null,
    `Telefon client: ${event.phoneE164}`,
  ]
    .filter((line) => line !== null)
    .join('\n');
}

/**
 * Issue 19 item 7 and 8: a performer's calendar feed behind a secret, revocable URL; CSV exports;
 * the monthly report; the clients list. Each is computed only from what the caller may see.
 */
export function reportsRoutes(deps: RouteDeps) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);

    app.post(
      '/api/crm/performers/:performerId/calendar-feed',
      {
        config: crm,
        schema: {
          tags,
          operationId: 'rotatePerformerFeed',
          summary: "Make (or replace) a performer's secret calendar URL",
          description:
            "Makes a new secret URL for the performer's ICS feed, which phone calendars subscribe to, and answers it once: only a hash of its token is stored. An earlier URL of the performer stops working at once. The URL is built from the request's Host.",
          params: PerformerParams,
          response: { 201: PerformerFeedView, ...errors },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const id = request.params.performerId;
        const performer = await readPerformer(deps.db, id);
        requireAccount(principal, performer.accountId);
        const made = await rotatePerformerFeed(deps.db, id, performer.accountId, principal.id);
        const path = `/api/crm/performers/${encodeURIComponent(id)}/calendar.ics?token=${made.token}`;
        return reply.status(201).send({
          performerId: id,
          url: `${request.protocol}://${request.host}${path}`,
          token: made.token,
          createdAt: made.createdAt.toISOString(),
        });
      },
    );

    app.post(
      '/api/crm/performers/:performerId/calendar-feed/revoke',
      {
        config: crm,
        schema: {
          tags,
          operationId: 'revokePerformerFeed',
          summary: "Revoke a performer's calendar URL",
          description:
            "The performer's calendar URL answers 404 from now on (the record of it is kept, with who revoked it and when). 404 when there is no live URL.",
          params: PerformerParams,
          response: { 200: PerformerFeedRevoked, ...errors },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const id = request.params.performerId;
        requireAccount(principal, (await readPerformer(deps.db, id)).accountId);
        const revokedAt = await revokePerformerFeed(deps.db, id, principal.id);
        return { performerId: id, revokedAt: revokedAt.toISOString() };
      },
    );

    app.get(
      '/api/crm/performers/:performerId/calendar.ics',
      {
        // No credential but the token in the URL; counted per address by the rate limit.
        config: { public: true, tokenInUrl: true },
        schema: {
          tags,
          operationId: 'getPerformerCalendar',
          summary: "A performer's bookings as an ICS calendar (secret URL, no login)",
          description:
            "The iCalendar (text/calendar) feed of the performer's bookings that hold them — neither cancelled nor archived — from 90 days ago to 400 days ahead, for phone calendars to subscribe to. Needs the token of the URL made by rotatePerformerFeed; an unknown, replaced or revoked token is 404. Rate-limited per client address.",
          security: [],
          params: CalendarFeedParams,
          querystring: CalendarFeedQuery,
          response: { 200: z.string().describe('text/calendar'), ...errors },
        },
      },
      async (request, reply) => {
        const id = request.params.performerId;
        const accountId = await accountOfFeed(deps.db, id, request.query.token);
        const performer = await readPerformer(deps.db, id);
        const bookings = await performerBookings(deps.db, accountId, id);
        const calendar = ical({
          name: `${performer.name} — rezervări`,
          prodId: { company: 'wacrm', product: 'bookings', language: 'RO' },
          ttl: 15 * 60,
        });
        for (const { eventId, event } of bookings) {
          calendar.createEvent({
            id: `${eventId}@wacrm`,
            start: event.start!,
            end: event.end!,
            stamp: event.updatedAt,
            sequence: event.version ?? 1,
            summary: feedSummary(event),
            description: feedDescription(event),
            location: event.address,
            status:
              bookingStatusOf(event) === 'confirmed' || bookingStatusOf(event) === 'done'
                ? ICalEventStatus.CONFIRMED
                : ICalEventStatus.TENTATIVE,
          });
        }
        return reply
          .header('content-type', 'text/calendar; charset=utf-8')
          .header('cache-control', 'private, max-age=300')
          .header('content-disposition', `inline; filename="${id}.ics"`)
          .send(calendar.toString());
      },
    );

    app.get(
      '/api/crm/exports/:kind',
      {
        config: read,
        schema: {
          tags,
          operationId: 'exportCsv',
          summary: "An account's bookings, payments or clients for a date range, as CSV",
          description:
            "CSV (UTF-8 with BOM, CRLF, RFC 4180) of one account for [from, to] (Europe/Bucharest days, at most 366): bookings dated in the range; payments received in it; clients with a booking in it, with their name and figures in this account. A cell that starts with = + - or @ is prefixed with ' so a spreadsheet never runs it as a formula. The x-export-truncated header is true when more events exist than one export reads (10,000).",
          params: ExportParams,
          querystring: ExportQuery,
          response: { 200: z.string().describe('text/csv'), ...errors },
        },
      },
      async (request, reply) => {
        const { accountId, from, to } = request.query;
        requireAccount(principalOf(request), accountId);
        checkRange({ from, to });
        const kind: ExportKind = request.params.kind;
        const { csv, truncated } = await exportOf(deps, kind, accountId, { from, to });
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${kind}-${from}-${to}.csv"`)
          .header('x-export-truncated', String(truncated))
          .send(csv);
      },
    );

    app.get(
      '/api/crm/reports/monthly',
      {
        config: read,
        schema: {
          tags,
          operationId: 'getMonthlyReport',
          summary:
            "An account's month: booked, collected and outstanding, by character and performer",
          description:
            'The bookings dated in the month (neither leads, cancelled nor archived): what they are worth (price), what was paid on them and what is still owed, in total, by character and by performer. A booking with several characters or performers gives each an equal share of its money, so each breakdown adds up to the totals.',
          querystring: MonthlyReportQuery,
          response: { 200: MonthlyReport, ...errors },
        },
      },
      async (request) => {
        const { accountId, month } = request.query;
        requireAccount(principalOf(request), accountId);
        const [events, performers] = await Promise.all([
          eventsDatedIn(deps.db, accountId, { from: `${month}-01`, to: monthEnd(month) }),
          listPerformers(deps.db, accountId, true),
        ]);
        const names = new Map(performers.items.map((p) => [p.id, p.doc.name]));
        return {
          accountId,
          month,
          ...monthlyReportOf(events.items, month, names),
          truncated: events.truncated,
        };
      },
    );

    app.get(
      '/api/crm/clients',
      {
        config: read,
        schema: {
          tags,
          operationId: 'listClients',
          summary: 'Every client the caller may see, searchable, sortable, by page',
          description:
            'One row per client phone with events or conversations in the accounts the caller may see: name, bookings, spend, outstanding balance, last booking (before today) and next booking (from today on), all from those accounts only (events without an account count for admins only). q searches name and phone ignoring case and diacritics; sort and order pick the order (missing values last); page and pageSize page it.',
          querystring: ClientListQuery,
          response: { 200: ClientListView, ...errors },
        },
      },
      async (request) => {
        const query = request.query;
        const { rows, truncated } = await visibleClientRows(deps.db, principalOf(request).accounts);
        const page = clientListPage(rows, query);
        return { ...page, page: query.page, pageSize: query.pageSize, truncated };
      },
    );

    return Promise.resolve();
  };
}

async function exportOf(
  deps: RouteDeps,
  kind: ExportKind,
  accountId: string,
  range: { from: string; to: string },
): Promise<{ csv: string; truncated: boolean }> {
  if (kind === 'payments') {
    const { items, truncated } = await paymentsReceivedIn(deps.db, accountId, range);
    const rows: CsvValue[][] = items.map(({ eventId, event, payment }) => [
      payment.date,
      event.eventShortId,
      eventId,
      event.phoneE164,
      payment.amount,
      payment.method,
      payment.note,
      payment.recordedBy,
      payment.recordedAt.toISOString(),
    ]);
    const header = ['date', 'booking', 'eventId', 'phone', 'amount', 'method', 'note'];
    return { csv: toCsv([...header, 'recordedBy', 'recordedAt'], rows), truncated };
  }
  const events = await eventsDatedIn(deps.db, accountId, range);
  if (kind === 'clients') {
    const booked = new Set(events.items.map((e) => e.event.phoneE164));
    const clients = await visibleClientRows(deps.db, new Set([accountId]));
    const rows = clients.rows
      .filter((r) => booked.has(r.phoneE164))
      .sort((a, b) => a.phoneE164.localeCompare(b.phoneE164))
      .map((r): CsvValue[] => [
        r.phoneE164,
        r.displayName,
        r.bookings,
        r.spend,
        r.outstanding,
        r.lastBooking,
        r.nextBooking,
      ]);
    const header = [
      'phone',
      'name',
      'bookings',
      'spend',
      'outstanding',
      'lastBooking',
      'nextBooking',
    ];
    return { csv: toCsv(header, rows), truncated: events.truncated || clients.truncated };
  }
  const performers = new Map(
    (await listPerformers(deps.db, accountId, true)).items.map((p) => [p.id, p.doc.name]),
  );
  const rows = events.items.map(({ eventId, event }): CsvValue[] => {
    const money = bookingMoney(event);
    return [
      event.eventShortId,
      eventId,
      event.date,
      bucharestTime(event.start),
      bucharestTime(event.end),
      bookingStatusOf(event),
      event.phoneE164,
      event.childName,
      event.characters.join('; '),
      (event.performerIds ?? []).map((id) => performers.get(id) ?? id).join('; '),
      event.address,
      money.price,
      money.depositAsked,
      money.paid,
      money.outstanding,
      event.depositDueDate ?? null,
      event.balanceDueDate ?? null,
      event.isArchived,
    ];
  });
  const header = [
    'booking',
    'eventId',
    'date',
    'start',
    'end',
    'status',
    'phone',
    'child',
    'characters',
    'performers',
    'address',
    'price',
    'deposit',
    'paid',
    'outstanding',
    'depositDue',
    'balanceDue',
    'archived',
  ];
  return { csv: toCsv(header, rows), truncated: events.truncated };
}
