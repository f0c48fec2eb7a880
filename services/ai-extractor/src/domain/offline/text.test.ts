import { describe, expect, it } from 'vitest';
import { capitalise, clauses, fold, parseNumber, sentences } from './text.js';

describe('text', () => {
  it('when text has Romanian diacritics (comma and cedilla forms), then folding removes them and keeps length', () => {
    const original = 'Șase pițipoance ŞI ţânţari, mâine la 5 după-amiază';
    const folded = fold(original);
    expect(folded).toBe('sase pitipoance si tantari, maine la 5 dupa-amiaza');
    expect(folded.length).toBe(original.length);
    expect(fold('🎉 Ionuț')).toHaveLength('🎉 Ionuț'.length);
  });

  it('when numbers are written as words or with separators, then they are parsed', () => {
    expect(parseNumber('doua')).toBe(2);
    expect(parseNumber('douazeci si cinci')).toBe(25);
    expect(parseNumber('1.200')).toBe(1200);
    expect(parseNumber('1,5')).toBe(1.5);
    expect(parseNumber('twelve')).toBe(12);
    expect(parseNumber('cinci si doua')).toBeNull();
  });

  it('when a sentence holds "str." or "1.200", then it is not split there', () => {
    const text = fold('Ok. Str. Lunga 5, bl. 3. Total 1.200 lei!');
    expect(sentences(text).map((s) => text.slice(s.start, s.end).trim())).toEqual([
      'ok',
      'str. lunga 5, bl. 3',
      'total 1.200 lei',
    ]);
    expect(clauses(fold('la 3 nu, dar la 5 da')).length).toBe(2);
  });

  it('when a name is lower case, then it is capitalised word by word', () => {
    expect(capitalise('ana-maria')).toBe('Ana-Maria');
  });
});
