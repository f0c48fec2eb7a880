import { z } from 'zod';
import {
  AccountId,
  AccountStatus,
  CalendarDate,
  ClockTime,
  IsoDateTime,
  OutgoingMedia,
  PhoneE164,
  RequestId,
  WaKey,
} from './common.schema.js';
import { DraftEvent, ExtractionResult } from './crm.schema.js';
import { BookingConflict, BookingFields } from './booking.schema.js';
import { ReadMark } from './queue.schema.js';

/** RFC 9457 problem details, the body of every error answer. */
export const ProblemDetails = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string().optional(),
  instance: z.string().optional(),
  code: z.string(),
  traceId: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  /** Issue 19: the bookings in the way of a booking that was refused (409). */
  conflicts: z.array(BookingConflict).optional(),
});
export type ProblemDetails = z.infer<typeof ProblemDetails>;

export const DependencyCheck = z.object({
  ok: z.boolean(),
  latencyMs: z.number().nonnegative().nullable(),
  error: z.string().optional(),
});

export const HealthResponse = z.object({
  status: z.enum(['ok', 'degraded']),
  service: z.string(),
  version: z.string(),
  uptimeSeconds: z.number().nonnegative(),
  checks: z.record(z.string(), DependencyCheck),
  /** Names the failing dependencies when status is "degraded". */
  failing: z.array(z.string()),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

export const AddAccountBody = z.object({
  name: z.string().trim().min(1).max(100),
  phone: PhoneE164.optional(),
});
export type AddAccountBody = z.infer<typeof AddAccountBody>;

export const AccountParams = z.object({ accountId: AccountId });

export const SendMessageBody = z
  .object({
    accountId: AccountId,
    threadId: z.string().min(1).max(1500).optional(),
    to: PhoneE164.optional(),
    text: z.string().min(1).max(65_536).optional(),
    media: OutgoingMedia.optional(),
    replyTo: WaKey.optional(),
    requestId: RequestId.optional(),
    /** Issue 19: send at this time (in the future, at most a year ahead) instead of now. */
    sendAt: IsoDateTime.optional(),
  })
  .refine((b) => (b.threadId === undefined) !== (b.to === undefined), {
    message: 'exactly one of threadId or to',
    path: ['threadId'],
  })
  .refine((b) => b.text !== undefined || b.media !== undefined, {
    message: 'text or media is required',
    path: ['text'],
  });
export type SendMessageBody = z.infer<typeof SendMessageBody>;

export const SendMessageAccepted = z.object({
  requestId: RequestId,
  threadId: z.string(),
  messageId: z.string(),
  /**
   * `queued`, or `scheduled` for a send with sendAt, also for a repeat: progress is the message's
   * status (and the SSE stream).
   */
  status: z.enum(['queued', 'scheduled']),
  sendAt: IsoDateTime.optional(),
});

export const MarkReadBody = z.object({
  /** The newest message the reader saw (its id), or a time: later messages stay unread. */
  upTo: ReadMark,
});
export type MarkReadBody = z.infer<typeof MarkReadBody>;

export const MarkReadAccepted = z.object({
  threadId: z.string(),
  upTo: z.string(),
});

export const ExtractEventBody = z.object({
  threadId: z.string().min(1).max(1500),
  accountId: AccountId,
  dryRun: z.boolean().default(true),
  messageLimit: z.number().int().positive().max(200).default(50),
});
export type ExtractEventBody = z.infer<typeof ExtractEventBody>;

export const ExtractEventResponse = ExtractionResult.extend({ extractionId: z.string() });

export const CreateEventBody = z.object({
  threadId: z.string().min(1).max(1500).optional(),
  phoneE164: PhoneE164.optional(),
  accountId: AccountId.optional(),
  date: CalendarDate,
  time: ClockTime.nullable().default(null),
  durationHours: z.number().positive().max(24).nullable().default(null),
  address: z.string().max(500).nullable().default(null),
  characters: z.array(z.string().min(1).max(100)).max(30).default([]),
  amount: z.number().nonnegative().max(1_000_000).nullable().default(null),
  advance: z.number().nonnegative().max(1_000_000).nullable().default(null),
  paid: z.number().nonnegative().max(1_000_000).optional(),
  childName: z.string().max(100).nullable().default(null),
  childAge: z.number().int().min(0).max(120).nullable().default(null),
  guests: z.number().int().min(0).max(10_000).nullable().default(null),
  notes: z.string().max(2000).nullable().default(null),
  sourceExtractionId: z.string().max(200).nullable().default(null),
  ...BookingFields.shape,
});
export type CreateEventBody = z.infer<typeof CreateEventBody>;

export const UpdateEventBody = DraftEvent.partial().extend({
  paid: z.number().nonnegative().optional(),
  ...BookingFields.shape,
});

/**
 * `If-Match` of an event edit or archive: the version the client read, as its ETag (`"3"`,
 * also accepted weak, `W/"3"`). Absent, the edit applies to whatever version is stored.
 */
export const EventIfMatch = z
  .string()
  .regex(/^(?:W\/)?"[1-9]\d{0,14}"$/, 'If-Match: the event\'s ETag, e.g. "3"')
  .transform((tag) => Number(tag.slice(tag.indexOf('"') + 1, -1)));

export const AskBody = z.object({
  phoneE164: PhoneE164,
  question: z.string().trim().min(1).max(2000),
});
export type AskBody = z.infer<typeof AskBody>;

export const AskSource = z.object({
  eventShortId: z.string(),
  eventId: z.string(),
  date: CalendarDate,
  amount: z.number().nullable(),
  paid: z.number(),
});

export const AskResponse = z.object({
  answer: z.string(),
  intent: z.string(),
  sources: z.array(AskSource),
});

export const AccountSummary = z.object({
  id: AccountId,
  name: z.string(),
  phone: PhoneE164.nullable(),
  status: AccountStatus,
  ownerInstanceId: z.string().nullable(),
});

/** `GET /api/web-config` (public): how the web client may sign in. Holds nothing secret. */
export const WebConfigResponse = z.object({
  /** The ADMIN_TOKEN bootstrap credential is accepted (embedded defaults). */
  adminTokenSignIn: z.boolean(),
  /** Firebase Auth email/password sign-in, when the gateway verifies Firebase ID tokens. */
  firebase: z
    .object({
      apiKey: z.string(),
      authDomain: z.string().nullable(),
      projectId: z.string(),
      /** The Auth emulator's URL (local runs and tests); null with real Firebase Auth. */
      emulatorUrl: z.string().nullable(),
    })
    .nullable(),
});
export type WebConfigResponse = z.infer<typeof WebConfigResponse>;
