import { UnrecoverableError, Worker, type Job, type MinimalJob, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { formatIssues, isAppError, type QueueContract } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { CAPPED_BACKOFF, cappedBackoffDelay } from './job-options.js';
import { bullTelemetry } from './queue-client.js';
import type { ShutdownRegistry } from './shutdown.js';

export interface JobContext {
  job: Job;
  logger: Logger;
}

export type Processors<C extends QueueContract> = {
  [N in Extract<keyof C['jobs'], string>]: (
    payload: z.output<C['jobs'][N]>,
    ctx: JobContext,
  ) => Promise<unknown>;
};

export interface WorkerDeps {
  connection: Redis;
  prefix: string;
  logger: Logger;
  tracerName?: string;
  /** Registers `worker.close()` so SIGTERM lets running jobs finish before exit. */
  shutdown?: ShutdownRegistry;
}

export type StartWorkerOptions = Omit<WorkerOptions, 'connection' | 'prefix' | 'telemetry'>;

/**
 * Raised for a job whose payload does not match its contract. It is unrecoverable, so the job
 * fails once and stays in the failed set with this message for inspection.
 */
export class InvalidJobPayloadError extends UnrecoverableError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidJobPayloadError';
  }
}

/**
 * How often a job may lose its worker (process killed, lock lapsed) before BullMQ fails it. A
 * crash is transient: BullMQ's default of 1 failed a job for good at its second stall, so two
 * SIGKILLs of a service (or one during a long job, then another) lost work already accepted.
 */
export const MAX_STALLED_COUNT = 1_000;

/** From this attempt on, a retry is logged as an error (about two minutes of failures). */
const LONG_RETRY_STREAK = 8;

/** BullMQ's strategy for the capped backoff of the default job options. */
export function retryBackoff(
  attemptsMade: number,
  type?: string,
  _error?: Error,
  job?: MinimalJob,
): number {
  if (type !== CAPPED_BACKOFF) throw new Error(`unknown backoff type ${String(type)}`);
  const base = (job?.opts.backoff as { delay?: number } | undefined)?.delay ?? 1_000;
  return cappedBackoffDelay(attemptsMade, base);
}

/**
 * Runs `job` through its contract and processor: payloads are parsed (a failure is final),
 * each job gets a child logger, and only retryable errors are retried.
 */
export async function processJob<C extends QueueContract>(
  contract: C,
  processors: Processors<C>,
  job: Job,
  logger: Logger,
): Promise<unknown> {
  const log = logger.child({
    queue: contract.name,
    job: job.name,
    jobId: job.id,
    attempt: job.attemptsMade + 1,
  });
  const schema = contract.jobs[job.name];
  const processor = (processors as Record<string, Processors<C>[keyof Processors<C>] | undefined>)[
    job.name
  ];
  if (schema === undefined || processor === undefined) {
    log.error('job name not in the queue contract; failing it once and keeping it');
    throw new InvalidJobPayloadError(`unknown job name "${job.name}" for queue ${contract.name}`);
  }
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) {
    const message = `invalid payload for ${contract.name}/${job.name}: ${formatIssues(parsed.error)}`;
    log.error({ issues: parsed.error.issues.length }, message);
    throw new InvalidJobPayloadError(message);
  }
  try {
    return await (processor as (p: unknown, ctx: JobContext) => Promise<unknown>)(parsed.data, {
      job,
      logger: log,
    });
  } catch (error) {
    if (error instanceof UnrecoverableError) throw error;
    if (isAppError(error) && !error.retryable) {
      log.error({ err: error, code: error.code }, 'job failed permanently');
      throw new UnrecoverableError(`${error.code}: ${error.message}`);
    }
    const attempts = job.opts.attempts ?? 1;
    const last = job.attemptsMade + 1 >= attempts;
    // Transient failures are retried until they succeed; a long streak is worth an error line.
    const long = job.attemptsMade + 1 >= LONG_RETRY_STREAK;
    log[last || long ? 'error' : 'warn'](
      { err: error },
      last
        ? 'job failed after its last attempt'
        : long
          ? 'job still failing; will retry with backoff'
          : 'job failed; will retry with backoff',
    );
    throw error;
  }
}

/** Starts a BullMQ worker for a queue contract. */
export function startWorker<C extends QueueContract>(
  contract: C,
  processors: Processors<C>,
  deps: WorkerDeps,
  options: StartWorkerOptions = {},
): Worker {
  const logger = deps.logger.child({ queue: contract.name });
  const worker = new Worker(
    contract.name,
    (job) => processJob(contract, processors, job, deps.logger),
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: 4,
      maxStalledCount: MAX_STALLED_COUNT,
      ...options,
      settings: { ...options.settings, backoffStrategy: retryBackoff },
      ...(deps.tracerName !== undefined ? { telemetry: bullTelemetry(deps.tracerName) } : {}),
    },
  );
  worker.on('error', (error) => {
    logger.warn({ err: error }, 'worker error (Redis connection); BullMQ keeps retrying');
  });
  deps.shutdown?.add(`worker ${contract.name}`, () => worker.close());
  return worker;
}
