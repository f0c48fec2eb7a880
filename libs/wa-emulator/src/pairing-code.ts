import { createCipheriv, createDecipheriv, hkdfSync, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** PBKDF2-SHA256 over the 8-character code, 2^17 rounds: the key that wraps both ephemerals. */
export async function pairingCodeKey(code: string, salt: Uint8Array): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(code, 'utf8'), salt, 2 << 16, 32, 'sha256');
}

/** `salt(32) | iv(16) | AES-256-CTR(public key)`, as both sides wrap their ephemeral key. */
export async function wrapEphemeral(publicKey: Uint8Array, code: string): Promise<Buffer> {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', await pairingCodeKey(code, salt), iv);
  return Buffer.concat([salt, iv, cipher.update(publicKey), cipher.final()]);
}

export async function unwrapEphemeral(wrapped: Uint8Array, code: string): Promise<Buffer> {
  if (wrapped.length !== 80) throw new Error('wrapped ephemeral key is not 80 bytes');
  const buffer = Buffer.from(wrapped);
  const decipher = createDecipheriv(
    'aes-256-ctr',
    await pairingCodeKey(code, buffer.subarray(0, 32)),
    buffer.subarray(32, 48),
  );
  return Buffer.concat([decipher.update(buffer.subarray(48, 80)), decipher.final()]);
}

export interface CompanionKeyBundle {
  companionIdentity: Buffer;
  primaryIdentity: Buffer;
  random: Buffer;
}

/**
 * Opens the companion's `link_code_pairing_wrapped_key_bundle`: `salt(32) | iv(12) | AES-GCM(...)`
 * keyed by HKDF(shared ephemeral secret, salt, "link_code_pairing_key_bundle_encryption_key").
 * A wrong code gives another shared secret, so the tag does not verify.
 */
export function openKeyBundle(wrapped: Uint8Array, sharedKey: Uint8Array): CompanionKeyBundle {
  const buffer = Buffer.from(wrapped);
  if (buffer.length !== 32 + 12 + 96 + 16) throw new Error('key bundle has the wrong size');
  const key = Buffer.from(
    hkdfSync(
      'sha256',
      sharedKey,
      buffer.subarray(0, 32),
      'link_code_pairing_key_bundle_encryption_key',
      32,
    ),
  );
  const decipher = createDecipheriv('aes-256-gcm', key, buffer.subarray(32, 44));
  decipher.setAuthTag(buffer.subarray(buffer.length - 16));
  const plain = Buffer.concat([
    decipher.update(buffer.subarray(44, buffer.length - 16)),
    decipher.final(),
  ]);
  return {
    companionIdentity: plain.subarray(0, 32),
    primaryIdentity: plain.subarray(32, 64),
    random: plain.subarray(64, 96),
  };
}

/** The adv secret both sides derive: HKDF(ephemeral shared | identity shared | random, "adv_secret"). */
export function linkCodeAdvSecret(
  ephemeralShared: Uint8Array,
  identityShared: Uint8Array,
  random: Uint8Array,
): Buffer {
  return Buffer.from(
    hkdfSync(
      'sha256',
      Buffer.concat([ephemeralShared, identityShared, random]),
      Buffer.alloc(0),
      'adv_secret',
      32,
    ),
  );
}
