import { MarkReadCommand } from './inbox.schema.js';
import { z } from 'zod';
import {
  AccountId,
  AccountStatus,
  IsoDateTime,
  MessageSource,
  OutgoingMedia,
  PhoneE164,
  RequestId,
  WaKey,
} from './common.schema.js';
import { AccountScope } from './account-access.js';
import { OutboxDoc } from './firestore.schema.js';
import { ReindexSearchJob } from './search.schema.js';

/**
 * A queue's contract: its name and, per job name, the schema of the payload. Producers and
 * consumers both parse against it (libs/queue). Payloads are JSON: ISO strings, no Date, no
 * secrets; change them only additively, and give a breaking change a new job name.
 */
export interface QueueContract<Jobs extends Record<string, z.ZodType> = Record<string, z.ZodType>> {
  readonly name: string;
  readonly jobs: Jobs;
}

/** BullMQ reserves ":" as its key separator, so queue names may not contain it. */
export function defineQueue<const Jobs extends Record<string, z.ZodType>>(
  name: string,
  jobs: Jobs,
): QueueContract<Jobs> {
  if (!/^[a-z0-9][a-z0-9.-]*$/i.test(name)) {
    throw new Error(`queue name "${name}" must be kebab-case letters, digits, "." or "-"`);
  }
  for (const job of Object.keys(jobs)) {
    if (!/^[a-z][a-z0-9-]*$/.test(job)) throw new Error(`job name "${job}" must be kebab-case`);
  }
  return { name, jobs };
}

/**
 * A message as Baileys delivers it (`proto.IWebMessageInfo`), in JSON form: longs as numbers,
 * bytes as base64. `message` keeps the proto's own JSON so ingest can read every kind.
 */
export const WaRawMessage = z.object({
  key: WaKey,
  messageTimestamp: z.number().int().nonnegative(),
  pushName: z.string().nullable(),
  message: z.record(z.string(), z.unknown()).nullable(),
  status: z.number().int().nullable(),
  messageStubType: z.number().int().nullable(),
  messageStubParameters: z.array(z.string()).nullable(),
  /** Present when the gateway could not decrypt the message (Baileys CIPHERTEXT stub). */
  undecryptable: z.boolean(),
  /**
   * The other address of the chat and of a group sender (a phone number beside a LID, or the
   * reverse) and how WhatsApp addressed the message, as Baileys reports them beside the key.
   */
  keyAlt: z
    .object({
      remoteJidAlt: z.string().max(256).nullable(),
      participantAlt: z.string().max(256).nullable(),
      addressingMode: z.enum(['pn', 'lid']).nullable(),
    })
    .optional(),
});
export type WaRawMessage = z.infer<typeof WaRawMessage>;

/** Facts the gateway attaches to every inbound job, so ingest can reject a stale owner's writes. */
const FromGateway = {
  accountId: AccountId,
  instanceId: z.string().min(1),
  fencingToken: z.number().int().nonnegative(),
  observedAt: IsoDateTime,
};

export const IngestMessagesJob = z.object({
  ...FromGateway,
  source: MessageSource,
  messages: z.array(WaRawMessage).min(1).max(5000),
});
export type IngestMessagesJob = z.infer<typeof IngestMessagesJob>;

export const IngestHistoryJob = z.object({
  ...FromGateway,
  source: z.enum(['history', 'backfill']),
  chunkId: z.string().min(1),
  syncType: z.number().int().nullable(),
  progress: z.number().min(0).max(100).nullable(),
  isLatest: z.boolean(),
  chats: z.array(
    z.object({
      id: z.string(),
      name: z.string().nullable(),
      unreadCount: z.number().int().nullable(),
      conversationTimestamp: z.number().int().nullable(),
    }),
  ),
  contacts: z.array(
    z.object({
      id: z.string(),
      name: z.string().nullable(),
      notify: z.string().nullable(),
      lid: z.string().nullable(),
      phoneNumber: z.string().nullable(),
    }),
  ),
  messages: z.array(WaRawMessage).max(20_000),
});
export type IngestHistoryJob = z.infer<typeof IngestHistoryJob>;

export const MessageUpdatesJob = z.object({
  ...FromGateway,
  updates: z
    .array(
      z.object({
        key: WaKey,
        /** proto.WebMessageInfo.Status: 0 error, 1 pending, 2 server ack, 3 delivered, 4 read, 5 played. */
        status: z.number().int().min(0).max(5).nullable(),
        message: z.record(z.string(), z.unknown()).nullable(),
      }),
    )
    .min(1),
});
export type MessageUpdatesJob = z.infer<typeof MessageUpdatesJob>;

export const ReceiptsJob = z.object({
  ...FromGateway,
  receipts: z
    .array(
      z.object({
        key: WaKey,
        userJid: z.string(),
        receiptTimestamp: z.number().int().nullable(),
        readTimestamp: z.number().int().nullable(),
      }),
    )
    .min(1),
});
export type ReceiptsJob = z.infer<typeof ReceiptsJob>;

export const AccountStateJob = z.object({
  ...FromGateway,
  status: AccountStatus,
  qr: z.string().nullable(),
  pairingCode: z.string().nullable(),
  phone: PhoneE164.nullable(),
  /** Baileys DisconnectReason code when the state follows a close. */
  disconnectCode: z.number().int().nullable(),
  reason: z.string().nullable(),
});
export type AccountStateJob = z.infer<typeof AccountStateJob>;

export const IdentityMappingsJob = z.object({
  ...FromGateway,
  mappings: z.array(z.object({ lid: z.string(), pn: z.string() })).min(1),
});
export type IdentityMappingsJob = z.infer<typeof IdentityMappingsJob>;

export const SendResultJob = z.object({
  ...FromGateway,
  requestId: RequestId,
  waMessageId: z.string(),
  outcome: z.enum(['sent', 'failed']),
  error: z.string().nullable(),
  retryable: z.boolean(),
});
export type SendResultJob = z.infer<typeof SendResultJob>;

/**
 * An outbound message accepted by the API (`POST /api/whatsapp/send`), recorded by ingest as
 * `queued` so the thread and its counters have a single writer.
 */
export const RecordOutboundJob = z.object({
  accountId: AccountId,
  requestId: RequestId,
  threadId: z.string().min(1),
  to: z.string().min(3),
  waMessageId: z.string().min(8).max(64),
  acceptedAt: IsoDateTime,
  /**
   * What the conversation shows, copied from the outbox document the producer just wrote, so
   * ingest does not read it back; absent (older jobs, other producers), ingest reads the outbox.
   */
  content: OutboxDoc.pick({ body: true, media: true, replyTo: true }).optional(),
});
export type RecordOutboundJob = z.infer<typeof RecordOutboundJob>;

/**
 * Where a read mark stops: an ISO time (messages at or before it are read), or the id of the
 * newest message the reader saw. Message ids never contain ":", so the two cannot be confused.
 */
export const ReadMark = z.union([
  IsoDateTime,
  z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, 'an ISO date-time or a message id')
    .describe('message id'),
]);
export type ReadMark = z.infer<typeof ReadMark>;

/**
 * An operator read a thread (`POST /api/threads/{threadId}/read`). Ingest, the single writer of
 * thread counters, lowers `unreadCount` to the inbound messages newer than `upTo`, so a message
 * that arrived meanwhile stays unread.
 */
export const MarkReadJob = z.object({
  accountId: AccountId,
  threadId: z.string().min(1).max(1500),
  upTo: ReadMark,
  /** The principal id of the reader (a Firebase uid, an API key id or `admin-token`). */
  by: z.string().min(1).max(256),
});
export type MarkReadJob = z.infer<typeof MarkReadJob>;

/** Everything a WhatsApp socket emits, consumed by ingest (and the API's accepted sends). */
export const WaInboundQueue = defineQueue('wa-inbound', {
  'record-outbound': RecordOutboundJob,
  'ingest-messages': IngestMessagesJob,
  'ingest-history': IngestHistoryJob,
  'update-messages': MessageUpdatesJob,
  'apply-receipts': ReceiptsJob,
  'update-account': AccountStateJob,
  'map-identities': IdentityMappingsJob,
  'record-send-result': SendResultJob,
  'mark-read': MarkReadJob,
  'reindex-search': ReindexSearchJob,
});

export const SendMessageCommand = z
  .object({
    requestId: RequestId,
    accountId: AccountId,
    to: z.string().min(3),
    /** Derived from the requestId, so a retried send is recognisably the same message. */
    waMessageId: z.string().min(8).max(64),
    text: z.string().min(1).max(65_536).optional(),
    media: OutgoingMedia.optional(),
    replyTo: WaKey.optional(),
  })
  .refine((c) => c.text !== undefined || c.media !== undefined, { message: 'text or media' });
export type SendMessageCommand = z.infer<typeof SendMessageCommand>;

const AccountCommand = z.object({
  accountId: AccountId,
  requestedBy: z.string(),
  requestedAt: IsoDateTime,
});

export const BackfillCommand = AccountCommand.extend({
  threads: z.number().int().positive().max(1000),
  messagesPerThread: z.number().int().positive().max(1000),
});

export const PairingCodeCommand = AccountCommand.extend({ phone: PhoneE164 });

/**
 * Ask the account's phone to upload a message's media again (issue 17): the media server no
 * longer has it. Needs the live socket, so the owning gateway runs it and answers on `media`
 * (`media-reuploaded`). Names the message only; its key and media key are read from Firestore.
 */
export const ReuploadMediaCommand = z.object({
  accountId: AccountId,
  threadId: z.string().min(1).max(1500),
  messageId: z.string().min(1).max(256),
});
export type ReuploadMediaCommand = z.infer<typeof ReuploadMediaCommand>;

/** The queue name of one account's commands, consumed by whichever gateway owns the account. */
export function waCommandsQueueName(accountId: AccountId): string {
  return `wa-commands.${AccountId.parse(accountId)}`;
}

const waCommandJobs = {
  'send-message': SendMessageCommand,
  connect: AccountCommand,
  logout: AccountCommand,
  'regenerate-qr': AccountCommand,
  backfill: BackfillCommand,
  'request-pairing-code': PairingCodeCommand,
  'reupload-media': ReuploadMediaCommand,
  'mark-read': MarkReadCommand,
};

export function waCommandsQueue(accountId: AccountId): QueueContract<typeof waCommandJobs> {
  return defineQueue(waCommandsQueueName(accountId), waCommandJobs);
}

export const SendOutboxJob = z.object({ requestId: RequestId, accountId: AccountId });
export type SendOutboxJob = z.infer<typeof SendOutboxJob>;

/**
 * A fact about a send, reported to its owner (outbox-sender owns `outbox/{requestId}`): WhatsApp
 * acknowledged it (`sent`), a receipt came (`delivered`, `read`), or the send failed for good
 * (`failed`, with its reason). Ingest reports it for the message it stores; outbox-sender moves the
 * outbox forward on it (statuses never go back, a replay changes nothing).
 */
export const SendStatusJob = z.object({
  requestId: RequestId,
  status: z.enum(['sent', 'delivered', 'read', 'failed']),
  error: z.string().max(2_000).nullable(),
  observedAt: IsoDateTime,
});
export type SendStatusJob = z.infer<typeof SendStatusJob>;

/**
 * Cancel a scheduled send (issue 19): outbox-sender moves `scheduled` to `cancelled` and answers
 * with the status after (the API waits for the answer: anything but `cancelled` is a 409).
 */
export const CancelOutboxJob = z.object({
  requestId: RequestId,
  reason: z.string().min(1).max(200),
});
export type CancelOutboxJob = z.infer<typeof CancelOutboxJob>;

export const OutboxQueue = defineQueue('outbox', {
  'send-outbox': SendOutboxJob,
  'send-status': SendStatusJob,
  'cancel-outbox': CancelOutboxJob,
});

export const ExtractEventJob = z.object({
  requestId: RequestId,
  threadId: z.string().min(1),
  accountId: AccountId,
  dryRun: z.boolean(),
  messageLimit: z.number().int().positive().max(200),
  requestedBy: z.string(),
});
export type ExtractEventJob = z.infer<typeof ExtractEventJob>;

export const AskClientJob = z.object({
  requestId: RequestId,
  phoneE164: PhoneE164,
  question: z.string().min(1).max(2000),
  requestedBy: z.string(),
  /**
   * The accounts whose events the answer may use (issue 15). Jobs from before it had none: they
   * see nothing rather than everything.
   */
  accountScope: AccountScope.default([]),
});
export type AskClientJob = z.infer<typeof AskClientJob>;

export const AiRequestsQueue = defineQueue('ai-requests', {
  'extract-event': ExtractEventJob,
  'ask-client': AskClientJob,
});

export const RecomputeClientJob = z.object({
  phoneE164: PhoneE164,
  eventId: z.string().min(1),
  reason: z.enum(['created', 'updated', 'archived', 'contact']),
});
export type RecomputeClientJob = z.infer<typeof RecomputeClientJob>;

export const CrmEventsQueue = defineQueue('crm-events', { 'recompute-client': RecomputeClientJob });

export const DeliverWebhookJob = z.object({
  subscriptionId: z.string().min(1),
  deliveryId: z.string().min(1),
  /** The recorded event's id, the same for every subscription (absent on older jobs). */
  eventId: z.string().min(1).optional(),
  eventType: z.string().min(1),
  accountId: AccountId,
  occurredAt: IsoDateTime,
  data: z.record(z.string(), z.unknown()),
});
export type DeliverWebhookJob = z.infer<typeof DeliverWebhookJob>;

export const WebhooksQueue = defineQueue('webhooks', { 'deliver-webhook': DeliverWebhookJob });

/** Every fixed queue; per-account command queues come from `waCommandsQueue()`. */
export const Queues = {
  waInbound: WaInboundQueue,
  outbox: OutboxQueue,
  aiRequests: AiRequestsQueue,
  crmEvents: CrmEventsQueue,
  webhooks: WebhooksQueue,
} as const;
