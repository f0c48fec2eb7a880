import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { AiRequestsQueue } from '@wacrm/contracts';
import type { ContractQueue } from '@wacrm/queue';
import { createJobClient } from './job-requests.js';

type AiJobs = (typeof AiRequestsQueue)['jobs'];

/**
 * Request/response over the ai-requests queue: the job id is the requestId, so asking again
 * with the same id waits for the same job instead of running it twice.
 */
export interface AiClient {
  request<N extends Extract<keyof AiJobs, string>, R extends z.ZodType>(
    name: N,
    payload: z.input<AiJobs[N]>,
    result: R,
  ): Promise<z.output<R>>;
  close(): Promise<void>;
}

export function createAiClient(
  queue: ContractQueue<typeof AiRequestsQueue>,
  blockingConnection: () => Redis,
  timeoutMs: number,
): AiClient {
  const jobs = createJobClient(queue, blockingConnection, timeoutMs, 'the AI worker');
  return {
    request: (name, payload, result) =>
      jobs.request(name, payload, result, (payload as { requestId: string }).requestId),
    close: () => jobs.close(),
  };
}
