import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { waMessageIdFor } from './wa-ids.js';

describe('waMessageIdFor', () => {
  it('when given a requestId, then it is 3EB0 + the first 18 hex of sha256, upper-case', () => {
    for (const requestId of ['req-00000001', 'a'.repeat(128), 'ăîșț-unicode-ok', 'x'.repeat(55)]) {
      const expected = createHash('sha256').update(requestId).digest('hex').slice(0, 18);
      expect(waMessageIdFor(requestId)).toBe(`3EB0${expected.toUpperCase()}`);
    }
  });

  it('when the same requestId is retried, then the id is the same, and differs for another', () => {
    expect(waMessageIdFor('req-retry-1')).toBe(waMessageIdFor('req-retry-1'));
    expect(waMessageIdFor('req-retry-1')).not.toBe(waMessageIdFor('req-retry-2'));
    expect(waMessageIdFor('req-retry-1')).toMatch(/^3EB0[0-9A-F]{18}$/);
  });
});
