import { Queue, type Job, type JobsOptions } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { AppError, describeIssues, formatIssues, type QueueContract } from '@wacrm/contracts';
import { DEFAULT_JOB_OPTIONS } from './job-options.js';

export interface QueueDeps {
  connection: Redis;
  /** BullMQ key prefix, e.g. `{wacrm}` (a Redis Cluster hash tag). */
  prefix: string;
  /** Span/tracer name for bullmq-otel; traces cross the queue when set. */
  tracerName?: string;
}

/** A BullMQ queue together with the contract its jobs must satisfy. */
export interface ContractQueue<C extends QueueContract> {
  readonly contract: C;
  readonly queue: Queue;
}

/** One telemetry adapter per tracer name per process; BullMQ only needs it to propagate context. */
export function bullTelemetry(tracerName: string): BullMQOtel {
  return new BullMQOtel({ tracerName, version: '1' });
}

export function openQueue<C extends QueueContract>(contract: C, deps: QueueDeps): ContractQueue<C> {
  const queue = new Queue(contract.name, {
    connection: deps.connection,
    prefix: deps.prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
    ...(deps.tracerName !== undefined ? { telemetry: bullTelemetry(deps.tracerName) } : {}),
  });
  return { contract, queue };
}

type JobName<C extends QueueContract> = Extract<keyof C['jobs'], string>;
type JobInput<C extends QueueContract, N extends JobName<C>> = z.input<C['jobs'][N]>;

/**
 * Parses the payload against the queue's contract, then adds it. A payload that does not parse
 * is a bug in the producer and never reaches Redis.
 */
export async function enqueue<C extends QueueContract, N extends JobName<C>>(
  target: ContractQueue<C>,
  name: N,
  payload: JobInput<C, N>,
  options?: JobsOptions,
): Promise<Job> {
  const schema = target.contract.jobs[name];
  if (schema === undefined) {
    throw new AppError('INVALID_JOB_PAYLOAD', `queue ${target.contract.name} has no job "${name}"`);
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    throw new AppError(
      'INVALID_JOB_PAYLOAD',
      `refusing to enqueue ${target.contract.name}/${name}: ${formatIssues(parsed.error)}`,
      { errors: describeIssues(parsed.error) },
    );
  }
  return target.queue.add(name, parsed.data, options);
}
