import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Auth } from 'firebase-admin/auth';
import type { Firestore } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import type { ApiGatewayEnv } from '@wacrm/config';
import { ObjectStore, objectStoreConfig } from '@wacrm/object-store';
import { parseOutboundPolicy } from '@wacrm/net';
import { createMetricsRegistry, type Logger } from '@wacrm/observability';
import { createRedisConnection } from '@wacrm/queue';
import { buildApp, SERVICE, type GatewaySettings } from './app.js';
import { listAccounts } from './data-access/accounts.repository.js';
import { createAiClient } from './data-access/ai-requests.js';
import { createAuthStore } from './data-access/auth.repository.js';
import { createGatewayMetrics } from './data-access/metrics.js';
import { firestoreProbe, redisProbe } from './data-access/probes.js';
import { createQueueRegistry } from './data-access/queues.js';
import { startRealtimeHub, startRealtimeRelay } from './data-access/realtime.js';
import { createWebhooksRepository } from './webhooks/webhooks.repository.js';
import { createSecretBox } from './webhooks/webhook-crypto.js';
import { startWebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { startWebhookWorker } from './webhooks/webhook-delivery.worker.js';

/** Object storage of media (libs/object-store `objectStoreConfig` reads the `S3_*` settings). */
type MediaStorageConfig = Pick<
  ApiGatewayEnv,
  | 'S3_BUCKET'
  | 'S3_REGION'
  | 'S3_FORCE_PATH_STYLE'
  | 'S3_ENDPOINT'
  | 'S3_ACCESS_KEY_ID'
  | 'S3_SECRET_ACCESS_KEY'
  | 'MEDIA_UPLOAD_MAX_BYTES'
>;

export type GatewayConfig = MediaStorageConfig &
  Pick<
    ApiGatewayEnv,
    | 'REDIS_URL'
    | 'QUEUE_PREFIX'
    | 'HEALTH_TIMEOUT_MS'
    | 'ADMIN_TOKEN'
    | 'WA_EMULATOR_URL'
    | 'CORS_ORIGINS'
    | 'BODY_LIMIT_BYTES'
    | 'RATE_LIMIT_MAX'
    | 'RATE_LIMIT_WINDOW_MS'
    | 'SEND_MAX_IN_FLIGHT'
    | 'SEND_ACCEPT_TIMEOUT_MS'
    | 'AUTH_FAILURES_MAX'
    | 'AUTH_FAILURES_WINDOW_MS'
    | 'METRICS_TOKEN'
    | 'WEBHOOK_SECRET_KEY'
    | 'WEBHOOK_MAX_ATTEMPTS'
    | 'WEBHOOK_BACKOFF_MS'
    | 'WEBHOOK_TIMEOUT_MS'
    | 'OUTBOUND_ALLOW_HOSTS'
    | 'WEBHOOK_WORKER'
    | 'AI_REQUEST_TIMEOUT_MS'
    | 'REALTIME_STREAM_MAXLEN'
    | 'FIREBASE_PROJECT_ID'
    | 'FIREBASE_AUTH_EMULATOR_HOST'
    | 'FIREBASE_WEB_API_KEY'
    | 'FIREBASE_AUTH_DOMAIN'
  > &
  Partial<Pick<ApiGatewayEnv, 'WEBHOOK_EVENTS_RETENTION_DAYS'>>;

/** services/web/dist, from this file in services/api-gateway/{src,dist}. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

function firebaseWeb(config: GatewayConfig): GatewaySettings['firebaseWeb'] {
  if (config.FIREBASE_AUTH_EMULATOR_HOST !== undefined) {
    // The emulator accepts any API key.
    return {
      apiKey: config.FIREBASE_WEB_API_KEY ?? 'emulator-api-key',
      authDomain: config.FIREBASE_AUTH_DOMAIN ?? null,
      projectId: config.FIREBASE_PROJECT_ID,
      emulatorUrl: `http://${config.FIREBASE_AUTH_EMULATOR_HOST}`,
    };
  }
  if (config.FIREBASE_WEB_API_KEY === undefined) return undefined;
  return {
    apiKey: config.FIREBASE_WEB_API_KEY,
    authDomain: config.FIREBASE_AUTH_DOMAIN ?? null,
    projectId: config.FIREBASE_PROJECT_ID,
    emulatorUrl: null,
  };
}

export interface Gateway {
  app: FastifyInstance;
  /** Stops taking requests, lets running webhook deliveries finish, closes connections. */
  close(): Promise<void>;
}

export function settingsFrom(config: GatewayConfig): GatewaySettings {
  const web = firebaseWeb(config);
  return {
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    corsOrigins: config.CORS_ORIGINS,
    rateLimit: { max: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW_MS },
    sendAdmission: {
      maxInFlight: config.SEND_MAX_IN_FLIGHT,
      acceptTimeoutMs: config.SEND_ACCEPT_TIMEOUT_MS,
    },
    failedAuthLimit: { max: config.AUTH_FAILURES_MAX, windowMs: config.AUTH_FAILURES_WINDOW_MS },
    webhookJobs: { attempts: config.WEBHOOK_MAX_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS },
    webRoot: DEFAULT_WEB_ROOT,
    ...(config.ADMIN_TOKEN !== undefined ? { adminToken: config.ADMIN_TOKEN } : {}),
    ...(config.METRICS_TOKEN !== undefined ? { metricsToken: config.METRICS_TOKEN } : {}),
    ...(web !== undefined ? { firebaseWeb: web } : {}),
    ...(config.WA_EMULATOR_URL !== undefined ? { emulatorUrl: config.WA_EMULATOR_URL } : {}),
  };
}

/**
 * The api-gateway's composition root: builds every client once (Redis connections, queues,
 * metrics, repositories, the AI client, object storage, the webhook secret box) and passes them
 * to `buildApp(deps)`, which builds none; also runs the realtime relay and hub, the webhook
 * dispatcher and (unless WEBHOOK_WORKER=false) the webhook delivery worker.
 */
export async function startGateway(options: {
  config: GatewayConfig;
  logger: Logger;
  instanceId: string;
  version: string;
  db: Firestore;
  auth: Auth;
  /** Overrides where the built web client is read from (tests). */
  webRoot?: string;
}): Promise<Gateway> {
  const { config, logger, instanceId } = options;
  const settings = settingsFrom(config);
  if (options.webRoot !== undefined) settings.webRoot = options.webRoot;
  const connections: Redis[] = [];
  const connect = (role: string, maxRetriesPerRequest: number | null, extra = {}) => {
    const connection = createRedisConnection({
      url: config.REDIS_URL,
      name: `${instanceId}:${role}`,
      logger,
      maxRetriesPerRequest,
      extra,
    });
    connections.push(connection);
    return connection;
  };
  // /health must fail fast when Redis is down, so its connection does not queue commands offline.
  const healthRedis = connect('health', 0, { enableOfflineQueue: false });
  const redis = connect('commands', 2);
  const queueConnection = connect('queues', null);
  const queues = createQueueRegistry(queueConnection, config.QUEUE_PREFIX);
  const metrics = createGatewayMetrics({
    registry: createMetricsRegistry(SERVICE),
    queues,
    db: options.db,
    logger,
  });
  const webhooksRepo = createWebhooksRepository(options.db);
  const hub = startRealtimeHub({
    reader: connect('realtime-reader', null),
    redis,
    prefix: config.QUEUE_PREFIX,
    logger,
  });
  const relay = await startRealtimeRelay({
    subscriber: connect('realtime-subscriber', null),
    redis,
    prefix: config.QUEUE_PREFIX,
    maxLen: config.REALTIME_STREAM_MAXLEN,
    logger,
    sendLatency: metrics.sendLatency,
  });
  const secretBox =
    config.WEBHOOK_SECRET_KEY !== undefined
      ? createSecretBox(config.WEBHOOK_SECRET_KEY)
      : undefined;
  const dispatcher =
    secretBox !== undefined
      ? await startWebhookDispatcher({
          reader: connect('webhook-dispatcher', null),
          prefix: config.QUEUE_PREFIX,
          consumer: instanceId,
          repo: webhooksRepo,
          queues,
          jobs: settings.webhookJobs,
          logger,
          retention: {
            db: options.db,
            ms: (config.WEBHOOK_EVENTS_RETENTION_DAYS ?? 30) * 24 * 3600 * 1000,
          },
        })
      : undefined;
  if (secretBox === undefined) {
    logger.warn('WEBHOOK_SECRET_KEY is not set: webhooks are disabled');
  }
  const worker =
    secretBox !== undefined && config.WEBHOOK_WORKER
      ? startWebhookWorker({
          connection: connect('webhook-worker', null),
          prefix: config.QUEUE_PREFIX,
          logger,
          repo: webhooksRepo,
          secretBox,
          metrics,
          timeoutMs: config.WEBHOOK_TIMEOUT_MS,
          policy: parseOutboundPolicy(config.OUTBOUND_ALLOW_HOSTS),
        })
      : undefined;

  const ai = createAiClient(
    queues.aiRequests,
    () => connect('queue-events', null),
    config.AI_REQUEST_TIMEOUT_MS,
  );
  const app = await buildApp({
    logger,
    version: options.version,
    probes: [redisProbe(healthRedis), firestoreProbe(options.db)],
    healthTimeoutMs: config.HEALTH_TIMEOUT_MS,
    db: options.db,
    auth: options.auth,
    redis,
    queues,
    hub,
    settings,
    metrics,
    authStore: createAuthStore(options.db, {
      onError: (error) => logger.warn({ err: error }, 'could not record API key use'),
    }),
    webhooksRepo,
    webhookSecretBox: secretBox,
    ai,
    objects: new ObjectStore(objectStoreConfig(config)),
    mediaUploadMaxBytes: config.MEDIA_UPLOAD_MAX_BYTES,
  });

  // Existing accounts' command queues show on the dashboard, /metrics and bull-board at once.
  listAccounts(options.db)
    .then((accounts) => accounts.forEach(({ id }) => queues.commands(id)))
    .catch((error: unknown) =>
      logger.warn({ err: error }, 'could not list accounts at start (Firestore)'),
    );

  let closing: Promise<void> | undefined;
  return {
    app,
    close: () =>
      (closing ??= (async () => {
        // Each step is bounded: after a Redis outage a blocked reader can hang on close, and a
        // shutdown must still finish. The log names the step that did not.
        const step = async (name: string, task: () => Promise<unknown>): Promise<void> => {
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), 5_000);
          });
          const outcome = await Promise.race([task().then(() => 'done' as const), timeout]);
          clearTimeout(timer);
          if (outcome === 'timeout')
            logger.warn({ step: name }, 'close step did not finish in 5 s; going on');
        };
        await step('http', () => app.close());
        await step('ai requests', () => ai.close());
        await step('webhook worker', async () => worker?.close());
        await step('webhook dispatcher', async () => dispatcher?.close());
        await step('realtime relay', () => relay.close());
        await step('realtime hub', () => hub.close());
        await step('queues', () => queues.close());
        await Promise.all(
          connections.map((c) =>
            c.quit().then(
              () => undefined,
              () => c.disconnect(),
            ),
          ),
        );
      })()),
  };
}
