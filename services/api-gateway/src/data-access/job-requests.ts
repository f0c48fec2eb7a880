import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { AppError, ErrorCatalogue, type ErrorCode, type QueueContract } from '@wacrm/contracts';
import { enqueue, type ContractQueue } from '@wacrm/queue';

type JobsOf<Q extends QueueContract> = Q['jobs'];

/**
 * Request/response over a queue: the API adds a job and waits for the worker's answer. The job
 * id names the request, so asking again with the same id waits for the same job instead of
 * running it twice.
 */
export interface JobClient<Q extends QueueContract> {
  request<N extends Extract<keyof JobsOf<Q>, string>, R extends z.ZodType>(
    name: N,
    payload: z.input<JobsOf<Q>[N]>,
    result: R,
    jobId: string,
  ): Promise<z.output<R>>;
  close(): Promise<void>;
}

export function createJobClient<Q extends QueueContract>(
  queue: ContractQueue<Q>,
  blockingConnection: () => Redis,
  timeoutMs: number,
  /** Who answers, for the 503's message ("the AI worker"). */
  worker: string,
): JobClient<Q> {
  let events: QueueEvents | undefined;
  let ready: Promise<void> | undefined;
  const listen = async () => {
    if (events === undefined) {
      events = new QueueEvents(queue.queue.name, {
        connection: blockingConnection(),
        prefix: queue.queue.opts.prefix ?? 'bull',
      });
      ready = events.waitUntilReady().then(() => undefined);
    }
    await ready;
    return events;
  };
  return {
    async request(name, payload, result, jobId) {
      const queueEvents = await listen();
      const job = await enqueue(queue, name, payload, { jobId, attempts: 3 });
      // BullMQ keeps the first job of an id and ignores a later add's data: a request id reused
      // for another request (or kind) must not silently return the first one's answer.
      const stored = await queue.queue.getJob(jobId);
      if (
        stored !== undefined &&
        (stored.name !== name ||
          JSON.stringify(stored.data) !== JSON.stringify(queue.contract.jobs[name]?.parse(payload)))
      ) {
        throw new AppError(
          'CONFLICT',
          'this Idempotency-Key was already used for a different request',
        );
      }
      let value: unknown;
      try {
        value = await job.waitUntilFinished(queueEvents, timeoutMs);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (message.includes('timed out before finishing')) {
          throw new AppError(
            'DEPENDENCY_UNAVAILABLE',
            `${worker} did not answer within ${timeoutMs} ms; retry with the same Idempotency-Key to get this request's answer`,
          );
        }
        // A worker's AppError fails the job as "CODE: message"; a client error passes through.
        const match = /^([A-Z_]+): (.*)$/s.exec(message);
        const code = match?.[1] as ErrorCode | undefined;
        if (code !== undefined && code in ErrorCatalogue && ErrorCatalogue[code].status < 500) {
          throw new AppError(code, match?.[2] ?? message);
        }
        throw new AppError('DEPENDENCY_UNAVAILABLE', `${name} ${jobId} failed`, {
          cause: error,
        });
      }
      const parsed = result.safeParse(value);
      if (!parsed.success) {
        throw new AppError('INTERNAL', `${worker} answered ${name} outside its contract`, {
          cause: parsed.error,
        });
      }
      return parsed.data;
    },
    async close() {
      await events?.close();
    },
  };
}
