import { describe, expect, it } from 'vitest';
import { findDurations, isPriceList } from './durations.js';
import { fold } from './text.js';

function hours(text: string): number[] {
  return findDurations(fold(text)).map((d) => d.hours);
}

describe('durations', () => {
  it('when hours are given in digits or words, then they are read', () => {
    expect(hours('vrem 3 ore')).toEqual([3]);
    expect(hours('doua ore ajung')).toEqual([2]);
    expect(hours('o oră e suficient')).toEqual([1]);
    expect(hours('for 2 hours')).toEqual([2]);
    expect(hours('2h')).toEqual([2]);
  });

  it('when halves and minutes are used, then they become fractions of an hour', () => {
    expect(hours('o ora si jumatate')).toEqual([1.5]);
    expect(hours('2 ore și jumătate')).toEqual([2.5]);
    expect(hours('1,5 ore')).toEqual([1.5]);
    expect(hours('45 de minute')).toEqual([0.75]);
    expect(hours('jumatate de ora')).toEqual([0.5]);
    expect(hours('1h30')).toEqual([1.5]);
    expect(hours('an hour and a half')).toEqual([1.5]);
    expect(hours('o ora jumate')).toEqual([1.5]);
  });

  it('when a length is a limit or a delay, then it is not the party length', () => {
    expect(hours('minim 2 ore')).toEqual([]);
    expect(hours('ajungem in 20 de minute')).toEqual([]);
    expect(hours('peste 2 ore va sun')).toEqual([]);
  });

  it('when "ora N" is a clock time, then it is not one hour', () => {
    expect(hours('pe 15 ora 14')).toEqual([]);
  });

  it('when a message prices two lengths, then it is a price list', () => {
    const list = findDurations(fold('1 oră: 450 lei, 2 ore: 700 lei'));
    expect(list.every((d) => d.priced)).toBe(true);
    expect(isPriceList(list)).toBe(true);
    expect(isPriceList(findDurations(fold('2 ore: 700 lei')))).toBe(false);
  });
});
