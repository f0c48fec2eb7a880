import type { DefaultJobOptions } from 'bullmq';

/**
 * Defaults for every job: retried with exponential backoff (1 s, 2 s, 4 s … ~2 min), completed
 * jobs kept a day for the dashboard, failed jobs kept 30 days for inspection.
 */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000, jitter: 0.2 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** BullMQ reserves ":" inside custom job ids; business keys are mapped onto a safe alphabet. */
export function jobIdFrom(...parts: string[]): string {
  const id = parts.map((p) => p.replace(/[^A-Za-z0-9_.@+-]/g, '_')).join('.');
  if (/^\d+$/.test(id)) return `id.${id}`;
  return id;
}
