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

/** A WhatsApp direct path: appended to the media host, so a path and nothing else. */
export const WaDirectPath = z.string().regex(/^\/[\w/.=?&%+-]{1,2048}$/, 'a media direct path');

/**
 * The phone's answer to a re-upload request (wa-gateway, `reupload-media`): the file's new direct
 * path, or why the phone could not upload it again (then the media is `expired`).
 */
export const MediaReuploadedJob = z.object({
  accountId: AccountId,
  threadId: z.string().min(1).max(1500),
  messageId: z.string().min(1).max(256),
  directPath: WaDirectPath.nullable(),
  reason: z.string().max(512).nullable(),
});
export type MediaReuploadedJob = z.infer<typeof MediaReuploadedJob>;

export const MediaQueue = defineQueue('media', {
  'store-media': StoreMediaJob,
  'media-reuploaded': MediaReuploadedJob,
});
