import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthCipher, parseAuthStateKey } from './auth-cipher.js';

describe('AuthCipher', () => {
  const cipher = new AuthCipher(randomBytes(32));

  it('when encrypted, then the plaintext does not appear in the bytes and decrypts back', () => {
    const secret = JSON.stringify({ noiseKey: 'very-secret-private-key-material' });
    const blob = cipher.encrypt(secret, 'acc-1|creds');
    expect(blob.toString('utf8')).not.toContain('very-secret');
    expect(blob.toString('base64')).not.toContain(Buffer.from('very-secret').toString('base64'));
    expect(cipher.decrypt(blob, 'acc-1|creds')).toBe(secret);
  });

  it('when decrypted with another key, another place or tampered bytes, then it throws', () => {
    const blob = cipher.encrypt('x', 'acc-1|creds');
    expect(() => new AuthCipher(randomBytes(32)).decrypt(blob, 'acc-1|creds')).toThrow();
    expect(() => cipher.decrypt(blob, 'acc-2|creds')).toThrow();
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(() => cipher.decrypt(tampered, 'acc-1|creds')).toThrow();
  });

  it('when the key is hex or base64 of 32 bytes, then it parses; otherwise it throws', () => {
    const raw = randomBytes(32);
    expect(parseAuthStateKey(raw.toString('hex')).equals(raw)).toBe(true);
    expect(parseAuthStateKey(raw.toString('base64')).equals(raw)).toBe(true);
    expect(() => parseAuthStateKey(randomBytes(16).toString('base64'))).toThrow();
  });
});
