/**
 * `npm run bench:media`: a burst of inbound images through the media worker — 1,000 JPEG photos
 * (800×600) of 30 accounts, WhatsApp-encrypted (Baileys' encryptedStream) and served over HTTPS
 * like WhatsApp's CDN; each message in Firestore with its media key and direct path, one
 * `store-media` job each on the media queue. The worker downloads and decrypts with Baileys,
 * checks the SHA-256, sniffs, thumbnails (sharp), stores in s3rver content-addressed and records
 * the outcome. 10 % of the photos are the same bytes another account got: stored once.
 *
 * Baseline from the same run: the same number of jobs for messages without media (queue,
 * Firestore read, no file), so the difference is the cost of keeping a file. CPU is this
 * process's (worker, s3rver and the Firestore emulator all run here), per image.
 *
 * Then the whole inbound path: the real ingest worker and the media worker running together, fed
 * a burst of 1,000 `ingest-messages` jobs on wa-inbound (one live message each, as the gateway
 * adds them) — first 1,000 text messages (the baseline), then 1,000 other photos whose messages
 * ingest stores and hands to the media worker. Ingest's lag is the time from a job's add to its
 * message document's creation in Firestore (p50/p99/max); the media completion time runs from
 * the burst's first add to the last file stored.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import { mkdtemp } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptedStream } from '@whiskeysockets/baileys';
import type { Job } from 'bullmq';
import sharp from 'sharp';
import { Agent } from 'undici';
import { loadavg } from 'node:os';
import {
  MediaQueue,
  WaInboundQueue,
  type IngestMessagesJob,
  type MediaRef,
  type MessageDoc,
  type WaRawMessage,
} from '@wacrm/contracts';
import { startFirestoreEmulator, startRedisServer, startS3Store } from '@wacrm/emulators';
import { collections, initFirebase, threadIdFor } from '@wacrm/firestore';
import { localObjectStoreConfig, ObjectStore } from '@wacrm/object-store';
import { createLogger } from '@wacrm/observability';
import { createRedisConnection, jobIdFrom, openQueue } from '@wacrm/queue';
import { createMediaTlsIdentity } from '@wacrm/wa-emulator';
import { firestoreMessageMedia } from '../src/data-access/message-media.store.js';
import { waMediaDownloader } from '../src/data-access/wa-media.download.js';
import { sharpThumbnail } from '../src/domain/thumbnail.js';
import { startMediaWorker } from '../src/entry-points/media.worker.js';
import { startInboundWorker } from '../../ingest/src/entry-points/inbound.worker.js';
import { buildIngestDeps } from '../../ingest/src/ingest.composition.js';

const IMAGES = Number(process.argv[2] ?? 1_000);
const ACCOUNTS = 30;
const CONCURRENCY = Number(process.argv[3] ?? 4);
/** Ingest's default (`INGEST_CONCURRENCY`). */
const INGEST_CONCURRENCY = 8;
const logger = createLogger({ service: 'bench-media', version: '0', level: 'warn' });

async function photo(i: number): Promise<Buffer> {
  // A gradient with a per-image tint and a little noise: photo-sized, not incompressible.
  const width = 800;
  const height = 600;
  const raw = Buffer.alloc(width * height * 3);
  const tint = randomBytes(3);
  for (let p = 0; p < width * height; p += 1) {
    const x = p % width;
    const y = Math.floor(p / width);
    raw[p * 3] = (x + tint[0]! + i) & 0xff;
    raw[p * 3 + 1] = (y + tint[1]!) & 0xff;
    raw[p * 3 + 2] = (x + y + tint[2]! + (p % 7)) & 0xff;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

function messageDoc(
  accountId: string,
  threadId: string,
  id: string,
  media: MediaRef | null,
): MessageDoc {
  const at = new Date();
  return {
    accountId,
    threadId,
    direction: 'inbound',
    body: media === null ? 'text' : null,
    type: media === null ? 'text' : 'image',
    media,
    tsClient: at,
    tsServer: null,
    status: 'received',
    waKey: { id, remoteJid: threadId.split('__')[1]!, fromMe: false, participant: null },
    requestId: null,
    source: 'live',
    participant: null,
    senderName: null,
    quotedMessageId: null,
    deleted: false,
    editedBody: null,
    reactions: {},
    location: null,
    createdAt: at,
    updatedAt: at,
  };
}

/** Nearest-rank percentile of ascending `sorted`. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const accountOf = (i: number) => `wa-bench${String(i % ACCOUNTS).padStart(2, '0')}`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-media-'));
  const firestore = await startFirestoreEmulator({ port: 0 });
  const firebase = initFirebase({
    projectId: 'bench-media',
    firestoreEmulatorHost: firestore.host,
  });
  const redisServer = await startRedisServer({});
  const redis = createRedisConnection({ url: redisServer.url, name: 'bench', logger });
  const publisher = createRedisConnection({ url: redisServer.url, name: 'bench-pub', logger });
  const s3 = await startS3Store({ directory: join(dir, 's3') });
  const objects = new ObjectStore(localObjectStoreConfig(s3));

  // The CDN: encrypted files by direct path, over TLS with a certificate of its own.
  process.stdout.write(`encrypting ${IMAGES} photos twice (worker only; ingest and worker)…\n`);
  const tls = createMediaTlsIdentity();
  const files = new Map<string, Buffer>();
  const cdn = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const file = files.get(req.url ?? '');
    if (file === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': String(file.length) }).end(file);
  });
  await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', () => r()));
  const host = `127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  const unique = Math.ceil(IMAGES * 0.9);
  /** `IMAGES` photos, 10 % of them the bytes of another, each encrypted and put on the CDN. */
  const burst = async (seed: number) => {
    const photos: Buffer[] = [];
    for (let i = 0; i < unique; i += 1) photos.push(await photo(seed + i));
    const out: Array<{ data: Buffer; directPath: string; mediaKey: string; fileSha256: string }> =
      [];
    for (let i = 0; i < IMAGES; i += 1) {
      const data = photos[i < unique ? i : i - unique]!;
      const enc = await encryptedStream(data, 'image');
      const directPath = `/v/t62.7118-24/${randomBytes(16).toString('hex')}.enc`;
      files.set(directPath, await readFile(enc.encFilePath));
      await rm(enc.encFilePath, { force: true });
      out.push({
        data,
        directPath,
        mediaKey: Buffer.from(enc.mediaKey).toString('base64'),
        fileSha256: Buffer.from(enc.fileSha256).toString('base64'),
      });
    }
    return out;
  };
  const db = firebase.db;
  const c = collections(db);
  const jobs: Array<{ accountId: string; threadId: string; messageId: string }> = [];
  let bytes = 0;
  let writes = db.batch();
  const workerPhotos = await burst(0);
  for (let i = 0; i < IMAGES; i += 1) {
    const { data, directPath, mediaKey, fileSha256 } = workerPhotos[i]!;
    bytes += data.length;
    const accountId = accountOf(i);
    const threadId = `${accountId}__4072200${String(i % 97).padStart(4, '0')}@s.whatsapp.net`;
    const messageId = `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
    const media: MediaRef = {
      kind: 'image',
      mimetype: 'image/jpeg',
      size: data.length,
      fileName: null,
      caption: null,
      directPath,
      url: null,
      mediaKeyBase64: mediaKey,
      fileSha256Base64: fileSha256,
      seconds: null,
      width: 800,
      height: 600,
      status: 'pending',
    };
    writes.set(
      c.messages(threadId).doc(messageId),
      messageDoc(accountId, threadId, messageId, media),
    );
    jobs.push({ accountId, threadId, messageId });
    if ((i + 1) % 400 === 0) {
      await writes.commit();
      writes = db.batch();
    }
  }
  await writes.commit();
  // The baseline's messages: the same count, no media.
  const textJobs: typeof jobs = [];
  writes = db.batch();
  for (let i = 0; i < IMAGES; i += 1) {
    const accountId = accountOf(i);
    const threadId = `${accountId}__4072300${String(i % 97).padStart(4, '0')}@s.whatsapp.net`;
    const messageId = `3EB1${randomBytes(8).toString('hex').toUpperCase()}`;
    writes.set(
      c.messages(threadId).doc(messageId),
      messageDoc(accountId, threadId, messageId, null),
    );
    textJobs.push({ accountId, threadId, messageId });
    if ((i + 1) % 400 === 0) {
      await writes.commit();
      writes = db.batch();
    }
  }
  await writes.commit();
  // Photos the store has not seen yet, for the ingest burst (content-addressed: the first set's
  // files would be kept already).
  const ingestPhotos = await burst(IMAGES);

  const media = openQueue(MediaQueue, { connection: redis, prefix: '{bench}' });
  const startMedia = () =>
    startMediaWorker(
      {
        messages: firestoreMessageMedia(db),
        objects,
        download: waMediaDownloader({
          host,
          dispatcher: new Agent({ connect: { ca: tls.certPem } }),
        }),
        requestReupload: () => Promise.reject(new Error('no re-uploads in this bench')),
        scheduleReuploadDeadline: () => Promise.reject(new Error('no re-uploads in this bench')),
        reuploadTimeoutMs: 60_000,
        thumbnail: sharpThumbnail(320),
        maxBytes: 16 * 1024 * 1024,
        timeoutMs: 60_000,
        tmpDir: dir,
        logger,
      },
      {
        connection: redis,
        prefix: '{bench}',
        logger,
        concurrency: CONCURRENCY,
        lockDurationMs: 120_000,
      },
    );
  const run = async (list: typeof jobs, label: string) => {
    let done = 0;
    const outcomes = new Map<string, number>();
    const worker = startMedia();
    const finished = new Promise<void>((resolve) => {
      worker.on('completed', (_job, result: unknown) => {
        outcomes.set(String(result), (outcomes.get(String(result)) ?? 0) + 1);
        done += 1;
        if (done === list.length) resolve();
      });
      worker.on('failed', (_job, error) => {
        outcomes.set(`error: ${error.message}`, (outcomes.get(`error: ${error.message}`) ?? 0) + 1);
      });
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await media.queue.addBulk(
      list.map((j) => ({
        name: 'store-media',
        data: { ...j, source: 'live' as const },
        opts: { jobId: jobIdFrom('media', j.threadId, j.messageId) },
      })),
    );
    await finished;
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await worker.close();
    const cpuMs = (cpu.user + cpu.system) / 1000;
    process.stdout.write(
      `${label}: ${list.length} jobs in ${(wall / 1000).toFixed(1)} s wall, CPU ${cpuMs.toFixed(0)} ms = ${(cpuMs / list.length).toFixed(1)} ms per job; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}\n`,
    );
    return cpuMs / list.length;
  };

  /** Stored images of `list`: how many, and their distinct storage keys. */
  const storedOf = async (list: typeof jobs) => {
    let stored = 0;
    const keys = new Set<string>();
    for (const j of list) {
      const m = (await c.messages(j.threadId).doc(j.messageId).get()).data()?.media;
      if (m?.status === 'stored' && m.storageKey) {
        stored += 1;
        keys.add(m.storageKey);
      }
    }
    return { stored, keys: keys.size };
  };

  process.stdout.write(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const base = await run(textJobs, 'baseline (messages without media)');
  const full = await run(
    jobs,
    `images (${IMAGES}, ${ACCOUNTS} accounts, concurrency ${CONCURRENCY})`,
  );
  const workerOnly = await storedOf(jobs);
  process.stdout.write(
    `\nstored ${workerOnly.stored} of ${IMAGES} images (${(bytes / IMAGES / 1024).toFixed(0)} KiB average), ` +
      `${workerOnly.keys} distinct files for ${unique} distinct photos; ` +
      `CPU per image ${full.toFixed(1)} ms (baseline ${base.toFixed(1)} ms per job without media: ` +
      `${(full - base).toFixed(1)} ms is keeping the file)\n`,
  );

  // The whole inbound path: ingest and the media worker at the same time.
  const inbound = openQueue(WaInboundQueue, { connection: redis, prefix: '{bench}' });
  const ingest = startInboundWorker(
    buildIngestDeps({
      db,
      redis,
      publisher,
      prefix: '{bench}',
      logger,
      maxWrites: 500,
      lockTtlMs: 30_000,
      lockWaitMs: 120_000,
    }),
    {
      connection: redis,
      prefix: '{bench}',
      concurrency: INGEST_CONCURRENCY,
      lockDurationMs: 120_000,
      stalledIntervalMs: 30_000,
    },
  );
  const mediaWorker = startMedia();
  // A failed attempt that will be retried is not a failure: ingest adds a store-media job before
  // it commits the message, and the media worker retries until the message is there.
  const failures: string[] = [];
  let retries = 0;
  const onFailed = (name: string) => (job: Job | undefined, error: Error) => {
    if (job !== undefined && job.attemptsMade < (job.opts.attempts ?? 1)) retries += 1;
    else failures.push(`${name} ${job?.id}: ${error.message}`);
  };
  ingest.on('failed', onFailed('ingest'));
  mediaWorker.on('failed', onFailed('media'));
  let ingested = 0;
  let mediaDone = 0;
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  ingest.on('completed', () => {
    ingested += 1;
    wake();
  });
  mediaWorker.on('completed', () => {
    mediaDone += 1;
    wake();
  });
  const until = async (done: () => boolean) => {
    while (!done()) {
      if (failures.length > 0) throw new Error(`jobs failed: ${failures.slice(0, 3).join('; ')}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 1_000);
      });
    }
  };

  /** One burst of live messages on wa-inbound, one message a job, as the gateway adds them. */
  const ingestBurst = async (
    label: string,
    tag: string,
    content: (i: number) => Record<string, unknown>,
    withMedia: boolean,
  ) => {
    const list = Array.from({ length: IMAGES }, (_, i) => {
      const accountId = accountOf(i);
      const jid = `40724${tag}${String(i % 97).padStart(4, '0')}@s.whatsapp.net`;
      const message: WaRawMessage = {
        key: {
          id: `3EB${tag}${randomBytes(8).toString('hex').toUpperCase()}`,
          remoteJid: jid,
          fromMe: false,
          participant: null,
        },
        messageTimestamp: Math.floor(Date.now() / 1000),
        pushName: 'Ana',
        message: content(i),
        status: null,
        messageStubType: null,
        messageStubParameters: null,
        undecryptable: false,
      };
      const payload: IngestMessagesJob = {
        accountId,
        instanceId: 'gw-bench',
        fencingToken: 1,
        observedAt: new Date().toISOString(),
        source: 'live',
        messages: [message],
      };
      return {
        accountId,
        threadId: threadIdFor(accountId, jid),
        messageId: message.key.id,
        payload,
      };
    });
    const ingested0 = ingested;
    const media0 = mediaDone;
    const retries0 = retries;
    const load0 = loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const added = await inbound.queue.addBulk(
      list.map((m) => ({
        name: 'ingest-messages',
        data: WaInboundQueue.jobs['ingest-messages'].parse(m.payload),
      })),
    );
    await until(() => ingested - ingested0 >= list.length);
    const ingestWall = performance.now() - t0;
    if (withMedia) await until(() => mediaDone - media0 >= list.length);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const lags: number[] = [];
    for (let i = 0; i < list.length; i += 100) {
      const refs = list.slice(i, i + 100).map((m) => c.messages(m.threadId).doc(m.messageId));
      const snaps = await db.getAll(...refs);
      snaps.forEach((snap, k) => {
        if (!snap.exists || snap.createTime === undefined) {
          throw new Error(`message ${refs[k]!.path} was not stored`);
        }
        lags.push(snap.createTime.toMillis() - added[i + k]!.timestamp);
      });
    }
    lags.sort((a, b) => a - b);
    const lag = {
      p50: percentile(lags, 50),
      p99: percentile(lags, 99),
      max: lags[lags.length - 1]!,
    };
    const cpuMs = (cpu.user + cpu.system) / 1000;
    process.stdout.write(
      `${label}: ingest lag p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms; ` +
        `all ${list.length} ingested in ${(ingestWall / 1000).toFixed(1)} s` +
        (withMedia
          ? `, media completed in ${(wall / 1000).toFixed(1)} s (${retries - retries0} attempts retried)`
          : '') +
        `; CPU ${(cpuMs / list.length).toFixed(1)} ms per message; ` +
        `load average ${load0.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}\n`,
    );
    return { list, lag, ingestWall, wall };
  };

  process.stdout.write(
    `\ningest (concurrency ${INGEST_CONCURRENCY}) and media worker (concurrency ${CONCURRENCY}) together, ` +
      `${IMAGES} inbound jobs a burst over ${ACCOUNTS} accounts:\n`,
  );
  const texts = await ingestBurst(
    'text burst (baseline)',
    '1',
    (i) => ({ conversation: `Bună ziua, mesajul ${i}` }),
    false,
  );
  const images = await ingestBurst(
    'image burst',
    '2',
    (i) => ({
      imageMessage: {
        url: `https://mmg.whatsapp.net${ingestPhotos[i]!.directPath}`,
        mimetype: 'image/jpeg',
        fileSha256: ingestPhotos[i]!.fileSha256,
        fileLength: ingestPhotos[i]!.data.length,
        mediaKey: ingestPhotos[i]!.mediaKey,
        directPath: ingestPhotos[i]!.directPath,
        width: 800,
        height: 600,
      },
    }),
    true,
  );
  const viaIngest = await storedOf(images.list);
  process.stdout.write(
    `\nthrough ingest: stored ${viaIngest.stored} of ${IMAGES} images, ${viaIngest.keys} distinct files for ` +
      `${unique} distinct photos; ingest lag p50/p99/max ${images.lag.p50}/${images.lag.p99}/${images.lag.max} ms ` +
      `with images against ${texts.lag.p50}/${texts.lag.p99}/${texts.lag.max} ms with text; ` +
      `all images stored ${(images.wall / 1000).toFixed(1)} s after the burst began ` +
      `(its messages all ingested at ${(images.ingestWall / 1000).toFixed(1)} s)\n`,
  );
  const ok =
    workerOnly.stored === IMAGES &&
    workerOnly.keys === unique &&
    viaIngest.stored === IMAGES &&
    viaIngest.keys === unique;

  await ingest.close();
  await mediaWorker.close();
  await inbound.queue.close();
  await media.queue.close();
  objects.close();
  await s3.stop();
  await new Promise<void>((r) => cdn.close(() => r()));
  redis.disconnect();
  publisher.disconnect();
  await redisServer.stop();
  await firebase.close();
  await firestore.stop();
  await rm(dir, { recursive: true, force: true });
  if (!ok) {
    process.stdout.write('FAILED: not every image was stored exactly once\n');
    process.exitCode = 1;
  }
}

await main();
