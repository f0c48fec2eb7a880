import type { DefaultJobOptions } from 'bullmq';

/** The backoff type of every default job; `startWorker` gives BullMQ its strategy. */
export const CAPPED_BACKOFF = 'capped-exponential';
/**
 * Longest wait between two attempts, in base delays: 60 × 1 s, so a dependency back from an
 * outage is retried within a minute.
 */
export const RETRY_CAP_FACTOR = 60;
/** "Until it succeeds": BullMQ needs a number; at one attempt a minute this is 4,000 years. */
export const RETRY_FOREVER = 2 ** 31 - 1;
/** Failed jobs kept in Redis per queue (the newest); older ones are exported before they go. */
export const FAILED_JOBS_KEPT = 10_000;

/**
 * Defaults for every job: a transient failure is retried until it succeeds, waiting 1 s, 2 s,
 * 4 s … capped at a minute (RETRY_CAP_FACTOR) (an outage of any length ends in success, never in `failed`); a payload
 * that does not parse or a permanent error fails once (`startWorker`). Completed jobs are kept a
 * day for the dashboard, failed jobs 30 days (at most FAILED_JOBS_KEPT per queue) for inspection.
 */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: RETRY_FOREVER,
  backoff: { type: CAPPED_BACKOFF, delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600, count: FAILED_JOBS_KEPT },
};

/**
 * The wait before the next attempt of a job with the capped backoff: `baseMs`·2^(attempts-1), at
 * most RETRY_CAP_FACTOR·`baseMs`, less up to 20 % of jitter so retries after an outage spread out.
 */
export function cappedBackoffDelay(attemptsMade: number, baseMs: number, random = Math.random()) {
  const exponent = Math.min(Math.max(attemptsMade - 1, 0), 40);
  const full = Math.min(RETRY_CAP_FACTOR * baseMs, baseMs * 2 ** exponent);
  return Math.floor(full * (1 - 0.2 * random));
}

/** BullMQ reserves ":" inside custom job ids; business keys are mapped onto a safe alphabet. */
export function jobIdFrom(...parts: string[]): string {
  const id = parts.map((p) => p.replace(/[^A-Za-z0-9_.@+-]/g, '_')).join('.');
  if (/^\d+$/.test(id)) return `id.${id}`;
  return id;
}
