import { IngestEnv, loadConfig } from '@wacrm/config';
import { initFirebaseFromEnv } from '@wacrm/firestore';
import { createRedisConnection, bootService, serveWorkerOps } from '@wacrm/queue';
import { startInboundWorker } from './entry-points/inbound.worker.js';
import { buildIngestDeps } from './ingest.composition.js';
import { SERVICE, VERSION } from './version.js';

const config = loadConfig(SERVICE, IngestEnv);
const { instanceId, logger, shutdown } = bootService(SERVICE, VERSION, config);

const firebase = initFirebaseFromEnv(config);
shutdown.add('firebase', () => firebase.close());

const redis = createRedisConnection({
  url: config.REDIS_URL,
  name: `${instanceId}:ingest`,
  logger,
});
const publisher = createRedisConnection({
  url: config.REDIS_URL,
  name: `${instanceId}:realtime`,
  logger,
});
shutdown.add('redis', async () => {
  await Promise.allSettled([redis.quit(), publisher.quit()]);
});

const deps = buildIngestDeps({
  db: firebase.db,
  redis,
  publisher,
  prefix: config.QUEUE_PREFIX,
  logger,
  maxWrites: config.INGEST_BATCH_WRITES,
  lockTtlMs: config.INGEST_ACCOUNT_LOCK_TTL_MS,
  lockWaitMs: config.INGEST_ACCOUNT_LOCK_WAIT_MS,
  tracerName: SERVICE,
});
if (deps.media !== undefined) shutdown.add('media queue', () => deps.media!.queue.close());
const worker = startInboundWorker(deps, {
  connection: redis,
  prefix: config.QUEUE_PREFIX,
  concurrency: config.INGEST_CONCURRENCY,
  lockDurationMs: config.INGEST_JOB_LOCK_MS,
  stalledIntervalMs: config.INGEST_STALLED_INTERVAL_MS,
  tracerName: SERVICE,
  shutdown,
});
await serveWorkerOps(config, worker, { service: SERVICE, redis: redis, logger, shutdown });
logger.info(
  { concurrency: config.INGEST_CONCURRENCY, prefix: config.QUEUE_PREFIX },
  'ingest consuming wa-inbound',
);
