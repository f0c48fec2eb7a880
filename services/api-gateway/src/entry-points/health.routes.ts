import type { FastifyInstance } from 'fastify';
import { HealthResponse } from '@wacrm/contracts';
import { checkHealth, type DependencyProbe } from '../domain/health.js';

export interface HealthRouteDeps {
  probes: DependencyProbe[];
  service: string;
  version: string;
  startedAt: number;
  timeoutMs: number;
}

/** `/health`: 200 when every dependency answers, 503 naming the failing ones otherwise. */
export function healthRoutes(deps: HealthRouteDeps) {
  return (app: FastifyInstance): Promise<void> => {
    // Probed every few seconds by orchestrators: log only problems.
    app.get(
      '/health',
      {
        logLevel: 'warn',
        config: { public: true },
        schema: {
          tags: ['operations'],
          summary: 'Liveness and dependencies (no credentials needed)',
          security: [],
          response: { 200: HealthResponse, 503: HealthResponse },
        },
      },
      async (_request, reply) => {
        const health = await checkHealth(deps.probes, deps);
        return reply.status(health.status === 'ok' ? 200 : 503).send(health);
      },
    );
    return Promise.resolve();
  };
}
