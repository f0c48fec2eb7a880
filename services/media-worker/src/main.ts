import { tmpdir } from 'node:os';
import { loadConfig, MediaWorkerEnv } from '@wacrm/config';
import { initFirebaseFromEnv } from '@wacrm/firestore';
import { ObjectStore, objectStoreConfig } from '@wacrm/object-store';
import { bootService, connectServiceRedis, serveWorkerOps } from '@wacrm/queue';
import { firestoreMessageMedia } from './data-access/message-media.store.js';
import { reuploadRequests } from './data-access/reupload-requests.js';
import { waMediaDownloader } from './data-access/wa-media.download.js';
import { sharpThumbnail } from './domain/thumbnail.js';
import { startMediaWorker } from './entry-points/media.worker.js';
import { VERSION } from './version.js';

const SERVICE = 'media-worker';
const config = loadConfig(SERVICE, MediaWorkerEnv);
const booted = bootService(SERVICE, VERSION, config);
const { logger, shutdown } = booted;

const firebase = initFirebaseFromEnv(config);
shutdown.add('firebase', () => firebase.close());
const connection = await connectServiceRedis(booted, config.REDIS_URL);
const objects = new ObjectStore(objectStoreConfig(config));
shutdown.add('object store', () => Promise.resolve(objects.close()));

const reupload = reuploadRequests({ connection, prefix: config.QUEUE_PREFIX });
shutdown.add('reupload queues', () => reupload.close());

const worker = startMediaWorker(
  {
    messages: firestoreMessageMedia(firebase.db),
    objects,
    download: waMediaDownloader({ host: config.WA_MEDIA_HOST }),
    requestReupload: reupload.request,
    scheduleReuploadDeadline: reupload.deadline,
    reuploadTimeoutMs: config.MEDIA_REUPLOAD_TIMEOUT_MS,
    thumbnail: sharpThumbnail(config.MEDIA_THUMBNAIL_PX),
    maxBytes: config.MEDIA_MAX_BYTES,
    timeoutMs: config.MEDIA_DOWNLOAD_TIMEOUT_MS,
    tmpDir: config.MEDIA_TMP_DIR ?? tmpdir(),
    logger,
  },
  {
    connection,
    prefix: config.QUEUE_PREFIX,
    logger,
    concurrency: config.MEDIA_CONCURRENCY,
    lockDurationMs: Math.max(60_000, config.MEDIA_DOWNLOAD_TIMEOUT_MS + 30_000),
    tracerName: SERVICE,
    shutdown,
  },
);
await serveWorkerOps(config, worker, { service: SERVICE, redis: connection, logger, shutdown });
logger.info(
  {
    concurrency: config.MEDIA_CONCURRENCY,
    maxBytes: config.MEDIA_MAX_BYTES,
    bucket: config.S3_BUCKET,
  },
  'media-worker consuming media',
);
