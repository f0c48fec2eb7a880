import type { z } from 'zod';
import { BaseEnv, envInt, requireFirestoreTarget } from './fields.js';

export const IngestEnv = BaseEnv.extend({
  /** Jobs of different accounts run in parallel; one account's jobs always run one at a time. */
  INGEST_CONCURRENCY: envInt(8, 1, 256),
  /** Firestore writes per commit (Firestore allows at most 500). */
  INGEST_BATCH_WRITES: envInt(500, 2, 500),
  /** TTL of the per-account Redis lock that serialises writers across ingest replicas. */
  INGEST_ACCOUNT_LOCK_TTL_MS: envInt(15_000, 1_000, 600_000),
  /** How long a job waits for another replica's account lock before it is retried with backoff. */
  INGEST_ACCOUNT_LOCK_WAIT_MS: envInt(30_000, 100, 600_000),
  /** BullMQ job lock: a crashed worker's jobs run again after this (stalled-job recovery). */
  INGEST_JOB_LOCK_MS: envInt(30_000, 1_000, 600_000),
  /** How often BullMQ looks for stalled jobs. */
  INGEST_STALLED_INTERVAL_MS: envInt(30_000, 500, 600_000),
}).superRefine(requireFirestoreTarget);
export type IngestEnv = z.infer<typeof IngestEnv>;
