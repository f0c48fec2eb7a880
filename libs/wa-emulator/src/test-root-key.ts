/**
 * The root key of the emulator's Noise certificate chain. It is a published test constant, not a
 * secret: the emulator signs its intermediate certificate with the private half, and the preload
 * module makes Baileys trust the public half instead of WhatsApp's. A process that never loads the
 * preload keeps WhatsApp's root and refuses the emulator (proven in preload.int.test.ts).
 */
export const TEST_ROOT_PRIVATE_KEY = Buffer.from(
  '683230f2c06a084b048d96fc96438c37bf100ff83f77e540594e4d62d8538277',
  'hex',
);

/** Curve25519 public key of TEST_ROOT_PRIVATE_KEY, 32 bytes without the 0x05 type prefix. */
export const TEST_ROOT_PUBLIC_KEY = Buffer.from(
  '27a4199f982fdcc8906cc475c41f149bbb3e730cf4e33c4733dab7038125965b',
  'hex',
);

/**
 * The issuer serial of the emulator's intermediate certificate; WhatsApp's root is serial 0. The
 * preload sets `WA_CERT_DETAILS.SERIAL` to it as well. Baileys 7.0.0-rc14 compares the serial
 * strictly but accepts any well-formed signature (see signature.ts), so the serial is what makes a
 * process without the preload refuse the emulator today; the signature takes over once Baileys
 * honours it.
 */
export const TEST_ROOT_SERIAL = 0x7e57;
