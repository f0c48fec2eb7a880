import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^wacrm_(ak_[a-z0-9]{10})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedApiKey {
  id: string;
  /** Shown to the integrator once; only `hash` is stored. */
  key: string;
  hash: string;
  prefix: string;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function randomId(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** `wacrm_<id>_<secret>`: the id locates the document, the secret is 256 random bits. */
export function generateApiKey(): GeneratedApiKey {
  const id = `ak_${randomId(10)}`;
  const key = `wacrm_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: sha256Hex(key), prefix: key.slice(0, 16) };
}

export function parseApiKey(key: string): { id: string } | undefined {
  const match = KEY_PATTERN.exec(key);
  return match?.[1] !== undefined ? { id: match[1] } : undefined;
}

/** Compares secrets by their digests, so neither length nor content leaks through timing. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(
    createHash('sha256').update(a).digest(),
    createHash('sha256').update(b).digest(),
  );
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  return safeEqual(sha256Hex(key), storedHash);
}
