import { AppError } from '@wacrm/contracts';

const OBJECT_KEYS = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  '__proto__',
  'prototype',
]);

/**
 * Checks a caller-supplied document id before it reaches Firestore, so a bad id is a 400 and
 * not a server error: Firestore's own rules (no "/", not "." or "..", not `__…__`, ≤ 1500
 * bytes), plus Object.prototype names — the in-process emulator keeps documents in plain
 * objects and fails on those; no id this system issues uses them.
 */
export function docId(id: string, what: string): string {
  const ok =
    id.length > 0 &&
    !id.includes('/') &&
    id !== '.' &&
    id !== '..' &&
    !/^__.*__$/.test(id) &&
    Buffer.byteLength(id, 'utf8') <= 1500 &&
    !OBJECT_KEYS.has(id);
  if (!ok) {
    throw new AppError('VALIDATION_FAILED', `${what} is not a valid id`, {
      errors: [{ path: what, message: 'not a valid id' }],
    });
  }
  return id;
}
