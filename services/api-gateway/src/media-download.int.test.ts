import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaRef } from '@wacrm/contracts';
import { startS3Store, type S3StoreHandle } from '@wacrm/emulators';
import { collections } from '@wacrm/firestore';
import { localObjectStoreConfig, ObjectStore } from '@wacrm/object-store';
import {
  admin,
  bearer,
  useGateway,
  userToken,
  type TestGateway,
  validateTraffic,
} from '../test/gateway.fixture.js';
import { accountDoc, messageDoc, seedAccount, threadDoc, writeAll } from '../test/seed.js';

/**
 * Issue 17: the media download through the real app, a real S3 server (s3rver) and the Firestore
 * emulator — authorised like the message, Range (206/416), strong ETag (304), the stored type.
 */
const A = 'wa-mdla01';
const B = 'wa-mdlb01';
const tA = `${A}__40700000061@s.whatsapp.net`;
const tB = `${B}__40700000062@s.whatsapp.net`;

let gw: TestGateway;
let s3: S3StoreHandle;
let objects: ObjectStore;
let dir: string;
let employeeA: { uid: string; token: string };
let employeeB: { uid: string; token: string };
const audio = Buffer.concat([Buffer.from('OggS\0\x02', 'latin1'), randomBytes(50_000)]);
const jpeg = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), randomBytes(2_000)]);
const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), randomBytes(3_000)]);
let audioSha: string;
const UPLOAD_CAP = 100_000;
let thumbSha: string;

function media(kind: MediaRef['kind'], patch: Partial<MediaRef>): MediaRef {
  return {
    kind,
    mimetype: null,
    size: null,
    fileName: null,
    caption: null,
    directPath: '/v/t62.7118-24/0123456789abcdef0123456789abcdef.enc',
    url: null,
    mediaKeyBase64: Buffer.alloc(32, 1).toString('base64'),
    fileSha256Base64: null,
    seconds: null,
    width: null,
    height: null,
    ...patch,
  };
}

const url = (thread: string, id: string, query = '') =>
  `/api/threads/${encodeURIComponent(thread)}/messages/${id}/media${query}`;

async function get(path: string, headers: Record<string, string>) {
  return gw.app.inject({ method: 'GET', url: path, headers });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'media-dl-'));
  s3 = await startS3Store({ directory: join(dir, 's3') });
  gw = await useGateway({
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    MEDIA_UPLOAD_MAX_BYTES: String(UPLOAD_CAP),
  });
  validateTraffic(gw);
  objects = new ObjectStore(localObjectStoreConfig(s3));
  const voice = await objects.putBuffer(audio, 'audio/ogg');
  const photo = await objects.putBuffer(randomBytes(4_000), 'image/png');
  const thumb = await objects.putBuffer(jpeg, 'image/jpeg');
  const doc = await objects.putBuffer(pdf, 'application/pdf');
  audioSha = voice.sha256;
  thumbSha = thumb.sha256;
  const db = gw.fs.db;
  await seedAccount(db, A, accountDoc('WA-01', 'connected'));
  await seedAccount(db, B, accountDoc('WA-02', 'connected'));
  const at = new Date('2025-03-01T10:00:00Z');
  await collections(db)
    .threads()
    .doc(tA)
    .set(threadDoc(A, 1, at, '+40700000061'));
  await collections(db)
    .threads()
    .doc(tB)
    .set(threadDoc(B, 1, at, '+40700000062'));
  const withMedia = (account: string, thread: string, id: string, m: MediaRef) => ({
    ...messageDoc(account, thread, id, at),
    type: m.kind,
    body: null,
    media: m,
  });
  const stored = (o: { sha256: string; size: number; key: string }, mime: string) => ({
    status: 'stored' as const,
    sha256: o.sha256,
    size: o.size,
    storageKey: o.key,
    mime,
  });
  await writeAll(db, [
    [
      `threads/${tA}/messages/voice`,
      withMedia(A, tA, 'voice', media('audio', stored(voice, 'audio/ogg'))),
    ],
    [
      `threads/${tA}/messages/photo`,
      withMedia(
        A,
        tA,
        'photo',
        media('image', {
          ...stored(photo, 'image/png'),
          thumbnail: {
            storageKey: thumb.key,
            mime: 'image/jpeg',
            width: 320,
            height: 240,
            size: thumb.size,
          },
        }),
      ),
    ],
    [
      `threads/${tA}/messages/offer`,
      withMedia(
        A,
        tA,
        'offer',
        media('document', { ...stored(doc, 'application/pdf'), fileName: 'ofertă sală.pdf' }),
      ),
    ],
    [
      `threads/${tA}/messages/pending`,
      withMedia(A, tA, 'pending', media('image', { status: 'pending' })),
    ],
    [`threads/${tA}/messages/text`, messageDoc(A, tA, 'text', at)],
    [
      `threads/${tB}/messages/voice`,
      withMedia(B, tB, 'voice', media('audio', stored(voice, 'audio/ogg'))),
    ],
  ]);
  employeeA = await userToken(gw, 'employee', [A]);
  employeeB = await userToken(gw, 'employee', [B]);
}, 60_000);

afterAll(async () => {
  objects?.close();
  await gw?.dispose();
  await s3?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('GET /api/threads/:threadId/messages/:messageId/media', () => {
  it('when the account’s employee downloads a voice note, then the bytes come with their type, a strong ETag and immutable caching', async () => {
    const res = await get(url(tA, 'voice'), bearer(employeeA.token));
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(audio)).toBe(true);
    expect(res.headers['content-type']).toBe('audio/ogg');
    expect(res.headers['content-length']).toBe(String(audio.length));
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers.etag).toBe(`"${audioSha}"`);
    expect(res.headers['cache-control']).toContain('private');
    expect(res.headers['cache-control']).toContain('immutable');
    expect(res.headers['content-disposition']).toBe('inline');
    expect(res.headers['content-security-policy']).toContain('sandbox');
  });

  it('when an employee of another account asks for it, then 403 and no bytes; an unknown message is 404', async () => {
    const other = await get(url(tA, 'voice'), bearer(employeeB.token));
    expect(other.statusCode).toBe(403);
    expect(other.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(other.rawPayload.includes(audio.subarray(0, 64))).toBe(false);
    // B's own copy of the same file is served to B, never A's thread to B.
    expect((await get(url(tB, 'voice'), bearer(employeeB.token))).statusCode).toBe(200);
    expect((await get(url(tB, 'voice'), bearer(employeeA.token))).statusCode).toBe(403);
    expect((await get(url(tA, 'voice'), {})).statusCode).toBe(401);
    expect((await get(url(tA, 'nope'), admin)).statusCode).toBe(404);
    expect((await get(url(`${A}__40700000099@s.whatsapp.net`, 'voice'), admin)).statusCode).toBe(
      404,
    );
  });

  it('when the player seeks with a Range, then 206 with Content-Range and exactly those bytes', async () => {
    const auth = bearer(employeeA.token);
    const mid = await get(url(tA, 'voice'), { ...auth, range: 'bytes=1000-1999' });
    expect(mid.statusCode).toBe(206);
    expect(mid.headers['content-range']).toBe(`bytes 1000-1999/${audio.length}`);
    expect(mid.headers['content-length']).toBe('1000');
    expect(mid.rawPayload.equals(audio.subarray(1000, 2000))).toBe(true);
    const open = await get(url(tA, 'voice'), { ...auth, range: 'bytes=49000-' });
    expect(open.statusCode).toBe(206);
    expect(open.rawPayload.equals(audio.subarray(49_000))).toBe(true);
    const suffix = await get(url(tA, 'voice'), { ...auth, range: 'bytes=-10' });
    expect(suffix.statusCode).toBe(206);
    expect(suffix.headers['content-range']).toBe(
      `bytes ${audio.length - 10}-${audio.length - 1}/${audio.length}`,
    );
    expect(suffix.rawPayload.equals(audio.subarray(-10))).toBe(true);
    const beyond = await get(url(tA, 'voice'), { ...auth, range: `bytes=${audio.length}-` });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${audio.length}`);
    // If-Range with another validator: the whole file, not a piece of a different one.
    const stale = await get(url(tA, 'voice'), {
      ...auth,
      range: 'bytes=0-9',
      'if-range': '"0000"',
    });
    expect(stale.statusCode).toBe(200);
    expect(stale.rawPayload.length).toBe(audio.length);
    const fresh = await get(url(tA, 'voice'), {
      ...auth,
      range: 'bytes=0-9',
      'if-range': `"${audioSha}"`,
    });
    expect(fresh.statusCode).toBe(206);
  });

  it('when the browser revalidates with If-None-Match, then 304 with no body', async () => {
    const res = await get(url(tA, 'voice'), {
      ...bearer(employeeA.token),
      'if-none-match': `"${audioSha}"`,
    });
    expect(res.statusCode).toBe(304);
    expect(res.rawPayload.length).toBe(0);
    expect(res.headers.etag).toBe(`"${audioSha}"`);
    const changed = await get(url(tA, 'voice'), {
      ...bearer(employeeA.token),
      'if-none-match': '"another"',
    });
    expect(changed.statusCode).toBe(200);
  });

  it('when ?thumbnail=1 is asked, then the JPEG preview with its own ETag; 404 where there is none', async () => {
    const thumb = await get(url(tA, 'photo', '?thumbnail=1'), admin);
    expect(thumb.statusCode).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/jpeg');
    expect(thumb.headers.etag).toBe(`"${thumbSha}"`);
    expect(thumb.rawPayload.equals(jpeg)).toBe(true);
    expect((await get(url(tA, 'voice', '?thumbnail=1'), admin)).statusCode).toBe(404);
    expect((await get(url(tA, 'photo', '?thumbnail=yes'), admin)).statusCode).toBe(400);
  });

  it('when the file is a document, then it is an attachment with its name; pending media and text messages are 404', async () => {
    const offer = await get(url(tA, 'offer'), admin);
    expect(offer.statusCode).toBe(200);
    expect(offer.headers['content-type']).toBe('application/pdf');
    expect(offer.headers['content-disposition']).toBe(
      `attachment; filename*=UTF-8''${encodeURIComponent('ofertă sală.pdf')}`,
    );
    expect(offer.rawPayload.equals(pdf)).toBe(true);
    const pending = await get(url(tA, 'pending'), admin);
    expect(pending.statusCode).toBe(404);
    expect(pending.json<{ detail: string }>().detail).toContain('pending');
    expect((await get(url(tA, 'text'), admin)).statusCode).toBe(404);
  });

  it('when the thread lists its messages, then each carries its media status and thumbnail size (no keys)', async () => {
    const res = await get(`/api/threads/${encodeURIComponent(tA)}/messages`, admin);
    expect(res.statusCode).toBe(200);
    const items = res.json<{
      items: Array<{ id: string; media: Record<string, unknown> | null }>;
    }>().items;
    const byId = new Map(items.map((m) => [m.id, m.media]));
    expect(byId.get('photo')).toMatchObject({
      status: 'stored',
      mime: 'image/png',
      thumbnail: { width: 320, height: 240 },
    });
    expect(byId.get('voice')).toMatchObject({
      status: 'stored',
      sha256: audioSha,
      thumbnail: null,
    });
    expect(byId.get('pending')).toMatchObject({ status: 'pending', sha256: null });
    expect(JSON.stringify(items)).not.toMatch(/mediaKey|directPath|storageKey/);
  });
});

/** A multipart/form-data body with one file part, as a browser's FormData sends it. */
function multipart(data: Buffer, fileName: string, type: string, field = 'file') {
  const boundary = `----wacrm${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${fileName}"\r\n` +
      `Content-Type: ${type}\r\n\r\n`,
  );
  return {
    payload: Buffer.concat([head, data, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

async function upload(
  account: string,
  who: Record<string, string>,
  body: ReturnType<typeof multipart>,
) {
  return gw.app.inject({
    method: 'POST',
    url: `/api/media?accountId=${account}`,
    headers: { ...who, ...body.headers },
    payload: body.payload,
  });
}

describe('POST /api/media and sending by media id', () => {
  it('when an employee uploads a PDF (declared as a JPEG), then it is stored content-addressed as the PDF it is, once', async () => {
    const offer = Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), randomBytes(20_000)]);
    const res = await upload(
      A,
      bearer(employeeA.token),
      multipart(offer, 'oferta.pdf', 'image/jpeg'),
    );
    expect(res.statusCode).toBe(201);
    const body = res.json<{
      mediaId: string;
      kind: string;
      mime: string;
      size: number;
      sha256: string;
    }>();
    expect(body).toMatchObject({
      kind: 'document',
      mime: 'application/pdf',
      size: offer.length,
      sha256: createHash('sha256').update(offer).digest('hex'),
      fileName: 'oferta.pdf',
    });
    expect(body.mediaId).toMatch(/^md_[0-9a-f]{40}$/);
    const stored = await objects.readBuffer(`sha256/${body.sha256.slice(0, 2)}/${body.sha256}`);
    expect(stored!.equals(offer)).toBe(true);
    const again = await upload(A, admin, multipart(offer, 'alta.pdf', 'application/pdf'));
    expect(again.json<{ mediaId: string }>().mediaId).toBe(body.mediaId);
    const record = await gw.fs.db.collection('mediaUploads').doc(body.mediaId).get();
    expect(record.data()).toMatchObject({
      accountId: A,
      fileName: 'oferta.pdf',
      createdBy: employeeA.uid,
    });
  });

  it('when the upload is over the cap, of a type WhatsApp does not send, not multipart, or for another account, then 413, 415, 415 or 403', async () => {
    const big = Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), randomBytes(UPLOAD_CAP)]);
    const tooBig = await upload(A, admin, multipart(big, 'mare.pdf', 'application/pdf'));
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.headers['content-type']).toMatch(/application\/problem\+json/);
    const text = await upload(
      A,
      admin,
      multipart(Buffer.from('just words'), 'a.txt', 'text/plain'),
    );
    expect(text.statusCode).toBe(415);
    const exe = Buffer.concat([Buffer.from('4d5a90000300', 'hex'), randomBytes(2_000)]);
    expect((await upload(A, admin, multipart(exe, 'a.exe', 'image/png'))).statusCode).toBe(415);
    const json = await gw.app.inject({
      method: 'POST',
      url: `/api/media?accountId=${A}`,
      headers: admin,
      payload: { file: 'x' },
    });
    expect(json.statusCode).toBe(415);
    const wrongField = await upload(
      A,
      admin,
      multipart(pdf, 'a.pdf', 'application/pdf', 'document'),
    );
    expect(wrongField.statusCode).toBe(400);
    const other = await upload(
      A,
      bearer(employeeB.token),
      multipart(pdf, 'a.pdf', 'application/pdf'),
    );
    expect(other.statusCode).toBe(403);
    expect((await upload('not an account', admin, multipart(pdf, 'a.pdf', 'x/y'))).statusCode).toBe(
      400,
    );
  });

  it('when a send names an uploaded media id, then the outbox keeps the id; another account cannot send it (404)', async () => {
    const photo = Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), randomBytes(3_000)]);
    const up = await upload(A, bearer(employeeA.token), multipart(photo, 'sala.jpg', 'image/jpeg'));
    expect(up.statusCode).toBe(201);
    const { mediaId } = up.json<{ mediaId: string }>();
    const send = (accountId: string, who: Record<string, string>, id = mediaId) =>
      gw.app.inject({
        method: 'POST',
        url: '/api/whatsapp/send',
        headers: who,
        payload: {
          accountId,
          to: '+40700000061',
          media: { kind: 'image', mediaId: id, mimetype: 'image/jpeg', caption: 'Sala' },
        },
      });
    const ok = await send(A, bearer(employeeA.token));
    expect(ok.statusCode).toBe(202);
    const { requestId } = ok.json<{ requestId: string }>();
    const outbox = await collections(gw.fs.db).outbox().doc(requestId).get();
    expect(outbox.data()!.media).toMatchObject({ kind: 'image', mediaId, url: null });
    const otherAccount = await send(B, bearer(employeeB.token));
    expect(otherAccount.statusCode).toBe(404);
    expect((await send(A, bearer(employeeA.token), 'md_nope')).statusCode).toBe(400);
    const both = await gw.app.inject({
      method: 'POST',
      url: '/api/whatsapp/send',
      headers: admin,
      payload: {
        accountId: A,
        to: '+40700000061',
        media: { kind: 'image', mediaId, url: 'https://example.com/a.png', mimetype: 'image/png' },
      },
    });
    expect(both.statusCode).toBe(400);
  });
});
