import { z } from 'zod';
import { MESSAGE_STATUSES } from './message-status.js';

/** Account ids appear in queue names and Firestore ids, so they stay URL- and key-safe. */
export const AccountId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, "_" or "-", at most 64 characters');
export type AccountId = z.infer<typeof AccountId>;

/** E.164 phone number, e.g. +40712345678. */
export const PhoneE164 = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, 'an E.164 phone number like +40712345678');
export type PhoneE164 = z.infer<typeof PhoneE164>;

/** A WhatsApp JID (`40712345678@s.whatsapp.net`, `…@g.us`, `…@lid`). */
export const Jid = z
  .string()
  .regex(/^[^\s/@]+@[a-z.]+$/, 'a WhatsApp JID like 40712345678@s.whatsapp.net');

/** Firestore document ids may not contain "/" and are at most 1500 bytes. */
export const DocId = z
  .string()
  .min(1)
  .max(1500)
  .regex(/^[^/]+$/, 'no "/"')
  .refine((id) => id !== '.' && id !== '..', 'not "." or ".."');

/** Caller-chosen idempotency key: one send, one extraction request, … */
export const RequestId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{8,128}$/, '8–128 letters, digits, "_", "." or "-"');
export type RequestId = z.infer<typeof RequestId>;

/** Timestamps travel between services as ISO-8601 strings, never as Date objects. */
export const IsoDateTime = z.iso.datetime({ offset: true });

export const CalendarDate = z.iso.date();
export const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm');

export const AccountStatus = z.enum([
  'connecting',
  'qr_ready',
  'connected',
  'needs_qr',
  'disconnected',
  'logged_out',
  /** WhatsApp refused the client's WhatsApp Web version (405) and no newer one could be found. */
  'outdated_client',
]);
export type AccountStatus = z.infer<typeof AccountStatus>;

export const MessageDirection = z.enum(['inbound', 'outbound']);
export type MessageDirection = z.infer<typeof MessageDirection>;

/** Statuses only move forward along this order (`failed` is terminal from any non-final state). */
export const MessageStatus = z.enum(MESSAGE_STATUSES);
export type MessageStatus = z.infer<typeof MessageStatus>;

export const MessageSource = z.enum(['live', 'history', 'backfill']);
export type MessageSource = z.infer<typeof MessageSource>;

export const MessageType = z.enum([
  'text',
  'image',
  'video',
  'audio',
  'document',
  'sticker',
  'location',
  'contact',
  'reaction',
  'poll',
  'placeholder',
  'unknown',
]);
export type MessageType = z.infer<typeof MessageType>;

export const UserRole = z.enum(['admin', 'employee']);
export type UserRole = z.infer<typeof UserRole>;

export const MediaStatus = z.enum(['pending', 'stored', 'expired', 'failed']);
export type MediaStatus = z.infer<typeof MediaStatus>;

/** A JPEG preview of an image, itself stored content-addressed. */
export const MediaThumbnail = z.object({
  storageKey: z.string().max(1024),
  mime: z.string().max(255),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  size: z.number().int().nonnegative(),
});
export type MediaThumbnail = z.infer<typeof MediaThumbnail>;

export const MediaRef = z.object({
  kind: z.enum(['image', 'video', 'audio', 'document', 'sticker']),
  mimetype: z.string().max(255).nullable(),
  size: z.number().int().nonnegative().nullable(),
  fileName: z.string().max(1024).nullable(),
  caption: z.string().max(65_536).nullable(),
  /** What is needed to download and decrypt the media later (Baileys `downloadMediaMessage`). */
  directPath: z.string().nullable(),
  url: z.string().nullable(),
  mediaKeyBase64: z.string().nullable(),
  fileSha256Base64: z.string().nullable(),
  seconds: z.number().nonnegative().nullable(),
  width: z.number().int().nonnegative().nullable(),
  height: z.number().int().nonnegative().nullable(),
  /**
   * Where the file is (issue 17), written by the media worker: `pending` until it is kept (also
   * while the phone is asked to upload an expired file again), `stored` in object storage,
   * `expired` when the media server dropped it and the phone could not upload it again, `failed`
   * with `reason`. Absent on messages stored before media were kept.
   */
  status: MediaStatus.optional(),
  reason: z.string().max(512).nullable().optional(),
  /** Hex SHA-256 of the stored bytes; `storageKey` is derived from it. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable()
    .optional(),
  /** The type sniffed from the bytes (`mimetype` is what the sender claimed). */
  mime: z.string().max(255).nullable().optional(),
  storageKey: z.string().max(1024).nullable().optional(),
  thumbnail: MediaThumbnail.nullable().optional(),
  /** When the phone was asked to upload the expired file again (once per message). */
  reuploadRequestedAt: IsoDateTime.nullable().optional(),
  /** A file uploaded through `POST /api/media` (outbound). */
  mediaId: z.string().max(128).nullable().optional(),
});
export type MediaRef = z.infer<typeof MediaRef>;

/** The id `POST /api/media` gives an uploaded file (one per account and content). */
export const MediaUploadId = z
  .string()
  .regex(/^md_[0-9a-f]{40}$/, 'a media id from POST /api/media');

/** Media an operator sends: a URL we fetch, inline base64 for small files, or an uploaded file. */
export const OutgoingMedia = z
  .object({
    kind: z.enum(['image', 'document', 'audio', 'video']),
    url: z.url({ protocol: /^https?$/ }).optional(),
    /** A file uploaded with `POST /api/media` for the same account (read from object storage). */
    mediaId: MediaUploadId.optional(),
    dataBase64: z
      .base64()
      .max(16 * 1024 * 1024)
      .optional(),
    mimetype: z.string().min(3).max(255),
    fileName: z.string().min(1).max(255).optional(),
    caption: z.string().max(4096).optional(),
  })
  .refine((m) => [m.url, m.dataBase64, m.mediaId].filter((v) => v !== undefined).length === 1, {
    message: 'exactly one of url, dataBase64 or mediaId',
  });
export type OutgoingMedia = z.infer<typeof OutgoingMedia>;

/** The identity of a WhatsApp message as Baileys keys it. */
export const WaKey = z.object({
  id: z.string().min(1).max(256),
  remoteJid: z.string().min(1).max(256),
  fromMe: z.boolean(),
  participant: z.string().max(256).nullable(),
});
export type WaKey = z.infer<typeof WaKey>;
