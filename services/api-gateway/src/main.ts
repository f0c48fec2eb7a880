import { ApiGatewayEnv, loadConfig } from '@wacrm/config';
import { initFirebase } from '@wacrm/firestore';
import { createLogger, startTelemetry } from '@wacrm/observability';
import { createRedisConnection, createShutdown } from '@wacrm/queue';
import { buildApp, SERVICE } from './app.js';
import { firestoreProbe, redisProbe } from './data-access/probes.js';
import { VERSION } from './version.js';

const config = loadConfig(SERVICE, ApiGatewayEnv);
const instanceId = config.INSTANCE_ID ?? `${SERVICE}-${process.pid}`;
const logger = createLogger({
  service: SERVICE,
  version: VERSION,
  level: config.LOG_LEVEL,
  pretty: config.LOG_PRETTY,
  instanceId,
});
const telemetry = startTelemetry({
  service: SERVICE,
  version: VERSION,
  instanceId,
  ...(config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined
    ? { otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT }
    : {}),
});
const shutdown = createShutdown({ logger });
shutdown.add('telemetry', () => telemetry.shutdown());

// /health must fail fast when Redis is down, so its connection does not queue commands offline.
const healthRedis = createRedisConnection({
  url: config.REDIS_URL,
  name: `${instanceId}:health`,
  logger,
  maxRetriesPerRequest: 0,
  extra: { enableOfflineQueue: false, lazyConnect: false },
});
shutdown.add(
  'redis (health)',
  async () => void (await healthRedis.quit().catch(() => healthRedis.disconnect())),
);

const firebase = initFirebase({
  projectId: config.FIREBASE_PROJECT_ID,
  ...(config.FIRESTORE_EMULATOR_HOST !== undefined
    ? { firestoreEmulatorHost: config.FIRESTORE_EMULATOR_HOST }
    : {}),
  ...(config.FIREBASE_AUTH_EMULATOR_HOST !== undefined
    ? { authEmulatorHost: config.FIREBASE_AUTH_EMULATOR_HOST }
    : {}),
  ...(config.FIREBASE_SERVICE_ACCOUNT_JSON !== undefined
    ? { serviceAccountJson: config.FIREBASE_SERVICE_ACCOUNT_JSON }
    : {}),
  ...(config.GOOGLE_APPLICATION_CREDENTIALS !== undefined
    ? { googleApplicationCredentials: config.GOOGLE_APPLICATION_CREDENTIALS }
    : {}),
});
shutdown.add('firebase', () => firebase.close());

const app = await buildApp({
  logger,
  version: VERSION,
  probes: [redisProbe(healthRedis), firestoreProbe(firebase.db)],
  healthTimeoutMs: config.HEALTH_TIMEOUT_MS,
});
shutdown.add('http', () => app.close());

await app.listen({ port: config.PORT, host: config.HOST });
logger.info({ port: config.PORT, host: config.HOST }, 'api-gateway listening');
