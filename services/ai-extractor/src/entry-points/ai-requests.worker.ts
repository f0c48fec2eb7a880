import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { AiRequestsQueue } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { startWorker, type ShutdownRegistry } from '@wacrm/queue';
import { askClient, type AskDeps } from '../domain/ask/ask-client.handler.js';
import { extractEvent, type ExtractDeps } from '../domain/extract-event.handler.js';

export interface AiWorkerDeps {
  connection: Redis;
  prefix: string;
  logger: Logger;
  extract: Omit<ExtractDeps, 'logger'>;
  ask: Omit<AskDeps, 'logger'>;
  concurrency: number;
  tracerName?: string;
  shutdown?: ShutdownRegistry;
}

/**
 * Consumes `ai-requests`. Each job's return value is the HTTP answer (ExtractEventResponse or
 * AskResponse): the API waits for it with `job.waitUntilFinished(queueEvents)`.
 */
export function startAiRequestsWorker(deps: AiWorkerDeps): Worker {
  return startWorker(
    AiRequestsQueue,
    {
      'extract-event': (payload, { logger }) => extractEvent(payload, { ...deps.extract, logger }),
      'ask-client': (payload, { logger }) => askClient(payload, { ...deps.ask, logger }),
    },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      logger: deps.logger,
      ...(deps.tracerName !== undefined ? { tracerName: deps.tracerName } : {}),
      ...(deps.shutdown !== undefined ? { shutdown: deps.shutdown } : {}),
    },
    { concurrency: deps.concurrency },
  );
}
