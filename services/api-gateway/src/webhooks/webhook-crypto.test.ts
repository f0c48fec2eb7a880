import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, generateWebhookSecret, signWebhook } from './webhook-crypto.js';

describe('webhook crypto', () => {
  it('when a secret is sealed, then only the same master key opens it and the ciphertext hides it', () => {
    const box = createSecretBox('m'.repeat(40));
    const secret = generateWebhookSecret();
    const sealed = box.seal(secret);
    expect(sealed).not.toContain(secret);
    expect(box.open(sealed)).toBe(secret);
    expect(() => createSecretBox('x'.repeat(40)).open(sealed)).toThrow();
  });

  it('when a body is signed, then the signature is HMAC-SHA256 over "timestamp.body"', () => {
    const expected = createHmac('sha256', 'whsec_x').update('1700000000.{"a":1}').digest('hex');
    expect(signWebhook('whsec_x', 1_700_000_000, '{"a":1}')).toBe(`v1=${expected}`);
  });
});
