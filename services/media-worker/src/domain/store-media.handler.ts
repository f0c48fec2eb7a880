import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type {
  MediaReuploadedJob,
  MediaThumbnail,
  ReuploadDeadlineJob,
  StoreMediaJob,
} from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { FileTooLargeError, sniffMime, spoolToFile, type ObjectStore } from '@wacrm/object-store';
import type { MessageMediaStore } from '../data-access/message-media.store.js';
import type {
  RequestReupload,
  ScheduleReuploadDeadline,
} from '../data-access/reupload-requests.js';
import { MediaGoneError, type DownloadMedia } from '../data-access/wa-media.download.js';
import type { MakeThumbnail } from './thumbnail.js';

export interface StoreMediaDeps {
  messages: MessageMediaStore;
  objects: ObjectStore;
  download: DownloadMedia;
  /** Asks the account's phone (through its wa-gateway) to upload an expired file again. */
  requestReupload: RequestReupload;
  /** Schedules the bound on a re-upload request (`reupload-deadline`). */
  scheduleReuploadDeadline: ScheduleReuploadDeadline;
  /** How long the phone has to answer a re-upload request before the media is `expired`. */
  reuploadTimeoutMs: number;
  thumbnail: MakeThumbnail;
  maxBytes: number;
  timeoutMs: number;
  tmpDir: string;
  logger: Logger;
}

export type StoreMediaOutcome =
  | 'stored'
  | 'already-stored'
  | 'no-media'
  | 'failed'
  | 'expired'
  | 'not-downloadable'
  | 'reupload-requested';

function isDecryptError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_OSSL');
}

/**
 * Keeps one message's media: download and decrypt (bounded in size and time), check the
 * SHA-256 the message names, sniff the type, make a thumbnail, store content-addressed and
 * record the outcome on the message. A replay of a stored message changes nothing.
 */
export async function storeMedia(
  job: StoreMediaJob,
  deps: StoreMediaDeps,
  logger: Logger,
): Promise<StoreMediaOutcome> {
  const message = await deps.messages.load(job.threadId, job.messageId);
  // Ingest enqueues before it commits: the message may not be written yet (retried).
  if (message === null) throw new Error(`message ${job.messageId} not stored yet`);
  const media = message.media;
  if (media === null) return 'no-media';
  if (media.status === 'stored') return 'already-stored';
  if (media.mediaKeyBase64 === null || media.directPath === null) return 'not-downloadable';
  const fail = async (reason: string): Promise<StoreMediaOutcome> => {
    await deps.messages.update(job.threadId, job.messageId, { status: 'failed', reason });
    logger.warn({ messageId: job.messageId, reason }, 'media not kept');
    return 'failed';
  };
  if (media.size !== null && media.size > deps.maxBytes) {
    return fail(`declared size ${media.size} bytes is over the cap of ${deps.maxBytes} bytes`);
  }

  const dir = await mkdtemp(join(deps.tmpDir, 'media-'));
  try {
    const file = join(dir, 'content');
    let source: Readable | undefined;
    const timer = setTimeout(
      () => source?.destroy(new Error(`download took over ${deps.timeoutMs} ms`)),
      deps.timeoutMs,
    );
    let spooled: { sha256: string; size: number };
    try {
      source = await deps.download(media);
      spooled = await spoolToFile(source, file, deps.maxBytes);
    } catch (error) {
      if (error instanceof FileTooLargeError) return fail(error.message);
      if (error instanceof MediaGoneError) {
        if (media.reuploadRequestedAt == null) {
          // Only the phone still has it. Asking needs the account's socket: a command to the
          // owning wa-gateway, whose answer comes back as `media-reuploaded`. Asked first, then
          // recorded: a crash in between asks again under the same job id (once). The phone may
          // never answer (off, out of reach): a deadline for this request bounds the wait.
          const target = {
            accountId: job.accountId,
            threadId: job.threadId,
            messageId: job.messageId,
          };
          const requestedAt = new Date().toISOString();
          await deps.requestReupload(target);
          await deps.scheduleReuploadDeadline({
            ...target,
            requestedAt,
            timeoutMs: deps.reuploadTimeoutMs,
          });
          await deps.messages.update(job.threadId, job.messageId, {
            status: 'pending',
            reason: `${error.message}; the phone is asked to upload it again`,
            reuploadRequestedAt: requestedAt,
          });
          logger.info({ messageId: job.messageId }, 'media expired; asked the phone to re-upload');
          return 'reupload-requested';
        }
        await deps.messages.update(job.threadId, job.messageId, {
          status: 'expired',
          reason: `${error.message}, also after the phone was asked to upload it again`,
        });
        logger.warn({ messageId: job.messageId }, 'media expired on the media server');
        return 'expired';
      }
      if (isDecryptError(error)) return fail('the file does not decrypt with the message key');
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const { size, sha256 } = spooled;
    if (
      media.fileSha256Base64 !== null &&
      Buffer.from(media.fileSha256Base64, 'base64').toString('hex') !== sha256
    ) {
      return fail('the SHA-256 of the file does not match the message');
    }
    const mime =
      (await sniffMime(file)) ??
      media.mimetype?.split(';')[0]?.trim() ??
      'application/octet-stream';
    let thumbnail: MediaThumbnail | null = null;
    if (mime.startsWith('image/')) {
      try {
        const thumb = await deps.thumbnail(file);
        const stored = await deps.objects.putBuffer(thumb.data, 'image/jpeg');
        thumbnail = {
          storageKey: stored.key,
          mime: 'image/jpeg',
          width: thumb.width,
          height: thumb.height,
          size: stored.size,
        };
      } catch (error) {
        logger.warn({ err: error, messageId: job.messageId }, 'no thumbnail for this image');
      }
    }
    const stored = await deps.objects.putFile(file, { sha256, size, mime });
    await deps.messages.update(job.threadId, job.messageId, {
      status: 'stored',
      reason: null,
      sha256,
      mime,
      size,
      storageKey: stored.key,
      thumbnail,
    });
    logger.info(
      { messageId: job.messageId, size, mime, created: stored.created },
      stored.created ? 'media stored' : 'media already stored (same SHA-256)',
    );
    return 'stored';
  } finally {
    // Only the download's scratch copy; nothing stored is ever deleted.
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The phone's answer to a re-upload request: with a new direct path the file is downloaded from
 * there and kept; without one (the phone no longer has it) the media is `expired` with the reason.
 */
export async function mediaReuploaded(
  job: MediaReuploadedJob,
  deps: StoreMediaDeps,
  logger: Logger,
): Promise<StoreMediaOutcome> {
  const message = await deps.messages.load(job.threadId, job.messageId);
  if (message === null) throw new Error(`message ${job.messageId} not stored`);
  if (message.media === null) return 'no-media';
  if (message.media.status === 'stored') return 'already-stored';
  if (job.directPath === null) {
    const reason = `expired on the media server; the phone could not upload it again (${job.reason ?? 'no reason given'})`;
    await deps.messages.update(job.threadId, job.messageId, { status: 'expired', reason });
    logger.warn({ messageId: job.messageId, reason }, 'media lost');
    return 'expired';
  }
  await deps.messages.update(job.threadId, job.messageId, { directPath: job.directPath });
  return storeMedia({ ...job, source: 'reupload' }, deps, logger);
}

/**
 * The bound on a re-upload request: when the media is still `pending` under the request this
 * deadline was set for, the phone never answered, and the media ends `expired` with that reason
 * (the record stays; wa-gateway stops asking for media that is no longer pending). Anything
 * else (stored, expired, failed, or a newer request with its own deadline) is left as it is.
 */
export async function reuploadDeadline(
  job: ReuploadDeadlineJob,
  deps: Pick<StoreMediaDeps, 'messages'>,
  logger: Logger,
): Promise<'expired' | 'answered'> {
  const message = await deps.messages.load(job.threadId, job.messageId);
  const media = message?.media;
  if (media?.status !== 'pending' || media.reuploadRequestedAt !== job.requestedAt) {
    return 'answered';
  }
  const reason = `expired on the media server; the phone did not answer the re-upload request within ${job.timeoutMs} ms (asked at ${job.requestedAt})`;
  await deps.messages.update(job.threadId, job.messageId, { status: 'expired', reason });
  logger.warn({ messageId: job.messageId, reason }, 'media lost: the phone did not answer');
  return 'expired';
}
