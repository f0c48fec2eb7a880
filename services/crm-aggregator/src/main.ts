import { CrmAggregatorEnv, loadConfig } from '@wacrm/config';
import { initFirebaseFromEnv } from '@wacrm/firestore';
import { bootService, connectServiceRedis, RealtimePublisher, serveWorkerOps } from '@wacrm/queue';
import { redisClientLock } from './data-access/client-lock.js';
import { firestoreClientStore } from './data-access/client-store.js';
import { startCrmEventsWorker } from './entry-points/crm-events.worker.js';
import { VERSION } from './version.js';

const SERVICE = 'crm-aggregator';
const config = loadConfig(SERVICE, CrmAggregatorEnv);
const booted = bootService(SERVICE, VERSION, config);
const { logger, shutdown } = booted;

const firebase = initFirebaseFromEnv(config);
shutdown.add('firebase', () => firebase.close());

const connection = await connectServiceRedis(booted, config.REDIS_URL);

const worker = startCrmEventsWorker({
  connection,
  prefix: config.QUEUE_PREFIX,
  logger,
  store: firestoreClientStore(firebase.db),
  lock: redisClientLock(connection, { prefix: config.QUEUE_PREFIX, ttlMs: config.CRM_LOCK_TTL_MS }),
  publisher: new RealtimePublisher(connection, logger),
  concurrency: config.CRM_CONCURRENCY,
  tracerName: SERVICE,
  shutdown,
});
await serveWorkerOps(config, worker, { service: SERVICE, redis: connection, logger, shutdown });
logger.info({ concurrency: config.CRM_CONCURRENCY }, 'crm-aggregator consuming crm-events');
