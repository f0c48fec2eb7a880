import type { z } from 'zod';
import { BaseEnv, envBoolean, envInt, requireFirestoreTarget } from './fields.js';

/**
 * outbox-sender: the per-account send governor. Defaults follow what keeps a business number
 * safe from WhatsApp's spam heuristics; each account may override them in `accounts/{id}.sendPolicy`.
 */
export const OutboxSenderEnv = BaseEnv.extend({
  /** Off only for benchmarks and load tests: no token bucket, gaps, caps or jitter. */
  OUTBOX_PACING: envBoolean(true),
  OUTBOX_RATE_PER_MINUTE: envInt(20, 1, 6_000),
  /** Messages an account may send back to back before the rate applies. */
  OUTBOX_BURST: envInt(3, 1, 1_000),
  OUTBOX_MIN_RECIPIENT_GAP_MS: envInt(3_000, 0, 3_600_000),
  OUTBOX_JITTER_MS: envInt(1_500, 0, 60_000),
  OUTBOX_DAILY_CAP: envInt(1_000, 1, 1_000_000),
  /** Days over which a newly paired account ramps from 25% to its full rate. */
  OUTBOX_WARMUP_DAYS: envInt(4, 0, 60),
  /** Outbox documents still `queued` after this long are re-enqueued by the relay. */
  OUTBOX_RELAY_AFTER_MS: envInt(15_000, 1_000, 3_600_000),
  OUTBOX_RELAY_INTERVAL_MS: envInt(5_000, 200, 600_000),
  /** Hand-overs in flight per replica: each waits on Firestore and Redis round trips, not CPU. */
  OUTBOX_CONCURRENCY: envInt(32, 1, 256),
}).superRefine(requireFirestoreTarget);
export type OutboxSenderEnv = z.infer<typeof OutboxSenderEnv>;
