import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '@wacrm/observability';
import type { DependencyProbe } from './domain/health.js';
import { healthRoutes } from './entry-points/health.routes.js';
import { registerProblemHandlers } from './entry-points/problem.js';

export interface AppDeps {
  logger: Logger;
  probes: DependencyProbe[];
  version: string;
  startedAt?: number;
  healthTimeoutMs?: number;
  bodyLimitBytes?: number;
}

export const SERVICE = 'api-gateway';

/** Builds the HTTP app without listening, so tests drive it with `inject()`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Typed as Fastify's base logger so plugins and route modules share one instance type.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: deps.bodyLimitBytes ?? 1024 * 1024,
    requestIdHeader: 'x-request-id',
    trustProxy: false,
  });
  registerProblemHandlers(app);
  await app.register(
    healthRoutes({
      probes: deps.probes,
      service: SERVICE,
      version: deps.version,
      startedAt: deps.startedAt ?? Date.now(),
      timeoutMs: deps.healthTimeoutMs ?? 1500,
    }),
  );
  return app;
}
