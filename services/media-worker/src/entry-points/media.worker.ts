import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { MediaQueue } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { startWorker, type ShutdownRegistry } from '@wacrm/queue';
import {
  mediaReuploaded,
  reuploadDeadline,
  storeMedia,
  type StoreMediaDeps,
} from '../domain/store-media.handler.js';

export interface MediaWorkerOptions {
  connection: Redis;
  prefix: string;
  logger: Logger;
  concurrency: number;
  /** A download may take minutes: the job lock outlives it. */
  lockDurationMs: number;
  tracerName?: string;
  shutdown?: ShutdownRegistry;
}

/**
 * Consumes `media`: one `store-media` job keeps one message's file; `media-reuploaded` carries
 * the phone's answer for a file the media server had dropped; `reupload-deadline` ends the wait
 * for an answer that never came.
 */
export function startMediaWorker(deps: StoreMediaDeps, options: MediaWorkerOptions): Worker {
  return startWorker(
    MediaQueue,
    {
      'store-media': (payload, { logger }) => storeMedia(payload, deps, logger),
      'media-reuploaded': (payload, { logger }) => mediaReuploaded(payload, deps, logger),
      'reupload-deadline': (payload, { logger }) => reuploadDeadline(payload, deps, logger),
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      logger: options.logger,
      ...(options.tracerName !== undefined ? { tracerName: options.tracerName } : {}),
      ...(options.shutdown !== undefined ? { shutdown: options.shutdown } : {}),
    },
    { concurrency: options.concurrency, lockDuration: options.lockDurationMs },
  );
}
