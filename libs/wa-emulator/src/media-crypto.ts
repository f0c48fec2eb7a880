import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** The media types whose keys the emulator derives, with WhatsApp's HKDF info names. */
export const MEDIA_KEY_INFO = {
  image: 'Image',
  sticker: 'Image',
  video: 'Video',
  gif: 'Video',
  audio: 'Audio',
  ptt: 'Audio',
  document: 'Document',
  'md-msg-hist': 'History',
} as const;
export type EmulatedMediaType = keyof typeof MEDIA_KEY_INFO;

const MAC_BYTES = 10;

export interface MediaKeys {
  iv: Buffer;
  cipherKey: Buffer;
  macKey: Buffer;
}

/** mediaKey → HKDF-SHA256 (no salt, "WhatsApp <Type> Keys") → iv | cipherKey | macKey | refKey. */
export function mediaKeys(mediaKey: Uint8Array, type: EmulatedMediaType): MediaKeys {
  const expanded = Buffer.from(
    hkdfSync('sha256', mediaKey, Buffer.alloc(0), `WhatsApp ${MEDIA_KEY_INFO[type]} Keys`, 112),
  );
  return {
    iv: expanded.subarray(0, 16),
    cipherKey: expanded.subarray(16, 48),
    macKey: expanded.subarray(48, 80),
  };
}

export interface EncryptedMedia {
  mediaKey: Buffer;
  /** What the media server stores and serves: AES-256-CBC ciphertext then a 10-byte MAC. */
  file: Buffer;
  fileSha256: Buffer;
  fileEncSha256: Buffer;
  fileLength: number;
}

/** WhatsApp's media encryption, as a sender does it before uploading. */
export function encryptMedia(plaintext: Uint8Array, type: EmulatedMediaType): EncryptedMedia {
  const mediaKey = randomBytes(32);
  const { iv, cipherKey, macKey } = mediaKeys(mediaKey, type);
  const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
  const enc = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const mac = createHmac('sha256', macKey).update(iv).update(enc).digest().subarray(0, MAC_BYTES);
  const file = Buffer.concat([enc, mac]);
  return {
    mediaKey,
    file,
    fileSha256: sha256(plaintext),
    fileEncSha256: sha256(file),
    fileLength: plaintext.length,
  };
}

export class MediaIntegrityError extends Error {
  override readonly name = 'MediaIntegrityError';
}

/** The receiving side: checks the MAC (and the hashes when given) and decrypts. */
export function decryptMedia(
  file: Uint8Array,
  mediaKey: Uint8Array,
  type: EmulatedMediaType,
  expect: { fileSha256?: Uint8Array | null; fileEncSha256?: Uint8Array | null } = {},
): Buffer {
  if (file.length < MAC_BYTES + 16) throw new MediaIntegrityError('media file too short');
  if (expect.fileEncSha256 && !sha256(file).equals(Buffer.from(expect.fileEncSha256))) {
    throw new MediaIntegrityError('fileEncSha256 does not match the stored file');
  }
  const { iv, cipherKey, macKey } = mediaKeys(mediaKey, type);
  const enc = file.subarray(0, file.length - MAC_BYTES);
  const mac = file.subarray(file.length - MAC_BYTES);
  const expected = createHmac('sha256', macKey).update(iv).update(enc).digest();
  if (!timingSafeEqual(expected.subarray(0, MAC_BYTES), mac)) {
    throw new MediaIntegrityError('media MAC does not verify');
  }
  const decipher = createDecipheriv('aes-256-cbc', cipherKey, iv);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(enc), decipher.final()]);
  } catch {
    throw new MediaIntegrityError('media does not decrypt');
  }
  if (expect.fileSha256 && !sha256(plaintext).equals(Buffer.from(expect.fileSha256))) {
    throw new MediaIntegrityError('fileSha256 does not match the plaintext');
  }
  return plaintext;
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}
