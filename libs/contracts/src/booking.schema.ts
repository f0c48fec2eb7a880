import { z } from 'zod';
import { AccountId, CalendarDate, IsoDateTime } from './common.schema.js';
import { AppError } from './errors.js';

/**
 * Issue 19: bookings on `evenimente`, performers and costumes. Every field a booking adds to an
 * event is optional on the document (events written before it have none): additive only.
 */

/** The business's time zone: days off, working days and "this week" are counted in it. */
export const BOOKING_TIME_ZONE = 'Europe/Bucharest';

/** A booking's status, in the order a booking moves through them. */
export const BookingStatus = z.enum([
  'lead',
  'quoted',
  'awaiting_deposit',
  'confirmed',
  'done',
  'cancelled',
]);
export type BookingStatus = z.infer<typeof BookingStatus>;

/** An event saved before statuses existed was confirmed by a human (DESIGN.md step 6). */
export const LEGACY_BOOKING_STATUS: BookingStatus = 'confirmed';

const FORWARD: readonly BookingStatus[] = [
  'lead',
  'quoted',
  'awaiting_deposit',
  'confirmed',
  'done',
];

/**
 * The one transition rule: a booking moves forward along lead → quoted → awaiting_deposit →
 * confirmed → done (steps may be skipped, except that only a confirmed booking becomes done),
 * or is cancelled from any status but done. done and cancelled are final. Staying is allowed.
 */
export function canMoveBooking(from: BookingStatus, to: BookingStatus): boolean {
  if (from === to) return true;
  if (from === 'done' || from === 'cancelled') return false;
  if (to === 'cancelled') return true;
  if (to === 'done') return from === 'confirmed';
  return FORWARD.indexOf(to) > FORWARD.indexOf(from);
}

/** Whether a booking in this status holds its performers and costumes. */
export function holdsResources(status: BookingStatus): boolean {
  return status !== 'cancelled';
}

/** Whether money is still expected from a booking in this status. */
export function expectsPayment(status: BookingStatus): boolean {
  return status !== 'cancelled' && status !== 'lead';
}

export const PaymentMethod = z.enum(['cash', 'card', 'transfer', 'other']);
export type PaymentMethod = z.infer<typeof PaymentMethod>;

/** One payment received for a booking, kept forever in the event's `payments`. */
export const BookingPayment = z.object({
  /** From the Idempotency-Key that recorded it, so a retry never records it twice. */
  paymentId: z.string().min(1).max(64),
  amount: z.number().positive().max(1_000_000),
  /** The day the money came (Europe/Bucharest). */
  date: CalendarDate,
  method: PaymentMethod,
  note: z.string().max(500).nullable(),
  recordedBy: z.string().min(1),
  recordedAt: z.date(),
});
export type BookingPayment = z.infer<typeof BookingPayment>;

/** The most a booking may last; conflict queries look this far back for overlaps. */
export const BOOKING_MAX_HOURS = 24;
/** Bounds of a performer's or costume's travel buffer (minutes between two bookings). */
export const TRAVEL_BUFFER_MAX_MINUTES = 240;
export const TRAVEL_BUFFER_DEFAULT_MINUTES = 30;

const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$/;

/**
 * A booking time as the API takes it: an ISO instant with its offset (`2026-12-12T15:00:00+02:00`,
 * `…Z`), or a wall-clock time without offset, read as Europe/Bucharest (`2026-12-12T15:00`).
 * Stored as the UTC instant.
 */
export const BookingTime = z.union([
  IsoDateTime,
  z.string().regex(LOCAL_DATE_TIME, 'an ISO date-time, e.g. 2026-12-12T15:00 (Europe/Bucharest)'),
]);

const partsFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: BOOKING_TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  weekday: 'short',
});
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** An instant's calendar date, clock time and ISO weekday (1 = Monday) in Europe/Bucharest. */
export function bucharestParts(instant: Date): {
  date: string;
  time: string;
  weekday: number;
  offsetMinutes: number;
} {
  const p: Record<string, string> = {};
  for (const part of partsFormat.formatToParts(instant)) p[part.type] = part.value;
  const date = `${p.year}-${p.month}-${p.day}`;
  const wall = Date.UTC(
    Number(p.year),
    Number(p.month) - 1,
    Number(p.day),
    Number(p.hour),
    Number(p.minute),
    Number(p.second),
  );
  return {
    date,
    time: `${p.hour}:${p.minute}`,
    weekday: WEEKDAYS[p.weekday ?? ''] ?? 1,
    offsetMinutes: Math.round((wall - Math.floor(instant.getTime() / 1000) * 1000) / 60_000),
  };
}

/** The UTC instant of a `BookingTime` (a wall-clock time is read in Europe/Bucharest). */
export function instantOf(text: string): Date {
  if (!LOCAL_DATE_TIME.test(text)) return new Date(text);
  const wall = Date.parse(`${text}Z`);
  // Guess with the offset at the wall time read as UTC, then correct once across a DST change.
  let instant = wall - bucharestParts(new Date(wall)).offsetMinutes * 60_000;
  instant = wall - bucharestParts(new Date(instant)).offsetMinutes * 60_000;
  return new Date(instant);
}

/** The Monday–Sunday week (Europe/Bucharest) holding an instant, as calendar dates. */
export function bucharestWeekOf(instant: Date): { from: string; to: string } {
  const { date, weekday } = bucharestParts(instant);
  const day = Date.parse(`${date}T00:00:00Z`);
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: iso(day - (weekday - 1) * 86_400_000), to: iso(day + (7 - weekday) * 86_400_000) };
}

// --- performers and costumes --------------------------------------------------------------

export const Weekday = z.number().int().min(1).max(7);
const Name = z.string().trim().min(1).max(100);
const Character = z.string().trim().min(1).max(100);
const TravelBuffer = z.number().int().min(0).max(TRAVEL_BUFFER_MAX_MINUTES);

/** `performers/{id}`: who plays which characters, on which weekdays, and the days they are off. */
export const PerformerDoc = z.object({
  accountId: AccountId,
  name: Name,
  characters: z.array(Character).max(50),
  /** ISO weekdays (1 = Monday … 7 = Sunday) the performer works. */
  workingDays: z.array(Weekday).max(7),
  daysOff: z.array(CalendarDate).max(366),
  /** Minutes kept free after each booking to get to the next one. */
  travelBufferMinutes: TravelBuffer,
  isArchived: z.boolean(),
  createdBy: z.string().min(1),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type PerformerDoc = z.infer<typeof PerformerDoc>;

/** `costumes/{id}`: a counted resource (two Elsa dresses are one costume with count 2). */
export const CostumeDoc = z.object({
  accountId: AccountId,
  name: Name,
  character: Character.nullable(),
  count: z.number().int().min(1).max(1000),
  /** Minutes a costume is kept after a booking before the next (cleaning, transport). */
  travelBufferMinutes: TravelBuffer,
  isArchived: z.boolean(),
  createdBy: z.string().min(1),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type CostumeDoc = z.infer<typeof CostumeDoc>;

export const ResourceId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, 'letters, digits, "_" or "-", at most 128 characters');

const ALL_DAYS = [1, 2, 3, 4, 5, 6, 7];

export const CreatePerformerBody = z.object({
  accountId: AccountId,
  name: Name,
  characters: z.array(Character).max(50).default([]),
  workingDays: z.array(Weekday).max(7).default(ALL_DAYS),
  daysOff: z.array(CalendarDate).max(366).default([]),
  travelBufferMinutes: TravelBuffer.default(TRAVEL_BUFFER_DEFAULT_MINUTES),
});
export type CreatePerformerBody = z.infer<typeof CreatePerformerBody>;

/** A field left out keeps its value; `isArchived: true` archives (there is no delete). */
export const UpdatePerformerBody = CreatePerformerBody.omit({ accountId: true })
  .partial()
  .extend({ isArchived: z.boolean().optional() })
  .strict();

export const CreateCostumeBody = z.object({
  accountId: AccountId,
  name: Name,
  character: Character.nullable().default(null),
  count: z.number().int().min(1).max(1000).default(1),
  travelBufferMinutes: TravelBuffer.default(TRAVEL_BUFFER_DEFAULT_MINUTES),
});
export type CreateCostumeBody = z.infer<typeof CreateCostumeBody>;

export const UpdateCostumeBody = CreateCostumeBody.omit({ accountId: true })
  .partial()
  .extend({ isArchived: z.boolean().optional() })
  .strict();

const dates = { createdAt: z.string(), updatedAt: z.string() };
export const PerformerView = PerformerDoc.extend({ id: z.string(), ...dates });
export const CostumeView = CostumeDoc.extend({ id: z.string(), ...dates });
export const PerformerList = z.object({ items: z.array(PerformerView), truncated: z.boolean() });
export const CostumeList = z.object({ items: z.array(CostumeView), truncated: z.boolean() });
export const PerformerParams = z.object({ performerId: ResourceId });
export const CostumeParams = z.object({ costumeId: ResourceId });
export const ResourceListQuery = z.object({
  accountId: AccountId,
  includeArchived: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

// --- booking fields of an event body --------------------------------------------------------

const Ids = z.array(ResourceId).max(20);

/** What a create or edit of an event may add about the booking (all optional, additive). */
export const BookingFields = z.object({
  status: BookingStatus.optional(),
  start: BookingTime.optional(),
  end: BookingTime.optional(),
  performerIds: Ids.optional(),
  costumeIds: Ids.optional(),
  depositDueDate: CalendarDate.nullable().optional(),
  balanceDueDate: CalendarDate.nullable().optional(),
});
export type BookingFields = z.infer<typeof BookingFields>;

/** Why a booking cannot have a performer or costume at its time. */
export const ConflictReason = z.enum(['overlap', 'costume-count', 'day-off', 'not-working-day']);

/** One conflict: the booking in the way (null for a day off) and the resource they share. */
export const BookingConflict = z.object({
  reason: ConflictReason,
  eventId: z.string().nullable(),
  performerId: z.string().optional(),
  costumeId: z.string().optional(),
  start: z.string(),
  end: z.string(),
});
export type BookingConflict = z.infer<typeof BookingConflict>;

/** A booking's money as computed from its price, deposit and payments. */
export const BookingMoneyView = z.object({
  price: z.number().nullable(),
  paid: z.number(),
  /** Price minus paid, never below 0 (0 for a cancelled booking or a lead). */
  outstanding: z.number(),
  depositAsked: z.number().nullable(),
  /** Deposit asked minus paid, never below 0. */
  depositOutstanding: z.number(),
  depositOverdue: z.boolean(),
  balanceOverdue: z.boolean(),
});
export type BookingMoneyView = z.infer<typeof BookingMoneyView>;

/** The conflicts a booking would cause: answered as 409 with the bookings in the way. */
export class BookingConflictError extends AppError {
  constructor(readonly conflicts: BookingConflict[]) {
    super(
      'CONFLICT',
      `the booking collides with ${conflicts.length} other booking(s) or day(s) off of its performers or costumes`,
      {
        errors: conflicts.map((c) => ({
          path: c.performerId !== undefined ? 'performerIds' : 'costumeIds',
          message: `${c.reason} ${c.eventId ?? ''} ${c.start}–${c.end}`.replace(/\s+/g, ' '),
        })),
      },
    );
  }
}

// --- payments, availability, dues -------------------------------------------------------------

export const RecordPaymentBody = z.object({
  amount: z.number().positive().max(1_000_000),
  date: CalendarDate,
  method: PaymentMethod,
  note: z.string().max(500).nullable().default(null),
});
export type RecordPaymentBody = z.infer<typeof RecordPaymentBody>;

export const AvailabilityQuery = z.object({
  accountId: AccountId,
  character: Character,
  start: BookingTime,
  durationMinutes: z.coerce
    .number()
    .int()
    .min(15)
    .max(BOOKING_MAX_HOURS * 60)
    .default(120),
  /** How many nearest free slots to propose (0–10). */
  slots: z.coerce.number().int().min(0).max(10).default(3),
});

export const FreeSlot = z.object({ start: z.string(), end: z.string(), performerId: z.string() });
export const AvailabilityView = z.object({
  character: z.string(),
  start: z.string(),
  end: z.string(),
  free: z.boolean(),
  performers: z.array(
    z.object({
      performerId: z.string(),
      name: z.string(),
      free: z.boolean(),
      conflicts: z.array(BookingConflict),
    }),
  ),
  /** Costumes for the character and whether one is left at that time (empty: none tracked). */
  costumes: z.array(z.object({ costumeId: z.string(), name: z.string(), free: z.boolean() })),
  nearestFreeSlots: z.array(FreeSlot),
});

export const DuesQuery = z.object({
  accountId: AccountId,
  /** Defaults to this week, Monday–Sunday, Europe/Bucharest. */
  from: CalendarDate.optional(),
  to: CalendarDate.optional(),
});

export const DueItem = z.object({
  eventId: z.string(),
  eventShortId: z.string(),
  phoneE164: z.string(),
  kind: z.enum(['deposit', 'balance']),
  dueDate: CalendarDate,
  amountDue: z.number(),
  /** Past its due date and still unpaid: flagged, never deleted. */
  overdue: z.boolean(),
  status: BookingStatus,
  start: z.string().nullable(),
});
export const DuesView = z.object({
  from: CalendarDate,
  to: CalendarDate,
  items: z.array(DueItem),
  truncated: z.boolean(),
});

export const CalendarQuery = z.object({
  accountId: AccountId,
  from: BookingTime,
  to: BookingTime,
  performerId: ResourceId.optional(),
  character: Character.optional(),
});
