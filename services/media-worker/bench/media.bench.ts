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
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import { mkdtemp } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptedStream } from '@whiskeysockets/baileys';
import sharp from 'sharp';
import { Agent } from 'undici';
import { MediaQueue, type MediaRef, type MessageDoc } from '@wacrm/contracts';
import { startFirestoreEmulator, startRedisServer, startS3Store } from '@wacrm/emulators';
import { collections, initFirebase } from '@wacrm/firestore';
import { localObjectStoreConfig, ObjectStore } from '@wacrm/object-store';
import { createLogger } from '@wacrm/observability';
import { createRedisConnection, jobIdFrom, openQueue } from '@wacrm/queue';
import { createMediaTlsIdentity } from '@wacrm/wa-emulator';
import { firestoreMessageMedia } from '../src/data-access/message-media.store.js';
import { waMediaDownloader } from '../src/data-access/wa-media.download.js';
import { sharpThumbnail } from '../src/domain/thumbnail.js';
import { startMediaWorker } from '../src/entry-points/media.worker.js';

const IMAGES = Number(process.argv[2] ?? 1_000);
const ACCOUNTS = 30;
const CONCURRENCY = Number(process.argv[3] ?? 4);
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

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-media-'));
  const firestore = await startFirestoreEmulator({ port: 0 });
  const firebase = initFirebase({
    projectId: 'bench-media',
    firestoreEmulatorHost: firestore.host,
  });
  const redisServer = await startRedisServer({});
  const redis = createRedisConnection({ url: redisServer.url, name: 'bench', logger });
  const s3 = await startS3Store({ directory: join(dir, 's3') });
  const objects = new ObjectStore(localObjectStoreConfig(s3));

  // The CDN: encrypted files by direct path, over TLS with a certificate of its own.
  process.stdout.write(`encrypting ${IMAGES} photos…\n`);
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
  const photos: Buffer[] = [];
  for (let i = 0; i < unique; i += 1) photos.push(await photo(i));
  const db = firebase.db;
  const c = collections(db);
  const jobs: Array<{ accountId: string; threadId: string; messageId: string }> = [];
  let bytes = 0;
  let writes = db.batch();
  for (let i = 0; i < IMAGES; i += 1) {
    const data = photos[i < unique ? i : i - unique]!;
    bytes += data.length;
    const enc = await encryptedStream(data, 'image');
    const directPath = `/v/t62.7118-24/${randomBytes(16).toString('hex')}.enc`;
    files.set(directPath, await readFile(enc.encFilePath));
    await rm(enc.encFilePath, { force: true });
    const accountId = `wa-bench${String(i % ACCOUNTS).padStart(2, '0')}`;
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
      mediaKeyBase64: Buffer.from(enc.mediaKey).toString('base64'),
      fileSha256Base64: Buffer.from(enc.fileSha256).toString('base64'),
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
    const accountId = `wa-bench${String(i % ACCOUNTS).padStart(2, '0')}`;
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

  const media = openQueue(MediaQueue, { connection: redis, prefix: '{bench}' });
  const run = async (list: typeof jobs, label: string) => {
    let done = 0;
    const outcomes = new Map<string, number>();
    const worker = startMediaWorker(
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

  const base = await run(textJobs, 'baseline (messages without media)');
  const full = await run(
    jobs,
    `images (${IMAGES}, ${ACCOUNTS} accounts, concurrency ${CONCURRENCY})`,
  );
  let stored = 0;
  const keys = new Set<string>();
  for (const j of jobs) {
    const m = (await c.messages(j.threadId).doc(j.messageId).get()).data()?.media;
    if (m?.status === 'stored' && m.storageKey) {
      stored += 1;
      keys.add(m.storageKey);
    }
  }
  process.stdout.write(
    `\nstored ${stored} of ${IMAGES} images (${(bytes / IMAGES / 1024).toFixed(0)} KiB average), ` +
      `${keys.size} distinct files for ${unique} distinct photos; ` +
      `CPU per image ${full.toFixed(1)} ms (baseline ${base.toFixed(1)} ms per job without media: ` +
      `${(full - base).toFixed(1)} ms is keeping the file)\n`,
  );

  await media.queue.close();
  objects.close();
  await s3.stop();
  await new Promise<void>((r) => cdn.close(() => r()));
  redis.disconnect();
  await redisServer.stop();
  await firebase.close();
  await firestore.stop();
  await rm(dir, { recursive: true, force: true });
}

await main();
