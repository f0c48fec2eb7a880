import { z } from 'zod';
import { BaseEnv, envBoolean, envInt, requireFirestoreTarget } from './fields.js';

/** Object storage through the S3 API (AWS S3, GCS interoperability, R2, MinIO, s3rver). */
export const S3Env = {
  /** Unset means AWS itself; MinIO, R2, GCS or the launcher's s3rver otherwise. */
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_BUCKET: z.string().min(3).max(63).default('wacrm-media'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  /** Path-style URLs (`endpoint/bucket/key`): MinIO and s3rver need them. */
  S3_FORCE_PATH_STYLE: envBoolean(false),
  /** Unset: the SDK's default credential chain (instance role, workload identity). Secret. */
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
};

/** Largest file `POST /api/media` keeps: WhatsApp's document limit. */
export const DEFAULT_MEDIA_UPLOAD_MAX_BYTES = 100 * 1024 * 1024;

/** media-worker: keeps every inbound file in object storage (issue 17). */
export const MediaWorkerEnv = BaseEnv.extend({
  ...S3Env,
  /** Files larger than this are not kept: `failed` with the reason. */
  MEDIA_MAX_BYTES: envInt(100 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024),
  MEDIA_DOWNLOAD_TIMEOUT_MS: envInt(120_000, 1_000, 3_600_000),
  MEDIA_CONCURRENCY: envInt(2, 1, 64),
  /**
   * How long the phone has to answer a re-upload request (the media server dropped the file):
   * past it the media ends `expired` ("the phone did not answer …"), kept, and wa-gateway stops
   * asking. A day by default: a phone may be off or out of reach for hours.
   */
  MEDIA_REUPLOAD_TIMEOUT_MS: envInt(86_400_000, 1_000, 30 * 86_400_000),
  /** Longest side of an image thumbnail, in pixels. */
  MEDIA_THUMBNAIL_PX: envInt(320, 32, 2048),
  /**
   * Every media download goes to this host (a message's own url is written by its sender and
   * never followed); the emulator's CDN address under `npm start`.
   */
  WA_MEDIA_HOST: z
    .string()
    .regex(/^[\w.-]{1,253}(?::\d{1,5})?$/, 'host or host:port')
    .default('mmg.whatsapp.net'),
  /** Where a download is written while it is hashed; the file is removed once stored. */
  MEDIA_TMP_DIR: z.string().min(1).optional(),
}).superRefine(requireFirestoreTarget);
export type MediaWorkerEnv = z.infer<typeof MediaWorkerEnv>;
