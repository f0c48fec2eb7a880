import { describe, expect, it } from 'vitest';
import { findGuests, pickGuests } from './guests.js';
import { fold } from './text.js';

function guests(text: string): number | null {
  return pickGuests(findGuests(fold(text)))?.guests ?? null;
}

describe('guests', () => {
  it('when children or guests are counted, then the count is read', () => {
    expect(guests('vor fi 9 copii')).toBe(9);
    expect(guests('cam 25 de invitați')).toBe(25);
    expect(guests('about 11 kids')).toBe(11);
    expect(guests('doisprezece copii')).toBe(12);
    expect(guests('pentru 30 de persoane')).toBe(30);
  });

  it('when children and adults are both counted, then the children count wins', () => {
    expect(guests('14 copii si 20 de adulti')).toBe(14);
  });

  it('when a range is given, then the upper bound is planned for', () => {
    expect(guests('10-12 copii')).toBe(12);
    expect(guests('intre 20 sau 25 de copii')).toBe(25);
  });

  it('when no number precedes the word, then there is no count', () => {
    expect(guests('copiii sunt mai mari')).toBeNull();
    expect(guests('Palatul Copiilor')).toBeNull();
  });
});
