import { randomBytes, X509Certificate } from 'node:crypto';
import { derivePairingCodeKey, encryptedStream, getMediaKeys } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';
import {
  decryptMedia,
  encryptMedia,
  MediaIntegrityError,
  mediaKeys,
  MEDIA_KEY_INFO,
  type EmulatedMediaType,
} from './media-crypto.js';
import { createMediaTlsIdentity } from './media-tls.js';
import { pairingCodeKey, unwrapEphemeral, wrapEphemeral } from './pairing-code.js';

describe('media crypto', () => {
  it.each(Object.keys(MEDIA_KEY_INFO) as EmulatedMediaType[])(
    'derives the same keys as Baileys for %s',
    async (type) => {
      const mediaKey = randomBytes(32);
      const theirs = await getMediaKeys(mediaKey, type);
      const ours = mediaKeys(mediaKey, type);
      expect(ours.iv.equals(Buffer.from(theirs.iv))).toBe(true);
      expect(ours.cipherKey.equals(Buffer.from(theirs.cipherKey))).toBe(true);
      expect(ours.macKey.equals(Buffer.from(theirs.macKey!))).toBe(true);
    },
  );

  it('decrypts what Baileys encrypts for upload, and refuses a file with a flipped byte', async () => {
    const plaintext = randomBytes(70_001);
    const sent = await encryptedStream(plaintext, 'document');
    const { readFile, rm } = await import('node:fs/promises');
    const file = await readFile(sent.encFilePath);
    await rm(sent.encFilePath, { force: true });
    const bytes = decryptMedia(file, sent.mediaKey, 'document', {
      fileSha256: sent.fileSha256,
      fileEncSha256: sent.fileEncSha256,
    });
    expect(bytes.equals(plaintext)).toBe(true);
    file[100] = file[100]! ^ 1;
    expect(() => decryptMedia(file, sent.mediaKey, 'document')).toThrow(MediaIntegrityError);
  });

  it('round-trips its own encryption with the hashes WhatsApp puts in the message', () => {
    const plaintext = randomBytes(1000);
    const sent = encryptMedia(plaintext, 'image');
    expect(sent.file.length).toBe(1008 + 10);
    expect(decryptMedia(sent.file, sent.mediaKey, 'image', sent).equals(plaintext)).toBe(true);
    expect(() => decryptMedia(sent.file, sent.mediaKey, 'video')).toThrow(MediaIntegrityError);
  });
});

describe('pairing code crypto', () => {
  it('derives the same wrapping key as Baileys and unwraps only with the right code', async () => {
    const salt = randomBytes(32);
    const theirs = await derivePairingCodeKey('ABCD1234', salt);
    expect((await pairingCodeKey('ABCD1234', salt)).equals(Buffer.from(theirs))).toBe(true);
    const publicKey = randomBytes(32);
    const wrapped = await wrapEphemeral(publicKey, 'ABCD1234');
    expect((await unwrapEphemeral(wrapped, 'ABCD1234')).equals(publicKey)).toBe(true);
    expect((await unwrapEphemeral(wrapped, 'ABCD1235')).equals(publicKey)).toBe(false);
  });
});

describe('media TLS identity', () => {
  it('is a self-signed certificate for loopback and mmg.whatsapp.net', () => {
    const { certPem } = createMediaTlsIdentity();
    const cert = new X509Certificate(certPem);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('mmg.whatsapp.net')).toBe('mmg.whatsapp.net');
    expect(cert.checkHost('example.com')).toBeUndefined();
    expect(cert.verify(cert.publicKey)).toBe(true);
  });
  it('when the random serial starts with zero bytes, then its DER integer is still minimal (about 1 run in 512 failed CI with "illegal padding")', () => {
    for (const first of [[0x00, 0x01], [0x00, 0x00, 0x7f], [0x00, 0x80], [0xff]]) {
      const serial = Buffer.concat([Buffer.from(first), randomBytes(16 - first.length)]);
      const cert = new X509Certificate(createMediaTlsIdentity(new Date(), serial).certPem);
      expect(cert.verify(cert.publicKey)).toBe(true);
      expect(BigInt(`0x${cert.serialNumber}`) > 0n).toBe(true);
    }
  });
});
