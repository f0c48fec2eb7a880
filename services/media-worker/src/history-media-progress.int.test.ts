import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaQueue, WaInboundQueue, type HistoryMediaProgress } from '@wacrm/contracts';
import { startS3Store, type S3StoreHandle } from '@wacrm/emulators';
import { collections, readHistoryMediaProgress, threadIdFor } from '@wacrm/firestore';
import { createLogger } from '@wacrm/observability';
import { localObjectStoreConfig, ObjectStore } from '@wacrm/object-store';
import { enqueue, openQueue, type ContractQueue } from '@wacrm/queue';
import {
  expectEventually,
  useTestFirestore,
  useTestRedis,
  waitForQueueIdle,
  type TestRedis,
} from '@wacrm/testing';
// The emulator's media CDN (TLS, WhatsApp's media encryption) and the real ingest worker.
import { encryptMedia } from '../../../libs/wa-emulator/src/media-crypto.js';
import { MediaServer } from '../../../libs/wa-emulator/src/media-server.js';
import { createMediaTlsIdentity } from '../../../libs/wa-emulator/src/media-tls.js';
import { startInboundWorker } from '../../ingest/src/entry-points/inbound.worker.js';
import { buildIngestDeps } from '../../ingest/src/ingest.composition.js';
import { gateway, messagesJob, raw } from '../../ingest/src/test-support/wa-fixtures.js';
import { firestoreMessageMedia } from './data-access/message-media.store.js';
import { reuploadRequests } from './data-access/reupload-requests.js';
import { waMediaDownloader } from './data-access/wa-media.download.js';
import { sharpThumbnail } from './domain/thumbnail.js';
import { startMediaWorker } from './entry-points/media.worker.js';

const firestore = useTestFirestore();
const logger = createLogger({ service: 'media-worker', version: 'test', level: 'silent' });
const ACCOUNT = 'wa-media-progress-01';
const ANA = '40711111111@s.whatsapp.net';
const THREAD = threadIdFor(ACCOUNT, ANA);
const CAP = 64 * 1024;
let redis: TestRedis;
let dir: string;
let s3: S3StoreHandle;
let cdn: MediaServer;
let objects: ObjectStore;
let inbound: ContractQueue<typeof WaInboundQueue>;
let media: ContractQueue<typeof MediaQueue>;
let reupload: ReturnType<typeof reuploadRequests>;
const workers: Worker[] = [];
let mediaWorkerStarted = false;

beforeAll(async () => {
  redis = await useTestRedis();
  dir = await mkdtemp(join(tmpdir(), 'media-progress-'));
  s3 = await startS3Store({ directory: join(dir, 's3') });
  objects = new ObjectStore(localObjectStoreConfig(s3));
  cdn = await MediaServer.start({
    logger,
    tls: createMediaTlsIdentity(),
    dataDir: undefined,
    maxFileBytes: 1024 * 1024,
    maxTotalBytes: 16 * 1024 * 1024,
    uploadAuth: 'test',
  });
  const connection = { connection: redis.connection, prefix: redis.prefix };
  inbound = openQueue(WaInboundQueue, connection);
  media = openQueue(MediaQueue, connection);
  reupload = reuploadRequests(connection);
  const ingest = buildIngestDeps({
    db: firestore.db,
    redis: redis.connection,
    publisher: redis.connection,
    prefix: redis.prefix,
    logger,
    maxWrites: 500,
    lockTtlMs: 5_000,
    lockWaitMs: 10_000,
  });
  workers.push(
    startInboundWorker(ingest, {
      ...connection,
      concurrency: 1,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
    }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await inbound?.queue.close();
  await media?.queue.close();
  await reupload?.close();
  await cdn?.stop();
  objects?.close();
  await s3?.stop();
  await redis?.cleanup();
  await firestore.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function startWorker(): void {
  if (mediaWorkerStarted) return;
  mediaWorkerStarted = true;
  workers.push(
    startMediaWorker(
      {
        messages: firestoreMessageMedia(firestore.db),
        objects,
        download: waMediaDownloader({
          host: cdn.host,
          dispatcher: new Agent({ connect: { ca: cdn.certPem } }),
        }),
        requestReupload: reupload.request,
        scheduleReuploadDeadline: reupload.deadline,
        reuploadTimeoutMs: 60_000,
        thumbnail: sharpThumbnail(320),
        maxBytes: CAP,
        timeoutMs: 10_000,
        tmpDir: dir,
        logger,
      },
      {
        connection: redis.connection,
        prefix: redis.prefix,
        logger,
        concurrency: 2,
        lockDurationMs: 30_000,
      },
    ),
  );
}

/** A PDF a contact sent, on the emulator's CDN, as a WhatsApp document message. */
async function pdfMessage(id: string, ts: number, declaredSize?: number, chat = ANA) {
  const bytes = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(2048)]);
  const enc = encryptMedia(bytes, 'document');
  const { directPath, url } = await cdn.put(enc.file);
  return raw(
    id,
    chat,
    {
      documentMessage: {
        mimetype: 'application/pdf',
        fileName: `${id}.pdf`,
        fileLength: declaredSize ?? enc.fileLength,
        directPath,
        url,
        mediaKey: enc.mediaKey.toString('base64'),
        fileSha256: enc.fileSha256.toString('base64'),
      },
    },
    { messageTimestamp: ts },
  );
}

async function progress(accountId = ACCOUNT): Promise<HistoryMediaProgress | undefined> {
  const doc = (await collections(firestore.db).accounts().doc(accountId).get()).data();
  if (doc === undefined) return undefined;
  const [p] = await readHistoryMediaProgress(firestore.db, [{ id: accountId, doc }]);
  return p;
}

async function settleIngest(): Promise<void> {
  await waitForQueueIdle(inbound.queue, { timeoutMs: 30_000 });
  expect(await inbound.queue.getFailedCount()).toBe(0);
}

describe('history media progress per account (issue 17 item 6)', () => {
  it('when a history chunk brings files, then the total is counted once, progress reaches it with a failed one, and retried jobs count nothing twice', async () => {
    const chunk = {
      ...gateway(ACCOUNT),
      source: 'history' as const,
      chunkId: 'c1',
      syncType: 2,
      progress: 100,
      isLatest: false,
      chats: [{ id: ANA, name: 'Ana', unreadCount: 0, conversationTimestamp: 400 }],
      contacts: [],
      messages: [
        await pdfMessage('H-1', 100),
        await pdfMessage('H-2', 200),
        await pdfMessage('H-3', 300),
        // Declared over the cap: `failed` without a download.
        await pdfMessage('H-BIG', 350, CAP * 4),
        raw('H-TEXT', ANA, { conversation: 'no file' }, { messageTimestamp: 360 }),
      ],
    };
    await enqueue(inbound, 'ingest-history', chunk);
    // A replayed chunk (the gateway sent it twice) adds no message and no file to the total.
    await enqueue(inbound, 'ingest-history', chunk);
    // Live media is not history: it never counts here.
    await enqueue(inbound, 'ingest-messages', messagesJob(ACCOUNT, [await pdfMessage('L-1', 500)]));
    await settleIngest();
    expect(await progress()).toEqual({ total: 4, stored: 0, pending: 4, failed: 0, expired: 0 });

    startWorker();
    await expectEventually(
      async () =>
        expect(await progress()).toEqual({
          total: 4,
          stored: 3,
          pending: 0,
          failed: 1,
          expired: 0,
        }),
      { timeoutMs: 30_000 },
    );
    await waitForQueueIdle(media.queue, { timeoutMs: 30_000 });
    const live = await collections(firestore.db).messages(THREAD).doc('L-1').get();
    expect(live.data()?.media?.status).toBe('stored');

    // The same jobs again (a retry after a lost acknowledgement, a redrive from the dashboard):
    // the failed one fails again and the stored ones are already stored; nothing moves.
    for (const id of ['H-BIG', 'H-1', 'H-2']) {
      await media.queue.add(
        'store-media',
        { accountId: ACCOUNT, threadId: THREAD, messageId: id, source: 'history' },
        { jobId: `retry-${id}` },
      );
    }
    await waitForQueueIdle(media.queue, { timeoutMs: 30_000 });
    expect(await media.queue.getFailedCount()).toBe(0);
    expect(await progress()).toEqual({ total: 4, stored: 3, pending: 0, failed: 1, expired: 0 });
    const big = await collections(firestore.db).messages(THREAD).doc('H-BIG').get();
    expect(big.data()?.media).toMatchObject({ status: 'failed' });
  }, 90_000);

  it('when a LID thread whose history files are still pending is merged into the phone thread, then the copies are kept there too and counted in the total', async () => {
    const account = 'wa-media-progress-02';
    const lid = '99887766554433@lid';
    const phoneThread = threadIdFor(account, ANA);
    // The media worker is held back: the mapping comes while both files are still pending.
    await media.queue.pause();
    await enqueue(inbound, 'ingest-history', {
      ...gateway(account),
      source: 'history' as const,
      chunkId: 'lid-1',
      syncType: 2,
      progress: 100,
      isLatest: false,
      chats: [{ id: lid, name: null, unreadCount: 0, conversationTimestamp: 200 }],
      contacts: [],
      messages: [
        await pdfMessage('M-1', 100, undefined, lid),
        await pdfMessage('M-2', 200, undefined, lid),
      ],
    });
    await settleIngest();
    await enqueue(inbound, 'map-identities', { ...gateway(account), mappings: [{ lid, pn: ANA }] });
    await settleIngest();
    const copies = collections(firestore.db).messages(phoneThread);
    expect((await copies.get()).docs.map((d) => d.id).sort()).toEqual(['M-1', 'M-2']);
    // The LID originals and the phone thread's copies: four files to keep, none ended yet.
    expect(await progress(account)).toEqual({
      total: 4,
      stored: 0,
      pending: 4,
      failed: 0,
      expired: 0,
    });

    await media.queue.resume();
    startWorker();
    await expectEventually(
      async () =>
        expect(await progress(account)).toEqual({
          total: 4,
          stored: 4,
          pending: 0,
          failed: 0,
          expired: 0,
        }),
      { timeoutMs: 30_000 },
    );
    for (const id of ['M-1', 'M-2']) {
      const copy = (await copies.doc(id).get()).data();
      expect(copy?.media?.status, id).toBe('stored');
      expect(copy?.media?.storageKey, id).toEqual(expect.any(String));
    }
  }, 90_000);
});
