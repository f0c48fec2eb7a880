import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Store, type S3StoreHandle } from '@wacrm/emulators';
import { ObjectStore, contentKey, sha256Hex } from './object-store.js';

describe('ObjectStore against s3rver on loopback', () => {
  let dir: string;
  let s3: S3StoreHandle;
  let store: ObjectStore;
  const open = () =>
    new ObjectStore({
      bucket: s3.bucket,
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3-store-'));
    s3 = await startS3Store({ directory: join(dir, 's3') });
    store = open();
  });
  afterAll(async () => {
    store.close();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('when the same bytes are stored twice, then they are stored once under their SHA-256', async () => {
    const data = randomBytes(300_000);
    const sha = sha256Hex(data);
    const file = join(dir, 'upload.bin');
    await writeFile(file, data);
    const first = await store.putFile(file, { sha256: sha, size: data.length, mime: 'image/png' });
    const second = await store.putBuffer(data, 'image/png');
    expect(first).toMatchObject({ key: contentKey(sha), created: true, size: data.length });
    expect(second).toMatchObject({ key: contentKey(sha), created: false });
    expect(sha256Hex((await store.readBuffer(first.key))!)).toBe(sha);
    expect(await store.head(first.key)).toEqual({ size: data.length, mime: 'image/png' });
  });

  it('when a range is read, then exactly those bytes come back with the whole size', async () => {
    const data = randomBytes(10_000);
    const { key } = await store.putBuffer(data, 'audio/ogg');
    const read = await store.read(key, { start: 100, end: 1_099 });
    const chunks: Buffer[] = [];
    for await (const c of read!.body) chunks.push(c as Buffer);
    expect(read).toMatchObject({ length: 1_000, size: 10_000 });
    expect(Buffer.concat(chunks).equals(data.subarray(100, 1_100))).toBe(true);
  });

  it('when the store restarts on the same directory, then what it held is still there', async () => {
    const data = randomBytes(2_000);
    const { key } = await store.putBuffer(data, 'application/pdf');
    store.close();
    await s3.stop();
    s3 = await startS3Store({ directory: join(dir, 's3') });
    store = open();
    expect((await store.readBuffer(key))!.equals(data)).toBe(true);
    expect(await store.read('sha256/00/' + '0'.repeat(64))).toBeNull();
    expect((await readdir(join(dir, 's3'))).length).toBeGreaterThan(0);
  });
});
