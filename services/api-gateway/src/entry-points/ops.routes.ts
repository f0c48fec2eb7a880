import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Job, type Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  AppError,
  FailedJobsExportQuery,
  FailedJobsQuery,
  FailedJobsView,
  RedriveBody,
  RedriveResult,
} from '@wacrm/contracts';
import type { GatewayMetrics } from '../data-access/metrics.js';
import { errorResponses } from './error-responses.js';
import { documentedRoutes } from './documented.js';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * `/metrics` (Prometheus text; admins, or `Authorization: Bearer $METRICS_TOKEN` for scrapers)
 * and bull-board at /admin/queues. bull-board's own routes carry no operation, so the auth hook
 * gives them the default: admins only.
 */
export async function registerOps(
  root: FastifyInstance,
  deps: { metrics: GatewayMetrics; queues: () => Queue[] },
): Promise<void> {
  const app = documentedRoutes(root);
  app.get(
    '/metrics',
    {
      config: { operation: 'admin', metricsToken: true },
      schema: {
        tags: ['operations'],
        operationId: 'getMetrics',
        description:
          'Prometheus text exposition; with METRICS_TOKEN set, that bearer token is required.',
        summary: 'Prometheus metrics: queue depths, accounts by state, ingest lag, latencies',
        response: { 200: z.string().describe('text/plain; version=0.0.4'), ...errorResponses },
      },
    },
    async (_request, reply) => {
      const text = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(text);
    },
  );

  const queueNamed = (name: string): Queue => {
    const queue = deps.queues().find((q) => q.name === name);
    if (queue === undefined) throw new AppError('NOT_FOUND', `no queue ${name}`);
    return queue;
  };
  const view = (queue: Queue, job: Job) => ({
    queue: queue.name,
    id: job.id ?? '',
    name: job.name,
    failedReason: job.failedReason,
    attemptsMade: job.attemptsMade,
    createdAt: new Date(job.timestamp).toISOString(),
    failedAt: job.finishedOn !== undefined ? new Date(job.finishedOn).toISOString() : null,
  });

  // Transient failures retry until they succeed; what lands in `failed` is permanent (a payload
  // that does not parse, a permanent error) and waits here for a fix and a redrive.
  app.get(
    '/api/admin/failed-jobs',
    {
      config: { operation: 'admin' },
      schema: {
        tags: ['operations'],
        operationId: 'listFailedJobs',
        description:
          'Failed jobs of every queue (or one), newest first, with their error and attempts.',
        summary: 'Failed jobs per queue, newest first',
        querystring: FailedJobsQuery,
        response: { 200: FailedJobsView, ...errorResponses },
      },
    },
    async (request) => {
      const { queue: name, limit } = request.query;
      const queues = name !== undefined ? [queueNamed(name)] : deps.queues();
      const counts = await Promise.all(queues.map((q) => q.getFailedCount()));
      const jobs = await Promise.all(
        queues.map(async (q, i) =>
          (counts[i] ?? 0) === 0 ? [] : (await q.getFailed(0, limit - 1)).map((j) => view(q, j)),
        ),
      );
      return {
        queues: queues.map((q, i) => ({ queue: q.name, failed: counts[i] ?? 0 })),
        jobs: jobs.flat(),
      };
    },
  );

  // Every failed job of a queue, one JSON object a line, with its payload and error: kept by the
  // operator before the failed set's cap (FAILED_JOBS_KEPT) or age trims the oldest.
  app.get(
    '/api/admin/failed-jobs/export',
    {
      config: { operation: 'admin' },
      schema: {
        tags: ['operations'],
        operationId: 'exportFailedJobs',
        description: 'Every failed job of a queue as NDJSON: payload, error, stack and attempts.',
        summary: 'Export the failed jobs of a queue (NDJSON: payload, error, stack, attempts)',
        querystring: FailedJobsExportQuery,
        response: { 200: z.string().describe('application/x-ndjson'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const queue = queueNamed(request.query.queue);
      const lines: string[] = [];
      const page = 500;
      for (let start = 0; ; start += page) {
        const jobs = await queue.getFailed(start, start + page - 1);
        for (const job of jobs) {
          lines.push(
            JSON.stringify({
              ...view(queue, job),
              data: job.data as unknown,
              opts: job.opts,
              stacktrace: job.stacktrace,
            }),
          );
        }
        if (jobs.length < page) break;
      }
      return reply
        .type('application/x-ndjson')
        .header('content-disposition', `attachment; filename="${queue.name}-failed.ndjson"`)
        .send(lines.length > 0 ? `${lines.join('\n')}\n` : '');
    },
  );

  app.post(
    '/api/admin/failed-jobs/redrive',
    {
      config: { operation: 'admin' },
      schema: {
        tags: ['operations'],
        operationId: 'redriveFailedJobs',
        description:
          'Moves failed jobs back to waiting: the named ones of a queue, every failed job of a queue, or of every queue.',
        bodyExample: { queue: 'outbox', jobIds: ['42'] },
        summary: 'Retry failed jobs: the named ones of a queue, or every failed job',
        body: RedriveBody,
        response: { 200: RedriveResult, ...errorResponses },
      },
    },
    async (request) => {
      const { queue: name, jobIds } = request.body;
      if (jobIds !== undefined) {
        if (name === undefined) throw new AppError('VALIDATION_FAILED', 'jobIds need a queue');
        const queue = queueNamed(name);
        let redriven = 0;
        for (const id of jobIds) {
          const job = await Job.fromId(queue, id);
          if (job === undefined || !(await job.isFailed())) continue;
          await job.retry('failed');
          redriven += 1;
        }
        request.log.warn({ queue: name, redriven }, 'failed jobs redriven');
        return { redriven };
      }
      const queues = name !== undefined ? [queueNamed(name)] : deps.queues();
      let redriven = 0;
      for (const queue of queues) {
        const failed = await queue.getFailedCount();
        if (failed === 0) continue;
        await queue.retryJobs({ state: 'failed', count: 1_000 });
        redriven += failed;
      }
      request.log.warn({ queue: name ?? 'all', redriven }, 'failed jobs redriven');
      return { redriven };
    },
  );

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const seen = new Set<string>();
  // @bull-board/fastify pins its own copy of @bull-board/api (one patch release apart): same
  // shapes, separately declared classes, hence the cast.
  const board = createBullBoard({
    queues: [],
    serverAdapter: serverAdapter as unknown as Parameters<
      typeof createBullBoard
    >[0]['serverAdapter'],
  });
  const addQueue = (queue: Queue) => {
    if (seen.has(queue.name)) return;
    seen.add(queue.name);
    board.addQueue(new BullMQAdapter(queue));
  };
  deps.queues().forEach(addQueue);
  // Per-account command queues open as accounts are used; the board picks them up on each visit.
  root.addHook('onRequest', (request, _reply, done) => {
    if (request.url.startsWith(BULL_BOARD_PATH)) deps.queues().forEach(addQueue);
    done();
  });
  await root.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
}
