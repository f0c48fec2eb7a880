import { z } from 'zod';
import { AccountId, AccountStatus, MessageStatus, PhoneE164 } from './common.schema.js';

/** Redis pub/sub channel for live notifications; Firestore stays the truth. */
export const RealtimeChannel = 'wacrm.realtime';

export const RealtimeEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('thread.updated'),
    accountId: AccountId,
    threadId: z.string(),
    at: z.string(),
  }),
  z.object({
    type: z.literal('message.created'),
    accountId: AccountId,
    threadId: z.string(),
    messageIds: z.array(z.string()),
    at: z.string(),
  }),
  z.object({
    type: z.literal('message.status'),
    accountId: AccountId,
    threadId: z.string(),
    messageId: z.string(),
    status: MessageStatus,
    at: z.string(),
  }),
  z.object({
    type: z.literal('account.status'),
    accountId: AccountId,
    status: AccountStatus,
    at: z.string(),
  }),
  z.object({
    /** A client's aggregates (clients/{phoneE164}) changed; it belongs to every one of accountIds. */
    type: z.literal('client.updated'),
    phoneE164: PhoneE164,
    accountIds: z.array(AccountId),
    at: z.string(),
  }),
]);
export type RealtimeEvent = z.infer<typeof RealtimeEvent>;

/**
 * What a `resync` frame of GET /api/stream carries: events may have been missed (the gap is older
 * than the stream keeps, the replay failed, or the client read too slowly), so reload from the API.
 */
export const RealtimeResync = z.object({
  reason: z.string(),
  /** The oldest event id the stream still holds, when the gap is older than that. */
  oldestId: z.string().optional(),
});
export type RealtimeResync = z.infer<typeof RealtimeResync>;

/** What an `end` frame of GET /api/stream carries: the credential changed, the stream is over. */
export const RealtimeEnd = z.object({ reason: z.string() });
export type RealtimeEnd = z.infer<typeof RealtimeEnd>;

/**
 * The accounts an event belongs to: whoever may see any one of them may see the event. Events of
 * a conversation or an account have one; a client spans every account it talked to.
 */
export function realtimeEventAccountIds(event: RealtimeEvent): readonly string[] {
  return event.type === 'client.updated' ? event.accountIds : [event.accountId];
}

/** Pub/sub channel on which account additions are announced, so a wa-gateway picks them up at once. */
export const AccountsChannel = 'wacrm.accounts';

export const AccountsChannelMessage = z.object({
  type: z.enum(['account.added', 'account.changed']),
  accountId: AccountId,
});
export type AccountsChannelMessage = z.infer<typeof AccountsChannelMessage>;
