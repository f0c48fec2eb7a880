// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '@wacrm/contracts';
import { startS3Store, type S3StoreHandle } from '@wacrm/emulators';
import { recordMediaUpload } from '@wacrm/firestore';
import { localObjectStoreConfig, ObjectStore } from '@wacrm/object-store';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { EmulatorSessions } from '../test/emulator-session.js';
import { uploadedMediaReader } from './data-access/uploaded-media.js';

// Issue 17: a send that names a file uploaded with POST /api/media — wa-gateway reads it from
// object storage (no URL fetch), real Baileys encrypts and uploads it to the emulator's CDN, and
// the contact decrypts exactly those bytes.
const firestore = useTestFirestore();
let redis: TestRedis;
let env: EmulatorSessions;
let s3: S3StoreHandle;
let objects: ObjectStore;
let dir: string;

beforeAll(async () => {
  redis = await useTestRedis();
  env = await EmulatorSessions.start(firestore, redis);
  dir = await mkdtemp(join(tmpdir(), 'send-upload-'));
  s3 = await startS3Store({ directory: dir });
  objects = new ObjectStore(localObjectStoreConfig(s3));
}, 60_000);

afterAll(async () => {
  await env?.close();
  objects?.close();
  await s3?.stop();
  await redis?.cleanup();
  await firestore.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function uploaded(accountId: string, data: Buffer, mime: string): Promise<string> {
  const stored = await objects.putBuffer(data, mime);
  const mediaId = `md_${randomBytes(20).toString('hex')}`;
  await recordMediaUpload(firestore.db, mediaId, {
    accountId,
    sha256: stored.sha256,
    storageKey: stored.key,
    mime,
    kind: 'document',
    size: stored.size,
    fileName: 'contract.pdf',
    createdBy: 'test',
    createdAt: new Date(),
  });
  return mediaId;
}

describe('sending a file by its media id (real Baileys against the emulator)', () => {
  it('when a send names the account’s upload, then the contact receives those bytes; another account’s id fails for good', async () => {
    const id = 'send-upload';
    const readUpload = uploadedMediaReader({ db: firestore.db, objects, maxBytes: 1024 * 1024 });
    const session = await env.paired(id, { readUpload });
    const file = Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), randomBytes(40_000)]);
    const mediaId = await uploaded(id, file, 'application/pdf');
    const waMessageId = `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
    await session.send({
      requestId: `req-${waMessageId}`,
      accountId: id,
      to: '+40722111222',
      waMessageId,
      media: { kind: 'document', mediaId, mimetype: 'application/pdf', fileName: 'contract.pdf' },
    });
    await expectEventually(
      async () => {
        const res = await fetch(
          `${env.emulator.controlUrl}/accounts/${id}/sent/${waMessageId}/media`,
        );
        expect(res.status).toBe(200);
        expect(Buffer.from(await res.arrayBuffer()).equals(file)).toBe(true);
      },
      { timeoutMs: 15_000 },
    );

    const foreign = await uploaded('another-account', file, 'application/pdf');
    const refused = await session
      .send({
        requestId: 'req-foreign',
        accountId: id,
        to: '+40722111222',
        waMessageId: `3EB0${randomBytes(8).toString('hex').toUpperCase()}`,
        media: { kind: 'document', mediaId: foreign, mimetype: 'application/pdf' },
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(isAppError(refused) && refused.code).toBe('NOT_FOUND');
    expect(isAppError(refused) && refused.retryable).toBe(false);
  });
});
