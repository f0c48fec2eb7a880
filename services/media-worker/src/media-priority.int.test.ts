import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaQueue, type MessageDoc, type MessageSource } from '@wacrm/contracts';
import { startS3Store, type S3StoreHandle } from '@wacrm/emulators';
import { collections } from '@wacrm/firestore';
import { createLogger } from '@wacrm/observability';
import { localObjectStoreConfig, ObjectStore } from '@wacrm/object-store';
import { openQueue, type ContractQueue } from '@wacrm/queue';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
// What ingest adds for new messages with media, with its options (job id, priority).
import { enqueueMediaJobs } from '../../ingest/src/data-access/media-jobs.js';
import type { ChangeSet } from '../../ingest/src/domain/change-set.js';
import { messageDoc, threadDoc } from '../../api-gateway/test/seed.js';
import { firestoreMessageMedia } from './data-access/message-media.store.js';
import { reuploadRequests } from './data-access/reupload-requests.js';
import { waMediaDownloader } from './data-access/wa-media.download.js';
import { sharpThumbnail } from './domain/thumbnail.js';
import { startMediaWorker } from './entry-points/media.worker.js';

const firestore = useTestFirestore();
const logger = createLogger({ service: 'media-worker', version: 'test', level: 'silent' });
const ACCOUNT = 'wa-media-prio-01';
const THREAD = `${ACCOUNT}_40700000001@s.whatsapp.net`;
/** Every file here declares more than the cap: the worker records `failed` without a download. */
const CAP = 1024;
const BACKLOG = 15;
let redis: TestRedis;
let dir: string;
let s3: S3StoreHandle;
let objects: ObjectStore;
let media: ContractQueue<typeof MediaQueue>;
let reupload: ReturnType<typeof reuploadRequests>;
let worker: Worker | undefined;

beforeAll(async () => {
  redis = await useTestRedis();
  dir = await mkdtemp(join(tmpdir(), 'media-prio-'));
  s3 = await startS3Store({ directory: join(dir, 's3') });
  objects = new ObjectStore(localObjectStoreConfig(s3));
  media = openQueue(MediaQueue, { connection: redis.connection, prefix: redis.prefix });
  reupload = reuploadRequests({ connection: redis.connection, prefix: redis.prefix });
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await media?.queue.close();
  await reupload?.close();
  objects?.close();
  await s3?.stop();
  await redis?.cleanup();
  await firestore.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function withMedia(id: string, source: MessageSource, at: Date): MessageDoc {
  return {
    ...messageDoc(ACCOUNT, THREAD, id, at),
    type: 'document',
    source,
    media: {
      kind: 'document',
      mimetype: 'application/pdf',
      size: 4096,
      fileName: `${id}.pdf`,
      caption: null,
      directPath: `/v/t62.7119-24/${id}.enc`,
      url: null,
      mediaKeyBase64: Buffer.alloc(32, 7).toString('base64'),
      fileSha256Base64: null,
      seconds: null,
      width: null,
      height: null,
      status: 'pending',
    },
  };
}

/** Writes the messages and adds their media jobs the way ingest does (each by its source). */
async function arrive(messages: MessageDoc[]): Promise<void> {
  const batch = firestore.db.batch();
  for (const m of messages) {
    batch.set(collections(firestore.db).messages(THREAD).doc(m.waKey.id), m);
  }
  await batch.commit();
  const changes: ChangeSet = {
    threads: [
      {
        threadId: THREAD,
        existing: null,
        seed: threadDoc(ACCOUNT, 1, null, '+40700000001'),
        newMessages: messages,
        patch: {},
      },
    ],
    messagePatches: [],
    pendingWrites: [],
    pendingApplied: [],
    statusChanges: [],
  };
  await enqueueMediaJobs(media, ACCOUNT, changes);
}

describe('live media goes before a history backlog (issue 17 item 6)', () => {
  it('when a live photo arrives while a backlog of history media queued earlier is being fetched, then the live one is done before the backlog', async () => {
    const t0 = Date.parse('2026-01-01T08:00:00Z');
    const history = Array.from({ length: BACKLOG }, (_, i) =>
      withMedia(`HIST${String(i).padStart(3, '0')}`, 'history', new Date(t0 + i * 1000)),
    );
    await arrive(history);
    const done: string[] = [];
    let firstActive: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (firstActive = resolve));
    worker = startMediaWorker(
      {
        messages: firestoreMessageMedia(firestore.db),
        objects,
        // Never reached: every file is over the cap before any download.
        download: waMediaDownloader({ host: '127.0.0.1:9' }),
        requestReupload: reupload.request,
        scheduleReuploadDeadline: reupload.deadline,
        reuploadTimeoutMs: 60_000,
        thumbnail: sharpThumbnail(320),
        maxBytes: CAP,
        timeoutMs: 5_000,
        tmpDir: dir,
        logger,
      },
      {
        connection: redis.connection,
        prefix: redis.prefix,
        logger,
        concurrency: 1,
        lockDurationMs: 30_000,
      },
    );
    worker.on('active', () => firstActive());
    worker.on('completed', (job: Job) => {
      done.push((job.data as { messageId: string }).messageId);
    });
    // History is already being fetched when the live message comes in.
    await started;
    const live = withMedia('LIVE001', 'live', new Date());
    await arrive([live]);
    await expectEventually(() => expect(done).toHaveLength(BACKLOG + 1), { timeoutMs: 30_000 });
    const liveAt = done.indexOf('LIVE001');
    // At most the history jobs already taken when it arrived went before it.
    expect(liveAt, `order: ${done.join(' ')}`).toBeLessThanOrEqual(2);
    expect(done.slice(liveAt + 1).length).toBeGreaterThanOrEqual(BACKLOG - 2);
    // Each was really handled by the worker: the outcome is on the message.
    const stored = await collections(firestore.db).messages(THREAD).doc('LIVE001').get();
    expect(stored.data()!.media).toMatchObject({ status: 'failed' });
    expect(stored.data()!.media!.reason).toContain(`cap of ${CAP} bytes`);
  });
});
