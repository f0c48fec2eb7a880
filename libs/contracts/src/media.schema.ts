import { z } from 'zod';
import { AccountId, IsoDateTime, MediaUploadId } from './common.schema.js';
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

/**
 * The bound on a re-upload request (`MEDIA_REUPLOAD_TIMEOUT_MS` after it, delayed on `media`):
 * if the message's media is still `pending` under the request made at `requestedAt`, the phone
 * never answered, and the media ends `expired` with that reason (kept, never deleted).
 */
export const ReuploadDeadlineJob = z.object({
  accountId: AccountId,
  threadId: z.string().min(1).max(1500),
  messageId: z.string().min(1).max(256),
  requestedAt: IsoDateTime,
  timeoutMs: z.number().int().positive(),
});
export type ReuploadDeadlineJob = z.infer<typeof ReuploadDeadlineJob>;

export const MediaQueue = defineQueue('media', {
  'store-media': StoreMediaJob,
  'media-reuploaded': MediaReuploadedJob,
  'reupload-deadline': ReuploadDeadlineJob,
});

/**
 * What `POST /api/media` keeps: the type read from the bytes must be one of these (WhatsApp
 * sends images, video, audio and documents; anything else is refused, 415).
 */
export const MEDIA_UPLOAD_TYPES: Readonly<
  Record<string, 'image' | 'video' | 'audio' | 'document'>
> = {
  'image/jpeg': 'image',
  'image/png': 'image',
  'image/webp': 'image',
  'image/gif': 'image',
  'video/mp4': 'video',
  'video/3gpp': 'video',
  'video/quicktime': 'video',
  'audio/ogg': 'audio',
  'audio/opus': 'audio',
  'audio/mpeg': 'audio',
  'audio/mp4': 'audio',
  'audio/aac': 'audio',
  'audio/amr': 'audio',
  'audio/wav': 'audio',
  'application/pdf': 'document',
  'application/zip': 'document',
  'application/x-cfb': 'document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'document',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'document',
  'application/vnd.oasis.opendocument.text': 'document',
  'application/vnd.oasis.opendocument.spreadsheet': 'document',
};

/** `mediaUploads/{mediaId}`: an uploaded file of one account, kept content-addressed. */
export const MediaUploadDoc = z.object({
  accountId: AccountId,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  storageKey: z.string().max(1024),
  /** Sniffed from the bytes. */
  mime: z.string().max(255),
  kind: z.enum(['image', 'video', 'audio', 'document']),
  size: z.number().int().nonnegative(),
  fileName: z.string().max(255).nullable(),
  createdBy: z.string().max(256),
  createdAt: z.date(),
});
export type MediaUploadDoc = z.infer<typeof MediaUploadDoc>;

/** The answer of `POST /api/media`. */
export const MediaUploaded = z.object({
  mediaId: MediaUploadId,
  accountId: AccountId,
  kind: MediaUploadDoc.shape.kind,
  mime: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  fileName: z.string().nullable(),
});
export type MediaUploaded = z.infer<typeof MediaUploaded>;

/**
 * `accounts/{accountId}/mediaProgress/history`: how the account's history media ended (issue 17
 * item 6), counted by the media worker (the owner of `media.status`) in the commit that changes a
 * history or backfill message's status, so a retried job counts nothing twice. The total is
 * ingest's (`historyMediaTotal` on the account, counted in the commit that creates the message).
 */
export const HistoryMediaProgressDoc = z.object({
  stored: z.number().int(),
  failed: z.number().int(),
  expired: z.number().int(),
  updatedAt: z.date(),
});
export type HistoryMediaProgressDoc = z.infer<typeof HistoryMediaProgressDoc>;

/** An account's history media: how many there are, kept, still to fetch, failed and expired. */
export const HistoryMediaProgress = z.object({
  total: z.number().int().nonnegative(),
  stored: z.number().int().nonnegative(),
  /** Not yet kept: queued behind live media, or waiting for the phone to upload one again. */
  pending: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  expired: z.number().int().nonnegative(),
});
export type HistoryMediaProgress = z.infer<typeof HistoryMediaProgress>;
