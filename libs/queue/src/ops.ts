import type { Job, Worker } from 'bullmq';
import {
  createJobMetrics,
  createMetricsRegistry,
  startOpsServer,
  type Logger,
  type Registry,
} from '@wacrm/observability';
import type { ShutdownRegistry } from './shutdown.js';

export interface OpsConfig {
  OPS_PORT: number;
  OPS_HOST: string;
}

/**
 * Serves /health and /metrics for a worker process when OPS_PORT is set (compose and
 * Kubernetes set it; `npm start` leaves it off, as several workers share one host there).
 */
export async function serveOps(
  config: OpsConfig,
  deps: {
    registry: Registry;
    checks: Record<string, () => Promise<unknown>>;
    logger: Logger;
    shutdown: ShutdownRegistry;
  },
): Promise<number | undefined> {
  if (config.OPS_PORT === 0) return undefined;
  const server = await startOpsServer({
    host: config.OPS_HOST,
    port: config.OPS_PORT,
    registry: deps.registry,
    checks: deps.checks,
  });
  deps.shutdown.add('ops server', () => server.close());
  deps.logger.info({ port: server.port }, 'ops server: /health and /metrics');
  return server.port;
}

function seconds(job: Job | undefined): number | undefined {
  if (job?.processedOn === undefined || job.finishedOn === undefined) return undefined;
  return Math.max(0, job.finishedOn - job.processedOn) / 1000;
}

/** Counts a worker's jobs and their durations (wacrm_jobs_total, wacrm_job_duration_seconds). */
export function instrumentWorker(worker: Worker, registry: Registry): Worker {
  const metrics = createJobMetrics(registry);
  worker.on('completed', (job) => metrics.observe(worker.name, 'completed', seconds(job)));
  worker.on('failed', (job) => metrics.observe(worker.name, 'failed', seconds(job)));
  return worker;
}

/**
 * The ops wiring of a queue worker process: its metrics registry (default process metrics and
 * its jobs), and /health (Redis ping) + /metrics when OPS_PORT is set.
 */
export async function serveWorkerOps(
  config: OpsConfig,
  worker: Worker,
  deps: {
    service: string;
    redis: { ping(): Promise<unknown> };
    logger: Logger;
    shutdown: ShutdownRegistry;
  },
): Promise<Registry> {
  const registry = createMetricsRegistry(deps.service);
  instrumentWorker(worker, registry);
  await serveOps(config, {
    registry,
    checks: { redis: () => deps.redis.ping() },
    logger: deps.logger,
    shutdown: deps.shutdown,
  });
  return registry;
}
