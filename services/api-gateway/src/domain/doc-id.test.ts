import { describe, expect, it } from 'vitest';
import { docId } from './doc-id.js';

describe('docId', () => {
  it('when an id breaks a Firestore rule or is an Object.prototype name, then it is a validation error naming the field', () => {
    for (const bad of [
      '',
      'a/b',
      '.',
      '..',
      '__x__',
      'é'.repeat(751),
      'constructor',
      '__proto__',
      'toString',
    ]) {
      expect(() => docId(bad, 'threadId'), bad.slice(0, 20)).toThrow(/threadId is not a valid id/);
    }
  });

  it('when an id is an ordinary thread id, then it passes unchanged', () => {
    expect(docId('wa-01__40712345678@s.whatsapp.net', 'threadId')).toBe(
      'wa-01__40712345678@s.whatsapp.net',
    );
  });
});
