import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { CrmEventsQueue } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { startWorker, type RealtimePublisher, type ShutdownRegistry } from '@wacrm/queue';
import type { ClientLock } from '../data-access/client-lock.js';
import type { ClientStore } from '../data-access/client-store.js';
import { recomputeClient } from '../domain/recompute-client.handler.js';

export interface CrmWorkerDeps {
  connection: Redis;
  prefix: string;
  logger: Logger;
  store: ClientStore;
  lock: ClientLock;
  publisher: RealtimePublisher;
  concurrency: number;
  tracerName?: string;
  shutdown?: ShutdownRegistry;
}

/** Consumes `crm-events`: one `recompute-client` job recomputes one client's aggregate. */
export function startCrmEventsWorker(deps: CrmWorkerDeps): Worker {
  return startWorker(
    CrmEventsQueue,
    {
      'recompute-client': (payload, { logger }) =>
        recomputeClient(payload, {
          store: deps.store,
          lock: deps.lock,
          publisher: deps.publisher,
          logger,
        }),
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
