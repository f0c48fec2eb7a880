// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import sharp from 'sharp';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageDoc } from '@wacrm/contracts';
import { startS3Store, type S3StoreHandle } from '@wacrm/emulators';
import { collections } from '@wacrm/firestore';
import { createLogger } from '@wacrm/observability';
import { localObjectStoreConfig, ObjectStore } from '@wacrm/object-store';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
// Real Baileys sessions (wa-gateway's test support) and the real ingest worker.
import { EmulatorSessions } from '../../wa-gateway/test/emulator-session.js';
import { startInboundWorker } from '../../ingest/src/entry-points/inbound.worker.js';
import { mediaReupload } from '../../wa-gateway/src/data-access/media-reupload.js';
import { startCommandWorker } from '../../wa-gateway/src/entry-points/commands.worker.js';
import { buildIngestDeps } from '../../ingest/src/ingest.composition.js';
import { firestoreMessageMedia } from './data-access/message-media.store.js';
import { reuploadRequests } from './data-access/reupload-requests.js';
import { waMediaDownloader } from './data-access/wa-media.download.js';
import { sharpThumbnail } from './domain/thumbnail.js';
import type { StoreMediaDeps } from './domain/store-media.handler.js';
import { startMediaWorker } from './entry-points/media.worker.js';

const firestore = useTestFirestore();
const logger = createLogger({ service: 'media-worker', version: 'test', level: 'silent' });
const ACCOUNT = 'wa-media-01';
const CAP = 2 * 1024 * 1024;
/** How long a re-upload request may go unanswered here before the media is `expired`. */
const REUPLOAD_TIMEOUT_MS = 3_000;
let redis: TestRedis;
let env: EmulatorSessions;
let dir: string;
let s3: S3StoreHandle;
let objects: ObjectStore;
let workers: Worker[] = [];
let mediaWorker: Worker;
let reupload: ReturnType<typeof reuploadRequests>;
let gatewayMedia: ReturnType<typeof mediaReupload>;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  redis = await useTestRedis();
  env = await EmulatorSessions.start(firestore, redis);
  dir = await mkdtemp(join(tmpdir(), 'media-int-'));
  s3 = await startS3Store({ directory: join(dir, 's3') });
  objects = new ObjectStore(localObjectStoreConfig(s3));
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
  reupload = reuploadRequests({ connection: redis.connection, prefix: redis.prefix });
  gatewayMedia = mediaReupload({
    db: firestore.db,
    connection: redis.connection,
    prefix: redis.prefix,
  });
  const deps: StoreMediaDeps = {
    messages: firestoreMessageMedia(firestore.db),
    objects,
    // The emulator's CDN: its own certificate, its own address (as WA_MEDIA_HOST under npm start).
    download: waMediaDownloader({
      host: env.emulator.mediaHost,
      dispatcher: new Agent({ connect: { ca: env.emulator.mediaCertPem } }),
    }),
    requestReupload: reupload.request,
    scheduleReuploadDeadline: reupload.deadline,
    reuploadTimeoutMs: REUPLOAD_TIMEOUT_MS,
    thumbnail: sharpThumbnail(320),
    maxBytes: CAP,
    timeoutMs: 30_000,
    tmpDir: dir,
    logger,
  };
  workers = [
    startInboundWorker(ingest, {
      connection: redis.connection,
      prefix: redis.prefix,
      concurrency: 2,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
    }),
    (mediaWorker = startMediaWorker(deps, {
      connection: redis.connection,
      prefix: redis.prefix,
      logger,
      concurrency: 2,
      lockDurationMs: 60_000,
    })),
  ];
  // The account's session with its command worker, as wa-gateway runs them: re-upload requests
  // reach the phone through this socket.
  const session = await env.paired(ACCOUNT, { mediaReupload: gatewayMedia });
  workers.push(
    startCommandWorker(session, {
      connection: redis.connection,
      prefix: redis.prefix,
      logger,
      publisher: env.publisher,
      instanceId: env.instanceId,
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await reupload?.close();
  await gatewayMedia?.close();
  await env?.close();
  objects?.close();
  await s3?.stop();
  await redis?.cleanup();
  await firestore.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Sends from a contact through the emulator; real Baileys receives and decrypts it. */
async function inbound(
  from: string,
  kind: 'image' | 'audio' | 'document' | 'video',
  data: Buffer,
  mimetype: string,
  extra: { fileName?: string; caption?: string } = {},
): Promise<string> {
  const res = await env.control(`/accounts/${ACCOUNT}/inbound`, {
    from,
    kind,
    media: { mimetype, dataBase64: data.toString('base64'), ...extra },
  });
  expect(res.status).toBe(202);
  return (res.json as { messageIds: string[] }).messageIds[0]!;
}

/** The account's messages with media whose declared SHA-256 is the given file's. */
async function messageOf(
  data: Buffer,
  done: (media: NonNullable<MessageDoc['media']>) => boolean = (m) => m.status !== 'pending',
): Promise<{ threadId: string; doc: MessageDoc }> {
  const want = createHash('sha256').update(data).digest('base64');
  let found: { threadId: string; doc: MessageDoc } | undefined;
  await expectEventually(
    async () => {
      const c = collections(firestore.db);
      const threads = await c.threads().where('accountId', '==', ACCOUNT).get();
      for (const t of threads.docs) {
        for (const m of (await c.messages(t.id).get()).docs) {
          const doc = m.data();
          if (doc.media?.fileSha256Base64 === want && done(doc.media)) {
            found = { threadId: t.id, doc };
          }
        }
      }
      expect(found).toBeDefined();
    },
    { timeoutMs: 30_000 },
  );
  return found!;
}

/** Bytes that sniff as their type, the rest random: a stranger's file, not a fixture. */
function withHeader(header: Buffer, size: number): Buffer {
  return Buffer.concat([header, randomBytes(size - header.length)]);
}
const pdf = () => withHeader(Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), 180_000);
const mp4 = () =>
  withHeader(Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex'), 600_000);
function oggOpus(): Buffer {
  const page = Buffer.alloc(47);
  page.write('OggS', 0, 'latin1');
  page[4] = 0;
  page[5] = 2;
  page[26] = 1;
  page[27] = 19;
  page.write('OpusHead', 28, 'latin1');
  return withHeader(page, 90_000);
}
async function png(width: number, height: number): Promise<Buffer> {
  const raw = randomBytes(width * height * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

describe('inbound media kept in object storage (real Baileys against the emulator)', () => {
  it('when a contact sends a photo, a voice note, a PDF and a video, then each is stored with the SHA-256 of its bytes', async () => {
    const files = {
      photo: { kind: 'image' as const, data: await png(800, 600), mimetype: 'image/png' },
      voice: { kind: 'audio' as const, data: oggOpus(), mimetype: 'audio/ogg; codecs=opus' },
      pdf: { kind: 'document' as const, data: pdf(), mimetype: 'application/pdf' },
      video: { kind: 'video' as const, data: mp4(), mimetype: 'video/mp4' },
    };
    for (const f of Object.values(files)) {
      await inbound('+40722000001', f.kind, f.data, f.mimetype, {
        ...(f.kind === 'document' ? { fileName: 'chitanta-avans.pdf' } : {}),
      });
    }
    const expected = {
      photo: 'image/png',
      voice: 'audio/ogg',
      pdf: 'application/pdf',
      video: 'video/mp4',
    };
    for (const [name, f] of Object.entries(files)) {
      const { doc } = await messageOf(f.data);
      const media = doc.media!;
      expect(media, name).toMatchObject({
        status: 'stored',
        sha256: sha256(f.data),
        size: f.data.length,
      });
      expect(media.mime, name).toContain(expected[name as keyof typeof expected]);
      const stored = await objects.readBuffer(media.storageKey!);
      expect(stored!.equals(f.data), `${name} stored byte for byte`).toBe(true);
    }
    const photo = (await messageOf(files.photo.data)).doc.media!;
    expect(photo.thumbnail).toMatchObject({ mime: 'image/jpeg', width: 320, height: 240 });
    const thumb = await objects.readBuffer(photo.thumbnail!.storageKey);
    expect((await sharp(thumb!).metadata()).format).toBe('jpeg');
    expect((await messageOf(files.pdf.data)).doc.media!.fileName).toBe('chitanta-avans.pdf');
  });

  it('when the same photo arrives from two contacts, then it is stored once', async () => {
    const photo = await png(64, 64);
    await inbound('+40722000002', 'image', photo, 'image/png');
    const first = (await messageOf(photo)).doc.media!;
    await inbound('+40722000003', 'image', photo, 'image/png');
    await expectEventually(
      async () => {
        const c = collections(firestore.db);
        const keys: string[] = [];
        for (const t of (await c.threads().where('accountId', '==', ACCOUNT).get()).docs) {
          for (const m of (await c.messages(t.id).get()).docs) {
            const media = m.data().media;
            if (media?.sha256 === sha256(photo)) keys.push(media.storageKey!);
          }
        }
        expect(keys).toEqual([first.storageKey, first.storageKey]);
      },
      { timeoutMs: 30_000 },
    );
  });

  it('when a file is over the size cap, then it is failed with the reason and nothing is stored', async () => {
    const big = withHeader(Buffer.from('%PDF-1.4\n', 'latin1'), CAP + 1);
    await inbound('+40722000004', 'document', big, 'application/pdf', { fileName: 'mare.pdf' });
    const media = (await messageOf(big)).doc.media!;
    expect(media.status).toBe('failed');
    expect(media.reason).toContain(`cap of ${CAP} bytes`);
    expect(media.storageKey ?? null).toBeNull();
  });

  it('when the media server dropped a file the phone still has, then the phone is asked through the gateway and the file is stored', async () => {
    const photo = await png(120, 90);
    // Held back so the file expires on the CDN before the worker first downloads it.
    await mediaWorker.pause();
    const messageId = await inbound('+40722000005', 'image', photo, 'image/png');
    const expired = await env.control(`/accounts/${ACCOUNT}/expire-media`, { messageId });
    expect(expired.status).toBe(202);
    const oldPath = (expired.json as { directPath: string }).directPath;
    await mediaWorker.resume();
    const { threadId, doc } = await messageOf(photo, (m) => m.status === 'stored');
    expect(doc.media).toMatchObject({ status: 'stored', sha256: sha256(photo), reason: null });
    expect(doc.media!.reuploadRequestedAt).toEqual(expect.any(String));
    // The phone put the same encrypted file under a new direct path.
    expect(doc.media!.directPath).not.toBe(oldPath);
    expect((await objects.readBuffer(doc.media!.storageKey!))!.equals(photo)).toBe(true);
    expect(threadId).toContain(ACCOUNT);
  });

  it('when the media server dropped a file the phone no longer has, then the media ends expired with the reason', async () => {
    const voice = oggOpus();
    await mediaWorker.pause();
    const messageId = await inbound('+40722000006', 'audio', voice, 'audio/ogg; codecs=opus');
    const expired = await env.control(`/accounts/${ACCOUNT}/expire-media`, {
      messageId,
      phoneHasIt: false,
    });
    expect(expired.status).toBe(202);
    await mediaWorker.resume();
    const { doc } = await messageOf(voice, (m) => m.status === 'expired');
    expect(doc.media!.reason).toContain('the phone could not upload it again (NOT_FOUND)');
    expect(doc.media!.reuploadRequestedAt).toEqual(expect.any(String));
    expect(doc.media!.storageKey ?? null).toBeNull();
  });

  it('when the phone never answers a re-upload request, then after the bound the media ends expired with the reason and is kept', async () => {
    const pdfFile = pdf();
    await mediaWorker.pause();
    const messageId = await inbound('+40722000007', 'document', pdfFile, 'application/pdf', {
      fileName: 'fara-raspuns.pdf',
    });
    const expired = await env.control(`/accounts/${ACCOUNT}/expire-media`, {
      messageId,
      phoneAnswers: false,
    });
    expect(expired.status).toBe(202);
    await mediaWorker.resume();
    const asked = await messageOf(pdfFile, (m) => m.reuploadRequestedAt != null);
    const askedAt = Date.parse(asked.doc.media!.reuploadRequestedAt!);
    const { doc } = await messageOf(pdfFile, (m) => m.status === 'expired');
    expect(Date.now() - askedAt).toBeGreaterThanOrEqual(REUPLOAD_TIMEOUT_MS);
    expect(doc.media!.reason).toContain(
      `the phone did not answer the re-upload request within ${REUPLOAD_TIMEOUT_MS} ms`,
    );
    expect(doc.media!.storageKey ?? null).toBeNull();
    // The message keeps its media record (what it was, why it is not kept): nothing is deleted.
    expect(doc.media!.fileName).toBe('fara-raspuns.pdf');
  });
});
