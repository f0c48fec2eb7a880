import { hostname } from 'node:os';
import { createLogger, startTelemetry, type Logger, type Telemetry } from '@wacrm/observability';
import type { Redis } from 'ioredis';
import { createRedisConnection } from './redis-connection.js';
import { createShutdown, type ShutdownRegistry } from './shutdown.js';

/** The settings every process boots from (BaseEnv in libs/config). */
export interface BootConfig {
  INSTANCE_ID?: string | undefined;
  LOG_LEVEL: string;
  LOG_PRETTY: boolean;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
}

export interface BootedService {
  instanceId: string;
  logger: Logger;
  telemetry: Telemetry;
  /** Graceful shutdown on SIGTERM/SIGINT; telemetry is flushed last. */
  shutdown: ShutdownRegistry;
}

/**
 * The first steps of every composition root: instance id, the one root logger, telemetry and
 * graceful shutdown. Clients (Redis, Firestore) and workers are added by the service itself.
 */
export function bootService(service: string, version: string, config: BootConfig): BootedService {
  // Host and pid: unique across machines and restarts unless INSTANCE_ID pins it.
  const instanceId = config.INSTANCE_ID ?? `${service}-${hostname()}-${process.pid}`;
  const logger = createLogger({
    service,
    version,
    level: config.LOG_LEVEL,
    pretty: config.LOG_PRETTY,
    instanceId,
  });
  const telemetry = startTelemetry({
    service,
    version,
    instanceId,
    ...(config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined
      ? { otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT }
      : {}),
  });
  const shutdown = createShutdown({ logger });
  shutdown.add('telemetry', () => telemetry.shutdown());
  return { instanceId, logger, telemetry, shutdown };
}

/**
 * A worker process's Redis connection, named `<instance>:<role>` (visible in CLIENT LIST) and
 * closed on shutdown. Resolves once Redis answers, so a cold start logs one clear line instead
 * of a storm of job errors.
 */
export async function connectServiceRedis(
  booted: Pick<BootedService, 'instanceId' | 'logger' | 'shutdown'>,
  url: string,
  role = 'worker',
): Promise<Redis> {
  const connection = createRedisConnection({
    url,
    name: `${booted.instanceId}:${role}`,
    logger: booted.logger,
  });
  booted.shutdown.add(
    'redis',
    async () => void (await connection.quit().catch(() => connection.disconnect())),
  );
  await connection.ping();
  return connection;
}
