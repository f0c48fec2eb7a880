import { z } from 'zod';
import { AccountId } from './common.schema.js';
import { defineQueue } from './queue.schema.js';

/**
 * Keep one message's media (issue 17): download, decrypt, check, sniff, thumbnail, store, and
 * record the outcome on the message. Keyed by the message, so a replay stores nothing twice.
 */
export const StoreMediaJob = z.object({
  accountId: AccountId,
  threadId: z.string().min(1).max(1500),
  messageId: z.string().min(1).max(256),
  /** `live` goes first; history media waits behind it (job priority). */
  source: z.enum(['live', 'history', 'backfill', 'reupload']),
});
export type StoreMediaJob = z.infer<typeof StoreMediaJob>;

export const MediaQueue = defineQueue('media', { 'store-media': StoreMediaJob });
