import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { initFirebase } from '@wacrm/firestore';
import { ObjectStore } from '@wacrm/object-store';
import { createLogger, createMetricsRegistry } from '@wacrm/observability';
import { buildApp, SERVICE } from './app.js';
import { createAiClient } from './data-access/ai-requests.js';
import { createAuthStore } from './data-access/auth.repository.js';
import { createGatewayMetrics } from './data-access/metrics.js';
import { createQueueRegistry } from './data-access/queues.js';
import { startRealtimeHub } from './data-access/realtime.js';
import { VERSION } from './version.js';
import { createSecretBox } from './webhooks/webhook-crypto.js';
import { createWebhooksRepository } from './webhooks/webhooks.repository.js';

/**
 * The OpenAPI document GET /openapi.json serves, built from the route code without listening or
 * reaching any server: every optional route group is mounted (simulator, media, webhooks); the
 * clients are created but never used (Redis points at a closed loopback port and does not retry,
 * Firestore and S3 connect on first call, which never comes).
 * `npm run lint:openapi` lints it; libs/api-client is generated from it.
 */
export async function exportOpenApiDocument(): Promise<Record<string, unknown>> {
  const logger = createLogger({
    service: SERVICE,
    version: VERSION,
    level: 'error',
    destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
  });
  // BullMQ and the realtime hub try to connect at once: to a closed loopback port, once, quietly.
  const lazy = () => {
    const client = new Redis({
      host: '127.0.0.1',
      port: 9,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    return client;
  };
  const redis = lazy();
  const firebase = initFirebase({
    projectId: 'demo-openapi-export',
    firestoreEmulatorHost: '127.0.0.1:9',
    appName: 'openapi-export',
  });
  const queues = createQueueRegistry(lazy(), 'openapi');
  const app = await buildApp({
    logger,
    probes: [],
    version: VERSION,
    db: firebase.db,
    auth: firebase.auth,
    redis,
    queues,
    hub: startRealtimeHub({ reader: lazy(), redis, prefix: 'openapi', logger }),
    settings: {
      bodyLimitBytes: 1_048_576,
      corsOrigins: [],
      rateLimit: { max: 1, windowMs: 1000 },
      sendAdmission: { maxInFlight: 1, acceptTimeoutMs: 1000 },
      adminToken: 'openapi-export-only-0123456789',
      metricsToken: 'openapi-export-only-0123456789',
      emulatorUrl: 'http://127.0.0.1:9',
      webhookJobs: { attempts: 1, backoffMs: 1000 },
    },
    metrics: createGatewayMetrics({
      registry: createMetricsRegistry(SERVICE),
      queues,
      db: firebase.db,
      logger,
    }),
    authStore: createAuthStore(firebase.db, { onError: () => undefined }),
    webhooksRepo: createWebhooksRepository(firebase.db),
    webhookSecretBox: createSecretBox('openapi-export-only-0123456789abcdef'),
    ai: createAiClient(queues.aiRequests, lazy, 1000),
    objects: new ObjectStore({ bucket: 'openapi', region: 'us-east-1' }),
    mediaUploadMaxBytes: 1_048_576,
  });
  await app.ready();
  return app.swagger() as unknown as Record<string, unknown>;
}

/** `node dist/openapi-export.js [out.json]`: writes the document (stdout without a path). */
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1])) {
  // BullMQ reports each refused connection with console.error; nothing here needs it.
  console.error = () => undefined;
  const out = process.argv[2];
  const doc = await exportOpenApiDocument();
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (out !== undefined) writeFileSync(out, text);
  else process.stdout.write(text);
  // The lazily created clients hold nothing open worth closing; leave at once.
  process.exit(0);
}
