// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { randomBytes } from 'node:crypto';
import { Job, type Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaQueue, waCommandsQueue, type MediaReuploadedJob } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { enqueue, jobIdFrom, openQueue, type ContractQueue } from '@wacrm/queue';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { startInboundWorker } from '../../ingest/src/entry-points/inbound.worker.js';
import { EmulatorSessions } from '../test/emulator-session.js';
import { mediaReupload } from './data-access/media-reupload.js';
import { startCommandWorker } from './entry-points/commands.worker.js';

// Issue 17 review: asking the phone to re-upload expired media (Baileys' media retry flow) goes
// through the account's command queue, which runs one command at a time. The command acknowledges
// the request sent; the phone's answer is picked up by a listener on the account's socket, so a
// silent phone never holds the account's sends.
const ACCOUNT = 'wa-media-retry';
const firestore = useTestFirestore();
let redis: TestRedis;
let env: EmulatorSessions;
let gatewayMedia: ReturnType<typeof mediaReupload>;
let commands: ContractQueue<ReturnType<typeof waCommandsQueue>>;
let media: ContractQueue<typeof MediaQueue>;
const workers: Worker[] = [];

beforeAll(async () => {
  redis = await useTestRedis();
  env = await EmulatorSessions.start(firestore, redis);
  const queueDeps = { connection: redis.connection, prefix: redis.prefix };
  gatewayMedia = mediaReupload({ db: firestore.db, ...queueDeps });
  commands = openQueue(waCommandsQueue(ACCOUNT), queueDeps);
  media = openQueue(MediaQueue, queueDeps);
  workers.push(
    startInboundWorker(env.ingestDeps(), {
      ...queueDeps,
      concurrency: 2,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
    }),
  );
  const session = await env.paired(ACCOUNT, { mediaReupload: gatewayMedia });
  workers.push(
    startCommandWorker(session, {
      ...queueDeps,
      logger: env.logger,
      publisher: env.publisher,
      instanceId: env.instanceId,
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await commands?.queue.close();
  await media?.queue.close();
  await gatewayMedia?.close();
  await env?.close();
  await redis?.cleanup();
  await firestore.close();
});

/** A photo from the contact, stored by ingest; its file then dropped by the emulator's CDN. */
async function expiredPhoto(
  from: string,
  fault: { phoneHasIt: boolean; phoneAnswers: boolean },
): Promise<{ threadId: string; messageId: string; oldPath: string }> {
  const res = await env.control(`/accounts/${ACCOUNT}/inbound`, {
    from,
    kind: 'image',
    media: { mimetype: 'image/jpeg', dataBase64: randomBytes(4_000).toString('base64') },
  });
  expect(res.status).toBe(202);
  const waId = (res.json as { messageIds: string[] }).messageIds[0]!;
  let stored: { threadId: string; messageId: string } | undefined;
  await expectEventually(
    async () => {
      const c = collections(firestore.db);
      const threads = await c.threads().where('accountId', '==', ACCOUNT).get();
      for (const t of threads.docs) {
        const found = (await c.messages(t.id).get()).docs.find(
          (m) => m.data().waKey.id === waId && m.data().media?.mediaKeyBase64,
        );
        if (found) stored = { threadId: t.id, messageId: found.id };
      }
      expect(stored).toBeDefined();
    },
    { timeoutMs: 20_000 },
  );
  const expired = await env.control(`/accounts/${ACCOUNT}/expire-media`, {
    messageId: waId,
    ...fault,
  });
  expect(expired.status).toBe(202);
  return { ...stored!, oldPath: (expired.json as { directPath: string }).directPath };
}

/** The reupload-media command as media-worker enqueues it (one per message). */
async function askReupload(target: { threadId: string; messageId: string }): Promise<Job> {
  return enqueue(
    commands,
    'reupload-media',
    { accountId: ACCOUNT, ...target },
    { jobId: jobIdFrom('reupload', target.threadId, target.messageId) },
  );
}

/** The phone's answer as handed to media-worker (`media-reuploaded` on `media`). */
async function answerFor(target: { threadId: string; messageId: string }) {
  let answer: MediaReuploadedJob | undefined;
  await expectEventually(
    async () => {
      const job = await Job.fromId(
        media.queue,
        jobIdFrom('reuploaded', target.threadId, target.messageId),
      );
      answer = job?.data as MediaReuploadedJob | undefined;
      expect(answer).toBeDefined();
    },
    { timeoutMs: 15_000 },
  );
  return answer!;
}

describe('re-upload requests on the account command queue (real Baileys against the emulator)', () => {
  it('when the phone does not answer a re-upload request, then a send queued after it still reaches the contact within seconds', async () => {
    const contact = '+40722000101';
    const target = await expiredPhoto(contact, { phoneHasIt: true, phoneAnswers: false });
    const reupload = await askReupload(target);
    const waMessageId = `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
    const queuedAt = Date.now();
    await enqueue(
      commands,
      'send-message',
      {
        requestId: `req-${waMessageId}`,
        accountId: ACCOUNT,
        to: contact,
        waMessageId,
        text: 'Revin imediat cu detaliile.',
      },
      { jobId: jobIdFrom('send', waMessageId) },
    );
    await expectEventually(
      async () => {
        const res = await fetch(`${env.emulator.controlUrl}/accounts/${ACCOUNT}/sent`);
        const sent = ((await res.json()) as { messages: Array<{ messageId: string }> }).messages;
        expect(sent.map((m) => m.messageId)).toContain(waMessageId);
      },
      { timeoutMs: 5_000 },
    );
    expect(Date.now() - queuedAt).toBeLessThan(5_000);
    // The command acknowledged the request it sent; nothing is answered for the silent phone
    // (the media worker's deadline ends that wait).
    expect(await (await Job.fromId(commands.queue, reupload.id!))?.getState()).toBe('completed');
    expect(
      await Job.fromId(media.queue, jobIdFrom('reuploaded', target.threadId, target.messageId)),
    ).toBeUndefined();
  });

  it('when the phone answers after the command completed, then its new direct path, or why it cannot, goes to the media worker', async () => {
    const has = await expiredPhoto('+40722000102', { phoneHasIt: true, phoneAnswers: true });
    const lost = await expiredPhoto('+40722000103', { phoneHasIt: false, phoneAnswers: true });
    await askReupload(has);
    await askReupload(lost);
    const uploaded = await answerFor(has);
    expect(uploaded).toMatchObject({ accountId: ACCOUNT, ...pick(has), reason: null });
    expect(uploaded.directPath).toEqual(expect.stringMatching(/^\//));
    expect(uploaded.directPath).not.toBe(has.oldPath);
    const refused = await answerFor(lost);
    expect(refused).toMatchObject({ accountId: ACCOUNT, ...pick(lost), directPath: null });
    expect(refused.reason).toContain('NOT_FOUND');
  });
});

function pick(t: { threadId: string; messageId: string }) {
  return { threadId: t.threadId, messageId: t.messageId };
}
