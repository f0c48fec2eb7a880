import { verifySignature } from 'libsignal/src/curve.js';

/**
 * XEdDSA verification that honours the result. Baileys 7.0.0-rc14's `Curve.verify` treats "did not
 * throw" as valid, but libsignal 6's `verifySignature` returns false for a bad signature instead of
 * throwing, so Baileys accepts any well-formed signature. The emulator checks what its clients sign
 * with this instead.
 */
export function verifyXeddsa(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== 64) return false;
  const key = publicKey.length === 33 ? publicKey : Buffer.concat([Buffer.from([5]), publicKey]);
  try {
    return verifySignature(key, message, signature);
  } catch {
    return false;
  }
}
