import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GatewayMetrics } from '../data-access/metrics.js';
import { errorResponses } from './whatsapp.routes.js';

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
  const app = root.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/metrics',
    {
      config: { operation: 'admin', metricsToken: true },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics: queue depths, accounts by state, ingest lag, latencies',
        response: { 200: z.string().describe('text/plain; version=0.0.4'), ...errorResponses },
      },
    },
    async (_request, reply) => {
      const text = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(text);
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
