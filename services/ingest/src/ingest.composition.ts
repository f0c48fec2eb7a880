import type { Redis } from 'ioredis';
import type { Firebase } from '@wacrm/firestore';
import type { Logger } from '@wacrm/observability';
import { MediaQueue, OutboxQueue } from '@wacrm/contracts';
import { openQueue, RealtimePublisher } from '@wacrm/queue';
import { AccountFence } from './data-access/account-fence.js';
import { AccountLock } from './data-access/account-lock.js';
import { FirestoreStore } from './data-access/firestore-store.js';
import { PendingIndex } from './data-access/pending-index.js';
import { AcceptedSends, IdentityCache, type IngestDeps } from './domain/ingest-deps.js';

export interface BuildIngestOptions {
  db: Firebase['db'];
  /** Commands (locks, fences, the pending index). */
  redis: Redis;
  /** Publishes realtime notifications. */
  publisher: Redis;
  prefix: string;
  logger: Logger;
  maxWrites: number;
  lockTtlMs: number;
  lockWaitMs: number;
  /** Open the media worker's queue and enqueue a job per new message with media (issue 17). */
  keepMedia?: boolean;
  tracerName?: string;
}

/** Wires ingest's dependencies; shared by main.ts, the tests and the benchmark. */
export function buildIngestDeps(options: BuildIngestOptions): IngestDeps {
  return {
    store: new FirestoreStore(options.db),
    fence: new AccountFence(options.redis, options.prefix),
    lock: new AccountLock(options.redis, options.prefix, {
      ttlMs: options.lockTtlMs,
      waitMs: options.lockWaitMs,
    }),
    pendingIndex: new PendingIndex(options.redis, options.prefix),
    publisher: new RealtimePublisher(options.publisher, options.logger),
    identities: new IdentityCache(),
    accepted: new AcceptedSends(),
    maxWrites: options.maxWrites,
    logger: options.logger,
    sendStatus: openQueue(OutboxQueue, {
      connection: options.redis,
      prefix: options.prefix,
      ...(options.tracerName !== undefined ? { tracerName: options.tracerName } : {}),
    }),
    ...(options.keepMedia === false
      ? {}
      : {
          media: openQueue(MediaQueue, {
            connection: options.redis,
            prefix: options.prefix,
            ...(options.tracerName !== undefined ? { tracerName: options.tracerName } : {}),
          }),
        }),
  };
}
