import { z } from 'zod';
import {
  AccountId,
  AccountStatus,
  CalendarDate,
  ClockTime,
  MediaRef,
  MessageDirection,
  MessageSource,
  MessageStatus,
  MessageType,
  PhoneE164,
  UserRole,
  WaKey,
} from './common.schema.js';
import { DraftEvent, ExtractionAction, Payment, RoleSlot } from './crm.schema.js';
import { BookingPayment, BookingStatus } from './booking.schema.js';
import { OUTBOX_STATUSES } from './message-status.js';
import { SendPolicy } from './outbox.schema.js';
import { InboxSettings, LabelId, ThreadStage } from './inbox.schema.js';

/**
 * Firestore documents. Times are `Date` here: firebase-admin writes a `Date` as a Timestamp and
 * the converters in libs/firestore turn Timestamps back into `Date` before parsing.
 */
const Time = z.date();

/** The collections of the data model; the only place their names are spelled. */
export const Collections = {
  accounts: 'accounts',
  threads: 'threads',
  messages: 'messages',
  extractions: 'extractions',
  outbox: 'outbox',
  evenimente: 'evenimente',
  clients: 'clients',
  users: 'users',
  apiKeys: 'apiKeys',
  authState: 'authState',
  performers: 'performers',
  costumes: 'costumes',
  /** Internal notes on a thread (`threads/{id}/notes`), append-only (issue 20). */
  notes: 'notes',
  /** Files uploaded with `POST /api/media`, by media id (issue 17). */
  mediaUploads: 'mediaUploads',
  /** `accounts/{id}/mediaProgress/history`: the account's history media outcomes (issue 17). */
  mediaProgress: 'mediaProgress',
  /** A performer's calendar feed secret, as its hash (issue 19). */
  performerFeeds: 'performerFeeds',
} as const;

export const HistoryProgress = z.object({
  status: z.enum(['idle', 'running', 'completed', 'failed']),
  threads: z.number().int().nonnegative(),
  messages: z.number().int().nonnegative(),
  percent: z.number().min(0).max(100).nullable(),
  startedAt: Time.nullable(),
  completedAt: Time.nullable(),
});
export type HistoryProgress = z.infer<typeof HistoryProgress>;

export const AccountDoc = z.object({
  name: z.string().min(1).max(100),
  phone: PhoneE164.nullable(),
  status: AccountStatus,
  /** The raw QR string while `status == qr_ready`, else null. */
  qr: z.string().nullable(),
  qrExpiresAt: Time.nullable(),
  pairingCode: z.string().nullable(),
  ownerInstanceId: z.string().nullable(),
  history: HistoryProgress,
  /**
   * History and backfill messages with media to keep, ever (issue 17 item 6): counted by ingest
   * in the commit that creates them; the media worker counts how they end (`mediaProgress`).
   */
  historyMediaTotal: z.number().int().nonnegative().optional(),
  lastError: z.string().nullable(),
  lastConnectedAt: Time.nullable(),
  /** First successful pairing; the send governor ramps new numbers up from here. */
  pairedAt: Time.nullable().optional(),
  sendPolicy: SendPolicy.nullable().optional(),
  /** Set by outbox-sender when WhatsApp refuses the account (401/403); its outbox is kept. */
  sendingPausedReason: z.string().nullable().optional(),
  /** Inbox settings (read receipts, waiting limit, labels); absent = defaults. API-owned. */
  inbox: InboxSettings.partial().optional(),
  createdAt: Time,
  updatedAt: Time,
});
export type AccountDoc = z.infer<typeof AccountDoc>;

export const ThreadDoc = z.object({
  accountId: AccountId,
  clientJid: z.string().min(1),
  /** Null for groups and for contacts whose number is not known yet (LID only). */
  phoneE164: PhoneE164.nullable(),
  displayName: z.string().max(256).nullable(),
  isGroup: z.boolean(),
  lastMessageAt: Time.nullable(),
  lastMessageText: z.string().max(1000).nullable(),
  lastMessageDirection: MessageDirection.nullable(),
  unreadCount: z.number().int().nonnegative(),
  messageCount: z.number().int().nonnegative(),
  /** Id of the message `lastMessageAt`/`lastMessageText` come from; breaks ties between equal timestamps. */
  lastMessageId: z.string().nullable().optional(),
  /**
   * Set on a `…@lid` thread once its phone number is known: its messages were copied to this
   * thread (the phone JID's), which receives everything from then on. Nothing is deleted.
   */
  mergedInto: z.string().nullable().optional(),
  /** The user (uid) who handles the thread; null or absent = unassigned. API-owned. */
  assigneeUid: z.string().max(128).nullable().optional(),
  assignedAt: Time.nullable().optional(),
  stage: ThreadStage.nullable().optional(),
  labels: z.array(LabelId).max(10).optional(),
  createdAt: Time,
  updatedAt: Time,
});
export type ThreadDoc = z.infer<typeof ThreadDoc>;

export const MessageDoc = z.object({
  accountId: AccountId,
  threadId: z.string().min(1),
  direction: MessageDirection,
  body: z.string().max(65_536).nullable(),
  type: MessageType,
  media: MediaRef.nullable(),
  tsClient: Time,
  tsServer: Time.nullable(),
  status: MessageStatus,
  waKey: WaKey,
  /** Set on outbound messages sent through the outbox. */
  requestId: z.string().nullable(),
  source: MessageSource,
  /** Group messages: the member who wrote it. */
  participant: z.string().nullable(),
  senderName: z.string().max(256).nullable(),
  quotedMessageId: z.string().nullable(),
  /** A revoke marks the message deleted and keeps the original body. */
  deleted: z.boolean(),
  editedBody: z.string().max(65_536).nullable(),
  reactions: z.record(z.string(), z.string()),
  location: z
    .object({ latitude: z.number(), longitude: z.number(), name: z.string().nullable() })
    .nullable(),
  /** An undecryptable message kept as a placeholder, for which a resend was asked. */
  resendRequested: z.boolean().optional(),
  createdAt: Time,
  updatedAt: Time,
});
export type MessageDoc = z.infer<typeof MessageDoc>;

export const OutboxStatus = z.enum(OUTBOX_STATUSES);
export type OutboxStatus = z.infer<typeof OutboxStatus>;

export const OutboxDoc = z.object({
  requestId: z.string(),
  accountId: AccountId,
  threadId: z.string(),
  /** Recipient JID. */
  to: z.string(),
  body: z.string().nullable(),
  media: z
    .object({
      kind: z.enum(['image', 'document', 'audio', 'video']),
      mimetype: z.string(),
      fileName: z.string().nullable(),
      caption: z.string().nullable(),
      url: z.string().nullable(),
      /** A file uploaded with `POST /api/media` (instead of a url). */
      mediaId: z.string().nullable().optional(),
    })
    .nullable(),
  replyTo: z.string().nullable(),
  waMessageId: z.string(),
  status: OutboxStatus,
  attempts: z.number().int().nonnegative(),
  lastError: z.string().nullable(),
  /** Hash of the request body: the same key with another body is a conflict. */
  bodyHash: z.string(),
  createdBy: z.string(),
  createdAt: Time,
  updatedAt: Time,
  sentAt: Time.nullable(),
  /**
   * Issue 19: a scheduled send (status `scheduled`) is handed over at this time, not before;
   * absent or null = as soon as possible.
   */
  sendAt: Time.nullable().optional(),
  /** Why a scheduled send was cancelled (the operator, or the booking was cancelled). */
  cancelledReason: z.string().max(200).nullable().optional(),
  /**
   * W3C traceparent of the request that accepted the send (ids only, no content), so a send the
   * relay hands to the queue again stays in that request's trace.
   */
  traceparent: z.string().max(128).nullable().optional(),
});
export type OutboxDoc = z.infer<typeof OutboxDoc>;

export const EventDoc = z.object({
  phoneE164: PhoneE164,
  createdBy: z.string().min(1),
  schemaVersion: z.union([z.literal(2), z.literal(3)]),
  isArchived: z.boolean(),
  /** A short id people can read out on the phone, e.g. "EV-7K3Q9". */
  eventShortId: z.string().min(1).max(32),
  date: CalendarDate,
  time: ClockTime.nullable(),
  durationHours: z.number().positive().nullable(),
  address: z.string().nullable(),
  characters: z.array(z.string()),
  rolesBySlot: z.record(z.string(), RoleSlot),
  payment: Payment,
  childName: z.string().nullable(),
  childAge: z.number().int().nullable(),
  guests: z.number().int().nullable(),
  notes: z.string().nullable(),
  accountId: AccountId.nullable(),
  threadId: z.string().nullable(),
  sourceExtractionId: z.string().nullable(),
  createdAt: Time,
  updatedAt: Time,
  archivedAt: Time.nullable(),
  /**
   * SHA-256 of the create request, kept when it came with an Idempotency-Key: a retry with the
   * same key and body returns this event, the same key with another body is a conflict.
   */
  bodyHash: z.string().optional(),
  /**
   * Issue 16 item 4: 1 at creation, one more per accepted edit or archive (absent on events
   * written before it: read as 1). An edit made against another version is refused (409).
   */
  version: z.number().int().positive().optional(),
  /** The fencing token of the edit lock held by the last server write (see EventEditDoc). */
  writeFence: z.number().int().nonnegative().optional(),
  // Issue 19, the booking (all optional: events before it have none). The price is
  // `payment.amount`, the deposit asked `payment.advance`; `payment.paid` is the sum of
  // `payments` once one is recorded (libs/firestore bookingMoney is the one place it is computed).
  status: BookingStatus.optional(),
  /** UTC instants; shown in Europe/Bucharest. `date`/`time`/`durationHours` follow them. */
  start: Time.optional(),
  end: Time.optional(),
  performerIds: z.array(z.string()).optional(),
  costumeIds: z.array(z.string()).optional(),
  depositDueDate: CalendarDate.nullable().optional(),
  balanceDueDate: CalendarDate.nullable().optional(),
  payments: z.array(BookingPayment).optional(),
});
export type EventDoc = z.infer<typeof EventDoc>;

/** Subcollection of `evenimente/{eventId}` holding one document per keyed edit. */
export const EventEditsCollection = 'edits';

/**
 * `evenimente/{eventId}/edits/{id}`: an edit or archive that came with an Idempotency-Key,
 * written in the same commit as the event. A retry with the same key and body is answered with
 * the version it made instead of a 409; the same key with another body is a conflict.
 */
export const EventEditDoc = z.object({
  kind: z.enum(['update', 'archive', 'payment']),
  uid: z.string().min(1),
  bodyHash: z.string(),
  /** The version this edit wrote. */
  version: z.number().int().positive(),
  at: Time,
});
export type EventEditDoc = z.infer<typeof EventEditDoc>;

/** Server-written aggregates, recomputed from `evenimente` by crm-aggregator. */
export const ClientDoc = z.object({
  phoneE164: PhoneE164,
  displayName: z.string().nullable(),
  eventsCount: z.number().int().nonnegative(),
  lifetimeSpendPaid: z.number().nonnegative(),
  lifetimeSpendTotal: z.number().nonnegative(),
  /** Issue 19: what the client still owes on its bookings (absent on aggregates before it). */
  outstandingBalance: z.number().nonnegative().optional(),
  firstEventAt: CalendarDate.nullable(),
  lastEventAt: CalendarDate.nullable(),
  lastContactAt: Time.nullable(),
  accountIds: z.array(AccountId),
  updatedAt: Time,
});
export type ClientDoc = z.infer<typeof ClientDoc>;

export const ExtractionDoc = z.object({
  threadId: z.string(),
  accountId: AccountId,
  requestId: z.string(),
  inputMessageIds: z.array(z.string()),
  /** The messages the draft's fields came from (optional: older audits lack it). */
  sourceMessageIds: z.array(z.string()).optional(),
  provider: z.enum(['offline', 'groq']),
  model: z.string(),
  action: ExtractionAction,
  output: DraftEvent.nullable(),
  confidence: z.number().min(0).max(1),
  reasons: z.array(z.string()),
  dryRun: z.boolean(),
  createdBy: z.string(),
  createdAt: Time,
});
export type ExtractionDoc = z.infer<typeof ExtractionDoc>;

export const UserDoc = z.object({
  role: UserRole,
  allowedAccounts: z.array(AccountId),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
});
export type UserDoc = z.infer<typeof UserDoc>;

export const ApiKeyScope = z.enum(['read', 'send', 'crm', 'admin']);
export type ApiKeyScope = z.infer<typeof ApiKeyScope>;

/** Integrator API keys are stored as a SHA-256 hash only; the clear key is shown once. */
export const ApiKeyDoc = z.object({
  name: z.string().min(1).max(100),
  hash: z.string().regex(/^[a-f0-9]{64}$/),
  prefix: z.string().max(16),
  scopes: z.array(ApiKeyScope),
  allowedAccounts: z.array(AccountId),
  revokedAt: Time.nullable(),
  lastUsedAt: Time.nullable(),
  createdBy: z.string(),
  createdAt: Time,
});
export type ApiKeyDoc = z.infer<typeof ApiKeyDoc>;
