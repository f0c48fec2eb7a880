import { z } from 'zod';
import { AccountId, CalendarDate } from './common.schema.js';
import { ResourceId } from './booking.schema.js';

/**
 * Issue 19 items 7 and 8: a performer's calendar feed, CSV exports, the monthly report and the
 * clients list.
 */

// --- a performer's calendar feed (ICS) ---------------------------------------------------------

/** The feed's secret: 32 random bytes, base64url (43 characters). */
export const FEED_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * `performerFeeds/{performerId}`: the one live secret of a performer's ICS feed, kept as its
 * SHA-256 only (the token is shown once, when made). Rotating replaces the hash; revoking
 * keeps the record with `revokedAt`, and the URL answers 404 from then on.
 */
export const PerformerFeedDoc = z.object({
  accountId: AccountId,
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  createdBy: z.string().min(1),
  createdAt: z.date(),
  revokedAt: z.date().nullable(),
  revokedBy: z.string().nullable(),
});
export type PerformerFeedDoc = z.infer<typeof PerformerFeedDoc>;

export const PerformerFeedView = z.object({
  performerId: z.string(),
  /** The subscription URL with its token: shown once, never stored in clear. */
  url: z.string(),
  token: z.string(),
  createdAt: z.string(),
});
export const PerformerFeedRevoked = z.object({
  performerId: z.string(),
  revokedAt: z.string(),
});
export const CalendarFeedParams = z.object({ performerId: ResourceId });
export const CalendarFeedQuery = z.object({
  token: z.string().regex(FEED_TOKEN, 'the token of the calendar URL'),
});

// --- CSV exports ---------------------------------------------------------------------------

/** The longest range one export covers. */
export const EXPORT_MAX_DAYS = 366;

export const ExportQuery = z.object({
  accountId: AccountId,
  /** First and last calendar day (Europe/Bucharest), both included. */
  from: CalendarDate,
  to: CalendarDate,
});
export const ExportKind = z.enum(['bookings', 'payments', 'clients']);
export type ExportKind = z.infer<typeof ExportKind>;
export const ExportParams = z.object({ kind: ExportKind });

// --- monthly report ------------------------------------------------------------------------

export const ReportMonth = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month, YYYY-MM')
  .meta({ example: '2026-12' });

export const MonthlyReportQuery = z.object({ accountId: AccountId, month: ReportMonth });

/** Money of a set of bookings: what they are worth, what came in and what is still owed. */
export const ReportFigures = z.object({
  bookings: z.number().int().nonnegative(),
  booked: z.number(),
  collected: z.number(),
  outstanding: z.number(),
});
export type ReportFigures = z.infer<typeof ReportFigures>;

export const ReportRow = ReportFigures.extend({
  /** The character or performer; null for bookings without one. */
  key: z.string().nullable(),
  name: z.string().nullable(),
});
export type ReportRow = z.infer<typeof ReportRow>;

export const MonthlyReport = z.object({
  accountId: AccountId,
  month: ReportMonth,
  totals: ReportFigures,
  /** A booking with several characters (performers) counts a share of its money for each. */
  byCharacter: z.array(ReportRow),
  byPerformer: z.array(ReportRow),
  truncated: z.boolean(),
});
export type MonthlyReport = z.infer<typeof MonthlyReport>;

// --- clients list --------------------------------------------------------------------------

export const ClientSort = z.enum([
  'name',
  'bookings',
  'spend',
  'outstanding',
  'lastBooking',
  'nextBooking',
]);
export type ClientSort = z.infer<typeof ClientSort>;

export const ClientListQuery = z.object({
  /** Name or phone; case and diacritics ignored ("stefan" finds "Ștefan"). */
  q: z.string().trim().max(100).optional(),
  sort: ClientSort.default('name'),
  order: z.enum(['asc', 'desc']).default('asc'),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(25),
});
export type ClientListQuery = z.infer<typeof ClientListQuery>;

export const ClientRow = z.object({
  phoneE164: z.string(),
  displayName: z.string().nullable(),
  bookings: z.number().int().nonnegative(),
  /** What the client paid (the profile's total spent). */
  spend: z.number(),
  outstanding: z.number(),
  /** The latest booking before today and the first from today on (Europe/Bucharest dates). */
  lastBooking: CalendarDate.nullable(),
  nextBooking: CalendarDate.nullable(),
  accountIds: z.array(z.string()),
});
export type ClientRow = z.infer<typeof ClientRow>;

export const ClientListView = z.object({
  items: z.array(ClientRow),
  total: z.number().int().nonnegative(),
  page: z.number().int(),
  pageSize: z.number().int(),
  /** True when more events or conversations exist than one list reads. */
  truncated: z.boolean(),
});
