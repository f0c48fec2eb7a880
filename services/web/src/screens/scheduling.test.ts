import { describe, expect, it } from 'vitest';
import { quickReplyQuery } from './scheduling.js';

describe('the composer’s quick-reply query (issue 19 item 6)', () => {
  it('when the text is a slash and a shortcut being typed, then that is the query; anything else is no query', () => {
    expect(quickReplyQuery('/')).toBe('');
    expect(quickReplyQuery('/confirm')).toBe('confirm');
    expect(quickReplyQuery('/zi-inainte_2')).toBe('zi-inainte_2');
    for (const text of [
      '',
      'salut',
      ' /confirm',
      '/Confirm',
      '/confirm ',
      'a/confirm',
      `/${'x'.repeat(33)}`,
    ]) {
      expect(quickReplyQuery(text)).toBeNull();
    }
  });
});
