import type { Worker } from 'bullmq';
import { Gauge } from 'prom-client';
import { loadConfig, WaGatewayEnv } from '@wacrm/config';
import { WaInboundQueue } from '@wacrm/contracts';
import { initFirebaseFromEnv } from '@wacrm/firestore';
import { ObjectStore, objectStoreConfig } from '@wacrm/object-store';
import { createMetricsRegistry } from '@wacrm/observability';
import { parseOutboundPolicy } from '@wacrm/net';
import { createRedisConnection, bootService, openQueue } from '@wacrm/queue';
import { listAccountIds, subscribeAccounts } from './data-access/account-discovery.js';
import { AccountStatusWriter } from './data-access/account-status.js';
import {
  DiskAuthStateStore,
  FirestoreAuthStateStore,
  type AuthStateStore,
} from './data-access/auth-state.store.js';
import { historyAnchors } from './data-access/history-anchors.js';
import { sentMessageReader } from './data-access/sent-messages.js';
import { mediaReupload as mediaReuploadDeps } from './data-access/media-reupload.js';
import { uploadedMediaReader } from './data-access/uploaded-media.js';
import { mediaFetcher } from './data-access/media-fetcher.js';
import { versionFetchPolicy, WaWebVersionSource } from './data-access/wa-web-version.js';
import { InboundPublisher } from './data-access/inbound-publisher.js';
import { LeaseStore } from './data-access/lease.store.js';
import { Spool } from './data-access/spool.js';
import { AccountSession } from './domain/account-session.js';
import { AuthCipher, parseAuthStateKey } from './domain/auth-cipher.js';
import { Ownership } from './domain/ownership.js';
import { baileysDriver, certificateRoot } from './drivers/baileys.driver.js';
import { mediaHostOverride } from './drivers/media-host-override.js';
import { startCommandWorker } from './entry-points/commands.worker.js';
import { createHealthServer, listen } from './entry-points/health.server.js';
import { SERVICE, VERSION } from './version.js';

const config = loadConfig(SERVICE, WaGatewayEnv);
const { instanceId, logger, shutdown } = bootService(SERVICE, VERSION, config);
// The WhatsApp network emulator's preload swaps Baileys' certificate root for a test root whose
// private key is published: a production process that trusted it could be impersonated.
const whatsappRoot = certificateRoot();
if (whatsappRoot !== 'whatsapp' && config.NODE_ENV === 'production') {
  logger.fatal(
    'the WhatsApp network emulator preload is loaded (NODE_OPTIONS); refused with NODE_ENV=production',
  );
  process.exit(78);
}

const closeRedis = (r: ReturnType<typeof createRedisConnection>) => async () =>
  void (await r.quit().catch(() => r.disconnect()));
// Workers block on Redis; leases and the producer must fail fast instead of queueing offline.
const workerRedis = createRedisConnection({
  url: config.REDIS_URL,
  name: `${instanceId}:workers`,
  logger,
});
const leaseRedis = createRedisConnection({
  url: config.REDIS_URL,
  name: `${instanceId}:leases`,
  logger,
  maxRetriesPerRequest: 1,
  extra: { enableOfflineQueue: false },
});
const producerRedis = createRedisConnection({
  url: config.REDIS_URL,
  name: `${instanceId}:producer`,
  logger,
  maxRetriesPerRequest: 1,
  extra: { enableOfflineQueue: false },
});
const subscriberRedis = createRedisConnection({
  url: config.REDIS_URL,
  name: `${instanceId}:accounts`,
  logger,
});
shutdown.add('redis (workers)', closeRedis(workerRedis));
shutdown.add('redis (leases)', closeRedis(leaseRedis));
shutdown.add('redis (producer)', closeRedis(producerRedis));
shutdown.add('redis (accounts channel)', closeRedis(subscriberRedis));

const firebase = initFirebaseFromEnv(config);
shutdown.add('firebase', () => firebase.close());

// The config schema makes AUTH_STATE_KEY required; the key itself is never logged.
const cipher = new AuthCipher(parseAuthStateKey(config.AUTH_STATE_KEY ?? ''));
const store: AuthStateStore =
  config.AUTH_STATE_STORE === 'disk'
    ? new DiskAuthStateStore(config.SESSIONS_PATH, cipher)
    : new FirestoreAuthStateStore(firebase.db, cipher, instanceId);

const spool = new Spool({
  dir: config.WA_SPOOL_DIR,
  instanceId,
  orphanAfterMs: config.WA_SPOOL_ORPHAN_AFTER_MS,
});
await spool.open();
shutdown.add('spool', () => spool.close());
const inbound = openQueue(WaInboundQueue, {
  connection: producerRedis,
  prefix: config.QUEUE_PREFIX,
  // Each job carries the trace of the socket event or command that produced it.
  tracerName: SERVICE,
});
shutdown.add('wa-inbound queue', () => inbound.queue.close());
const publisher = new InboundPublisher(inbound, producerRedis, spool, logger);
publisher.start();
shutdown.add('spool replay', () => Promise.resolve(publisher.stop()));

// Only against the WhatsApp network emulator (refused in production by the config schema).
const mediaOverride =
  config.WA_MEDIA_HOST_OVERRIDE !== undefined
    ? mediaHostOverride(config.WA_MEDIA_HOST_OVERRIDE)
    : undefined;
if (mediaOverride !== undefined) shutdown.add('media host override', mediaOverride.close);
const driver = baileysDriver({
  connectTimeoutMs: config.WA_CONNECT_TIMEOUT_MS,
  ...(config.WA_WEBSOCKET_URL !== undefined ? { waWebSocketUrl: config.WA_WEBSOCKET_URL } : {}),
  ...(mediaOverride !== undefined ? { media: { options: mediaOverride.options } } : {}),
});
const leases = new LeaseStore(leaseRedis, config.QUEUE_PREFIX, instanceId, config.WA_LEASE_TTL_MS);
const statusWriter = config.WA_WRITE_ACCOUNT_STATUS
  ? new AccountStatusWriter(firebase.db, logger)
  : null;
const workers = new Map<AccountSession, Worker>();
const fetchMedia = mediaFetcher({
  policy: parseOutboundPolicy(config.OUTBOUND_ALLOW_HOSTS),
  maxBytes: config.MEDIA_FETCH_MAX_BYTES,
  timeoutMs: config.MEDIA_FETCH_TIMEOUT_MS,
});
const webVersion = new WaWebVersionSource({
  ...(config.WHATSAPP_WEB_VERSION !== undefined ? { override: config.WHATSAPP_WEB_VERSION } : {}),
  url: config.WHATSAPP_WEB_VERSION_URL,
  policy: versionFetchPolicy(config.WHATSAPP_WEB_VERSION_URL, config.OUTBOUND_ALLOW_HOSTS),
  redis: producerRedis,
  prefix: config.QUEUE_PREFIX,
  logger,
});
// Before any socket opens: the version WhatsApp accepts today, else the last one known.
await webVersion.refresh();

const objects = new ObjectStore(objectStoreConfig(config));
shutdown.add('object store', () => Promise.resolve(objects.close()));
const readUpload = uploadedMediaReader({
  db: firebase.db,
  objects,
  maxBytes: config.MEDIA_FETCH_MAX_BYTES,
});
const mediaReupload = mediaReuploadDeps({
  db: firebase.db,
  connection: producerRedis,
  prefix: config.QUEUE_PREFIX,
});
shutdown.add('media queue', () => mediaReupload.close());

const ownership = new Ownership({
  leases,
  logger,
  slack: config.WA_FAIR_SHARE_SLACK,
  maxStartupConcurrency: config.WA_MAX_STARTUP_CONCURRENCY,
  createSession: (accountId, lease, onLost) =>
    new AccountSession(
      accountId,
      lease,
      {
        driver,
        store,
        leases,
        publisher,
        statusWriter,
        instanceId,
        logger,
        syncFullHistory: config.WHATSAPP_SYNC_FULL_HISTORY,
        backoffBaseMs: config.WA_RECONNECT_BASE_MS,
        backoffMaxMs: config.WA_RECONNECT_MAX_MS,
        fetchMedia,
        historyAnchors: (id, threads) =>
          historyAnchors(firebase.db, id, Math.min(threads, config.WHATSAPP_BACKFILL_THREADS)),
        sentMessage: sentMessageReader(firebase.db),
        webVersion,
        mediaReupload,
        readUpload,
      },
      onLost,
    ),
  onSessionStarted: (session) => {
    workers.set(
      session,
      startCommandWorker(session, {
        connection: workerRedis,
        prefix: config.QUEUE_PREFIX,
        logger,
        publisher,
        instanceId,
      }),
    );
  },
  onSessionEnded: async (session) => {
    const worker = workers.get(session);
    workers.delete(session);
    await worker?.close();
  },
});

const metrics = createMetricsRegistry(SERVICE);
new Gauge({
  name: 'wa_gateway_owned_accounts',
  help: 'Accounts whose lease this instance holds',
  registers: [metrics],
  collect() {
    this.set(ownership.sessions.size);
  },
});
new Gauge({
  name: 'wa_gateway_connected_accounts',
  help: 'Owned accounts with an open socket',
  registers: [metrics],
  collect() {
    this.set([...ownership.sessions.values()].filter((s) => s.connected).length);
  },
});
new Gauge({
  name: 'wa_gateway_spool_backlog',
  help: 'Events spooled to disk and not yet on wa-inbound',
  registers: [metrics],
  collect() {
    this.set(publisher.backlog);
  },
});

const health = createHealthServer({
  redis: leaseRedis,
  store,
  ownership,
  publisher,
  metrics,
  instanceId,
  version: VERSION,
  timeoutMs: 1_500,
});
const healthPort = await listen(
  health,
  config.WA_GATEWAY_HEALTH_PORT,
  config.WA_GATEWAY_HEALTH_HOST,
);
shutdown.add('health', () => new Promise((resolve) => health.close(resolve)));

// Discovery: the Firestore list (periodic, jittered) plus the channel for immediate pick-up.
let discoveryTimer: NodeJS.Timeout | undefined;
const discover = async () => {
  try {
    if (ownership.addAccounts(await listAccountIds(firebase.db))) void ownership.tick();
  } catch (error) {
    logger.warn({ err: error }, 'account discovery failed (Firestore); retrying');
  }
  const jitter = Math.floor(Math.random() * config.WA_DISCOVERY_INTERVAL_MS * 0.2);
  discoveryTimer = setTimeout(() => void discover(), config.WA_DISCOVERY_INTERVAL_MS + jitter);
};
await subscribeAccounts(subscriberRedis, logger, (accountId) => {
  if (ownership.addAccounts([accountId])) void ownership.tick();
}).catch((error: unknown) =>
  logger.warn({ err: error }, 'accounts channel unavailable; relying on periodic discovery'),
);
await discover();
ownership.start(Math.min(1_000, Math.floor(config.WA_LEASE_TTL_MS / 3)));
// Registered last, so it runs first on SIGTERM: accounts are handed off before connections close.
shutdown.add('ownership (hand-off)', async () => {
  clearTimeout(discoveryTimer);
  await ownership.stop();
});
logger.info(
  {
    healthPort,
    driver: driver.name,
    whatsappRoot,
    mediaHostOverride: config.WA_MEDIA_HOST_OVERRIDE ?? null,
    store: store.kind,
    leaseTtlMs: config.WA_LEASE_TTL_MS,
  },
  'wa-gateway started',
);
