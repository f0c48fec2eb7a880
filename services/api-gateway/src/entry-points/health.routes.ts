import type { FastifyInstance } from 'fastify';
import { HealthResponse, ProblemDetails } from '@wacrm/contracts';
import { documentedRoutes } from './documented.js';
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
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);
    // Probed every few seconds by orchestrators: log only problems.
    app.get(
      '/health',
      {
        logLevel: 'warn',
        config: { public: true },
        schema: {
          tags: ['operations'],
          operationId: 'getHealth',
          description:
            '200 when every dependency (Redis, Firestore) answers within HEALTH_TIMEOUT_MS, 503 naming the failing ones. Needs no credentials and is never rate limited.',
          summary: 'Liveness and dependencies (no credentials needed)',
          security: [],
          // A malformed request is refused before the probes run (problem+json, as everywhere).
          response: { 200: HealthResponse, 503: HealthResponse, '4xx': ProblemDetails },
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
