import { describe, expect, it } from 'vitest';
import { canonicalCharacter, findCharacters } from './characters.js';
import { fold } from './text.js';

function named(text: string): Array<[string, boolean]> {
  return findCharacters(fold(text)).map((c) => [c.name, c.negated]);
}

describe('characters', () => {
  it('when an alias or translation is used, then the catalogue name is returned', () => {
    expect(named('vrem Omul Păianjen')).toEqual([['Spiderman', false]]);
    expect(named('un spider-man si un Mini Maus')).toEqual([
      ['Spiderman', false],
      ['Minnie', false],
    ]);
    expect(named('Santa Claus visit')).toEqual([['Moș Crăciun', false]]);
    expect(canonicalCharacter('MOS CRACIUN')).toBe('Moș Crăciun');
  });

  it('when diacritics or Romanian endings differ, then the character is still found', () => {
    expect(named('clovnul si vrăjitorul')).toEqual([
      ['Clovn', false],
      ['Vrăjitor', false],
    ]);
    expect(named('doua prințese')).toEqual([['Prințesă', false]]);
    expect(named('o zână')).toEqual([['Zână', false]]);
  });

  it('when a character is refused before or after its name, then it is negated', () => {
    expect(named('fara Hulk')).toEqual([['Hulk', true]]);
    expect(named('Olaf (nu Elsa)')).toEqual([
      ['Olaf', false],
      ['Elsa', true],
    ]);
    expect(named('Batman nu mai vrem')).toEqual([['Batman', true]]);
  });

  it('when "Wednesday" is the weekday, then it is not the character', () => {
    expect(named('on Wednesday at 5')).toEqual([]);
    expect(named('Wednesday, March 4th')).toEqual([]);
    expect(named('vrem Wednesday 2 ore')).toEqual([['Wednesday', false]]);
  });

  it('when "de Moș Crăciun" names the holiday, then it is not the character', () => {
    expect(named('de Mos Craciun vrem un pirat')).toEqual([['Pirat', false]]);
  });

  it('when a prince and a princess are booked, then both are found', () => {
    expect(named('un print si o printesa')).toEqual([
      ['Prinț', false],
      ['Prințesă', false],
    ]);
  });

  it('when a service is named, then it is not a character', () => {
    expect(named('ursitoare, vata de zahar si popcorn')).toEqual([]);
  });

  it('when the name is blocked (the child is called Anna), then it is skipped', () => {
    const text = 'pentru Anna, 5 ani';
    expect(findCharacters(fold(text), [{ start: 7, end: 11 }])).toEqual([]);
  });
});
