import { z } from 'zod';
import { AccountId, MessageStatus } from './common.schema.js';

/** Sub-collections of `accounts/{accountId}` that ingest keeps; names spelled only here. */
export const IngestCollections = {
  identities: 'identities',
  pendingUpdates: 'pendingUpdates',
  historyChunks: 'historyChunks',
} as const;

/** `accounts/{accountId}/identities/{lidJid}`: a LID and the phone JID it stands for. */
export const IdentityDoc = z.object({
  accountId: AccountId,
  lid: z.string().min(1),
  pn: z.string().min(1),
  createdAt: z.date(),
});
export type IdentityDoc = z.infer<typeof IdentityDoc>;

/**
 * `accounts/{accountId}/pendingUpdates/{messageId}`: a receipt, edit, revoke, reaction or send
 * result that arrived before its message; folded into the message when it lands.
 */
export const PendingUpdateDoc = z.object({
  accountId: AccountId,
  messageId: z.string().min(1),
  status: MessageStatus.nullable(),
  deleted: z.boolean(),
  editedBody: z.string().max(65_536).nullable(),
  reactions: z.record(z.string(), z.string()),
  requestId: z.string().nullable(),
  updatedAt: z.date(),
});
export type PendingUpdateDoc = z.infer<typeof PendingUpdateDoc>;

/** `accounts/{accountId}/historyChunks/{chunkId}`: a history chunk whose progress was counted. */
export const HistoryChunkDoc = z.object({
  accountId: AccountId,
  chunkId: z.string().min(1),
  source: z.enum(['history', 'backfill']),
  messages: z.number().int().nonnegative(),
  threads: z.number().int().nonnegative(),
  progress: z.number().min(0).max(100).nullable(),
  recordedAt: z.date(),
});
export type HistoryChunkDoc = z.infer<typeof HistoryChunkDoc>;
