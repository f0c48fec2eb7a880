import { z } from 'zod';
import {
  AccountId,
  AccountStatus,
  IsoDateTime,
  MediaStatus,
  MessageDirection,
  MessageSource,
  MessageStatus,
  MessageType,
  PhoneE164,
  UserRole,
} from './common.schema.js';
import { ApiKeyScope, EventDoc, HistoryProgress } from './firestore.schema.js';
import { BookingMoneyView, BookingPayment } from './booking.schema.js';
import { AssignedFilter, LabelId, ThreadStage } from './inbox.schema.js';
import { HistoryMediaProgress } from './media.schema.js';

/**
 * HTTP views of the api-gateway: what integrators read. Times are ISO strings; secrets (media
 * keys, API key hashes, webhook secrets) never appear except the one-time clear values.
 */

const Iso = z.string().describe('ISO-8601 date-time');
const IsoOrNull = Iso.nullable();

/** A thread id as the API accepts it: a Firestore document id that is not reserved. */
export const ThreadIdParam = z
  .string()
  .min(1)
  .max(700)
  .regex(/^[^/\p{Cc}]+$/u, 'no "/" or control characters')
  .refine((id) => id !== '.' && id !== '..' && !/^__.*__$/.test(id), 'not a reserved id');

export const ThreadParams = z.object({ threadId: ThreadIdParam });

const PageLimit = z.coerce.number().int().min(1).max(200).default(50);
/** Opaque keyset cursor returned as `nextCursor`. */
const Cursor = z
  .string()
  .max(1024)
  .regex(/^[A-Za-z0-9_-]+$/, 'a cursor returned by a previous page');

export const ThreadsQuery = z.object({
  accountId: AccountId,
  limit: PageLimit,
  cursor: Cursor.optional(),
  /** Only threads whose last message is at or after this time. */
  since: IsoDateTime.optional(),
  /** Only threads whose last message is before this time. */
  until: IsoDateTime.optional(),
  /** `mine`: assigned to the caller; `unassigned`; `all` (default). */
  assigned: AssignedFilter.default('all'),
  stage: ThreadStage.optional(),
  /** Only threads carrying this label. */
  label: LabelId.optional(),
  /** Only threads waiting for a reply longer than the account's limit. */
  waiting: z.enum(['true', 'false']).optional(),
});
export type ThreadsQuery = z.infer<typeof ThreadsQuery>;

export const MessagesQuery = z.object({
  limit: PageLimit,
  cursor: Cursor.optional(),
  order: z.enum(['asc', 'desc']).default('desc'),
  since: IsoDateTime.optional(),
  until: IsoDateTime.optional(),
});
export type MessagesQuery = z.infer<typeof MessagesQuery>;

export const ThreadView = z.object({
  id: z.string(),
  accountId: AccountId,
  clientJid: z.string(),
  phoneE164: PhoneE164.nullable(),
  displayName: z.string().nullable(),
  isGroup: z.boolean(),
  lastMessageAt: IsoOrNull,
  lastMessageText: z.string().nullable(),
  lastMessageDirection: MessageDirection.nullable(),
  unreadCount: z.number().int(),
  messageCount: z.number().int(),
  /** The user handling the thread, or null. */
  assigneeUid: z.string().nullable(),
  stage: ThreadStage.nullable(),
  labels: z.array(z.string()),
  /** When the client's unanswered last message came (the last message is inbound), else null. */
  waitingSince: IsoOrNull,
  updatedAt: Iso,
});
export type ThreadView = z.infer<typeof ThreadView>;

export const ThreadPage = z.object({
  items: z.array(ThreadView),
  nextCursor: z.string().nullable(),
});

export const MessageMediaView = z.object({
  kind: z.enum(['image', 'video', 'audio', 'document', 'sticker']),
  mimetype: z.string().nullable(),
  size: z.number().int().nullable(),
  fileName: z.string().nullable(),
  caption: z.string().nullable(),
  seconds: z.number().nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  /** Whether the file is kept (issue 17); null on messages stored before media were kept. */
  status: MediaStatus.nullable(),
  reason: z.string().nullable(),
  /** Hex SHA-256 of the stored bytes (the download's ETag). */
  sha256: z.string().nullable(),
  /** The type sniffed from the stored bytes. */
  mime: z.string().nullable(),
  /** A JPEG preview exists (`?thumbnail=1` on the media download). */
  thumbnail: z.object({ width: z.number().int(), height: z.number().int() }).nullable(),
});

export const MessageView = z.object({
  id: z.string(),
  threadId: z.string(),
  accountId: AccountId,
  direction: MessageDirection,
  body: z.string().nullable(),
  type: MessageType,
  media: MessageMediaView.nullable(),
  tsClient: Iso,
  tsServer: IsoOrNull,
  status: MessageStatus,
  source: MessageSource,
  requestId: z.string().nullable(),
  participant: z.string().nullable(),
  senderName: z.string().nullable(),
  quotedMessageId: z.string().nullable(),
  deleted: z.boolean(),
  editedBody: z.string().nullable(),
  reactions: z.record(z.string(), z.string()),
  location: z
    .object({ latitude: z.number(), longitude: z.number(), name: z.string().nullable() })
    .nullable(),
});
export type MessageView = z.infer<typeof MessageView>;

export const MessagePage = z.object({
  items: z.array(MessageView),
  nextCursor: z.string().nullable(),
});

export const HistoryProgressView = HistoryProgress.extend({
  startedAt: IsoOrNull,
  completedAt: IsoOrNull,
});

export const AccountView = z.object({
  id: AccountId,
  name: z.string(),
  phone: PhoneE164.nullable(),
  status: AccountStatus,
  ownerInstanceId: z.string().nullable(),
  lastError: z.string().nullable(),
  lastConnectedAt: IsoOrNull,
  history: HistoryProgressView,
  /** History media fetched in the background (issue 17 item 6). */
  historyMedia: HistoryMediaProgress,
  createdAt: Iso,
  updatedAt: Iso,
});
export type AccountView = z.infer<typeof AccountView>;

export const AccountsResponse = z.object({ accounts: z.array(AccountView) });

/** `GET /api/accounts/{accountId}/media-progress`. */
export const HistoryMediaProgressResponse = HistoryMediaProgress.extend({ accountId: AccountId });

export const AddAccountResponse = z.object({
  accountId: AccountId,
  status: AccountStatus,
  commandJobId: z.string(),
});

export const QrResponse = z.object({
  accountId: AccountId,
  status: AccountStatus,
  /** The raw QR string while the account waits for a scan, else null. */
  qr: z.string().nullable(),
  /** The same QR as a PNG data URL, ready for an <img>. */
  qrDataUrl: z.string().nullable(),
  expiresAt: IsoOrNull,
  pairingCode: z.string().nullable(),
});

export const PairingCodeBody = z.object({ phone: PhoneE164 });

export const BackfillBody = z
  .object({
    threads: z.number().int().positive().max(1000).default(50),
    messagesPerThread: z.number().int().positive().max(1000).default(100),
  })
  .strict();

export const CommandAccepted = z.object({
  accountId: AccountId,
  command: z.string(),
  jobId: z.string(),
  status: z.literal('queued'),
});

export const QueueDepth = z.object({
  waiting: z.number().int(),
  active: z.number().int(),
  delayed: z.number().int(),
  failed: z.number().int(),
});

export const DashboardResponse = z.object({
  generatedAt: Iso,
  accounts: z.object({
    total: z.number().int(),
    byStatus: z.record(z.string(), z.number().int()),
    items: z.array(
      z.object({
        id: AccountId,
        name: z.string(),
        status: AccountStatus,
        ownerInstanceId: z.string().nullable(),
        commandsWaiting: z.number().int(),
      }),
    ),
  }),
  queues: z.record(z.string(), QueueDepth),
});

// --- admin: API keys and users ---------------------------------------------------------------

export const ApiKeyIdParams = z.object({
  keyId: z.string().regex(/^ak_[a-z0-9]{10}$/, 'an API key id like ak_0123456789'),
});

export const CreateApiKeyBody = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(ApiKeyScope).min(1).max(4),
  allowedAccounts: z.array(AccountId).max(1000).default([]),
});

export const ApiKeyView = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(ApiKeyScope),
  allowedAccounts: z.array(AccountId),
  createdBy: z.string(),
  createdAt: Iso,
  lastUsedAt: IsoOrNull,
  revokedAt: IsoOrNull,
});

export const ApiKeyCreated = ApiKeyView.extend({
  /** The clear key, shown once: only its hash is stored. */
  key: z.string(),
});

/**
 * `?limit=` of a bounded list (issue 15): no list answers with everything there is. The answer's
 * `truncated` says more exist than were given.
 */
export function listLimitQuery(defaultLimit: number, max: number) {
  return z.object({ limit: z.coerce.number().int().min(1).max(max).default(defaultLimit) });
}
export const ApiKeysQuery = listLimitQuery(100, 500);
export const ClientEventsQuery = listLimitQuery(100, 500);
export const WebhooksQuery = listLimitQuery(100, 200);

export const ApiKeyList = z.object({ keys: z.array(ApiKeyView), truncated: z.boolean() });

export const UserParams = z.object({
  uid: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a Firebase uid'),
});

export const SetUserBody = z.object({
  role: UserRole,
  allowedAccounts: z.array(AccountId).max(1000).default([]),
  email: z.email().nullable().default(null),
  displayName: z.string().max(200).nullable().default(null),
});

export const UserView = z.object({
  uid: z.string(),
  role: UserRole,
  allowedAccounts: z.array(AccountId),
  email: z.string().nullable(),
  displayName: z.string().nullable(),
});

export const MeResponse = z.object({
  kind: z.enum(['user', 'api-key', 'admin-token']),
  id: z.string(),
  role: UserRole,
  scopes: z.array(ApiKeyScope),
  /** `null` means every account. */
  allowedAccounts: z.array(AccountId).nullable(),
});

// --- CRM views ---------------------------------------------------------------------------------

export const EventParams = z.object({
  eventId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'an event id'),
});
export const ClientParams = z.object({ phoneE164: PhoneE164 });

/** An event as the API returns it: the stored document with its id and ISO times. */
export const EventView = EventDoc.omit({ bodyHash: true, writeFence: true }).extend({
  id: z.string(),
  /** What an edit sends back as `If-Match: "<version>"` (also the ETag of the answer). */
  version: z.number().int().positive(),
  createdAt: Iso,
  updatedAt: Iso,
  archivedAt: IsoOrNull,
  start: Iso.optional(),
  end: Iso.optional(),
  payments: z.array(BookingPayment.extend({ recordedAt: Iso })).optional(),
  /** Issue 19: what the booking is owed, computed from its price and payments (never stored). */
  money: BookingMoneyView.optional(),
});

export const EventList = z.object({ items: z.array(EventView), truncated: z.boolean() });

export const ClientView = z.object({
  phoneE164: PhoneE164,
  displayName: z.string().nullable(),
  eventsCount: z.number().int(),
  lifetimeSpendPaid: z.number(),
  lifetimeSpendTotal: z.number(),
  outstandingBalance: z.number().optional(),
  firstEventAt: z.string().nullable(),
  lastEventAt: z.string().nullable(),
  lastContactAt: IsoOrNull,
  accountIds: z.array(AccountId),
  updatedAt: Iso,
  /** Issue 19: the client's conversations in the caller's accounts, most recent first. */
  threads: z
    .array(
      z.object({
        threadId: z.string(),
        accountId: AccountId,
        displayName: z.string().nullable(),
        lastMessageAt: IsoOrNull,
      }),
    )
    .optional(),
});

// --- realtime stream and webhooks ---------------------------------------------------------------

/**
 * Redis stream (under the queue prefix: `${QUEUE_PREFIX}:realtime:events`) holding the last
 * realtime events; SSE resumes from it with Last-Event-ID. Producers may XADD a field `e` with
 * a RealtimeEvent JSON directly; the api-gateway also relays RealtimeChannel pub/sub into it.
 */
export const RealtimeStreamKeySuffix = 'realtime:events';

export const WebhookEventType = z.enum([
  'thread.updated',
  'message.created',
  'message.status',
  'account.status',
]);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

export const WebhookCollections = {
  webhooks: 'webhooks',
  webhookDeliveries: 'webhookDeliveries',
  webhookEvents: 'webhookEvents',
} as const;

/**
 * One webhook event as recorded: `eventId` is what receivers dedupe on (a hash of the event, so
 * the same change recorded twice has one id). `data` is the change as the realtime stream has it.
 */
export const WebhookEventRecord = z.object({
  eventId: z.string().regex(/^[a-f0-9]{32}$/),
  type: WebhookEventType,
  accountId: AccountId,
  occurredAt: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type WebhookEventRecord = z.infer<typeof WebhookEventRecord>;

/**
 * `webhookEvents/{id}` (issue 16 item 3): the webhook events of one commit, written IN that
 * commit (ingest's batches), so an event exists exactly when its change does. The api-gateway's
 * dispatcher turns undispatched ones into deliveries, then marks them; a dispatched record is
 * deleted after WEBHOOK_EVENTS_RETENTION_DAYS once every delivery from it was delivered
 * (`compactWebhookEvents`), an undispatched or undelivered one never.
 */
export const WebhookEventLogDoc = z.object({
  accountId: AccountId,
  events: z.array(WebhookEventRecord).min(1),
  createdAt: z.date(),
  dispatched: z.boolean(),
  dispatchedAt: z.date().nullable(),
});
export type WebhookEventLogDoc = z.infer<typeof WebhookEventLogDoc>;

/** `webhooks/{id}`: the signing secret is stored AES-256-GCM encrypted, never in clear. */
export const WebhookDoc = z.object({
  url: z.string(),
  accountIds: z.array(AccountId),
  eventTypes: z.array(WebhookEventType),
  description: z.string().nullable(),
  secretCiphertext: z.string(),
  active: z.boolean(),
  createdBy: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
  disabledAt: z.date().nullable(),
});
export type WebhookDoc = z.infer<typeof WebhookDoc>;

export const WebhookDeliveryStatus = z.enum(['pending', 'retrying', 'delivered', 'failed']);

/** `webhookDeliveries/{id}`: one event for one subscription, with every attempt's outcome. */
export const WebhookDeliveryDoc = z.object({
  subscriptionId: z.string(),
  /** The recorded event delivered (absent on deliveries made before events were recorded). */
  eventId: z.string().optional(),
  accountId: AccountId,
  eventType: z.string(),
  occurredAt: z.string(),
  data: z.record(z.string(), z.unknown()),
  status: WebhookDeliveryStatus,
  attempts: z.number().int().nonnegative(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  replays: z.number().int().nonnegative(),
  createdAt: z.date(),
  updatedAt: z.date(),
  deliveredAt: z.date().nullable(),
});
export type WebhookDeliveryDoc = z.infer<typeof WebhookDeliveryDoc>;

export const CreateWebhookBody = z.object({
  url: z.url({ protocol: /^https?$/ }).max(2048),
  accountIds: z.array(AccountId).min(1).max(1000),
  eventTypes: z.array(WebhookEventType).min(1),
  description: z.string().max(500).nullable().default(null),
});

export const WebhookParams = z.object({
  webhookId: z.string().regex(/^wh_[a-z0-9]{12}$/, 'a webhook id like wh_0123456789ab'),
});
export const DeliveryParams = z.object({
  deliveryId: z.string().regex(/^[a-f0-9]{32}$/, 'a delivery id'),
});

export const WebhookView = z.object({
  id: z.string(),
  url: z.string(),
  accountIds: z.array(AccountId),
  eventTypes: z.array(WebhookEventType),
  description: z.string().nullable(),
  active: z.boolean(),
  createdBy: z.string(),
  createdAt: Iso,
  disabledAt: IsoOrNull,
});
export const WebhookCreated = WebhookView.extend({
  /** The signing secret, shown once. */
  secret: z.string(),
});
export const WebhookList = z.object({ webhooks: z.array(WebhookView), truncated: z.boolean() });

export const WebhookDeliveryView = z.object({
  id: z.string(),
  subscriptionId: z.string(),
  accountId: AccountId,
  eventType: z.string(),
  occurredAt: z.string(),
  status: WebhookDeliveryStatus,
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  replays: z.number().int(),
  createdAt: Iso,
  deliveredAt: IsoOrNull,
});
export const WebhookDeliveryList = z.object({ deliveries: z.array(WebhookDeliveryView) });

/** Failed jobs per queue, for operators (`GET /api/admin/failed-jobs`). */
export const FailedJobsQuery = z.object({
  queue: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export const FailedJobView = z.object({
  queue: z.string(),
  id: z.string(),
  name: z.string(),
  failedReason: z.string(),
  attemptsMade: z.number().int(),
  createdAt: z.string(),
  failedAt: z.string().nullable(),
});
export const FailedJobsView = z.object({
  queues: z.array(z.object({ queue: z.string(), failed: z.number().int() })),
  /** The newest failed jobs of each queue, at most `limit` per queue. */
  jobs: z.array(FailedJobView),
});
export type FailedJobsView = z.infer<typeof FailedJobsView>;
export const FailedJobsExportQuery = z.object({ queue: z.string().min(1).max(200) });
/** Redrive: the named failed jobs of a queue, or every failed job of it (or of every queue). */
export const RedriveBody = z.object({
  queue: z.string().min(1).max(200).optional(),
  jobIds: z.array(z.string().min(1).max(300)).min(1).max(1000).optional(),
});
export const RedriveResult = z.object({ redriven: z.number().int() });
