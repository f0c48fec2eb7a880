import { describe, expect, it } from 'vitest';
import { findTimes, type TimeMention } from './times.js';
import { fold } from './text.js';

function times(text: string): TimeMention[] {
  return findTimes(fold(text));
}
function lastTime(text: string): string | null {
  return (
    times(text)
      .filter((t) => !t.negated)
      .at(-1)?.time ?? null
  );
}

describe('times', () => {
  it('when "ora N" or "la N" is said, then it is a clock time', () => {
    expect(lastTime('putem ora 11?')).toBe('11:00');
    expect(lastTime('Venim la 18')).toBe('18:00');
    expect(lastTime('pe la 10 dimineata')).toBe('10:00');
  });

  it('when an hour from 1 to 7 has no qualifier, then the afternoon is meant', () => {
    expect(lastTime('la 4 va rog')).toBe('16:00');
    expect(lastTime('ora 3 si jumatate')).toBe('15:30');
    expect(lastTime('la 4 si jumate')).toBe('16:30');
  });

  it('when "după-amiaza", "seara" or "dimineața" qualify an hour, then they decide am/pm', () => {
    expect(lastTime('la 5 după-amiaza')).toBe('17:00');
    expect(lastTime('la 6 seara')).toBe('18:00');
    expect(lastTime('diseara la 8')).toBe('20:00');
    expect(lastTime('la 7 dimineata')).toBe('07:00');
  });

  it('when the hour is written HH:mm, 14h30 or with pm, then it is read as such', () => {
    expect(lastTime('ne vedem la 16:45')).toBe('16:45');
    expect(lastTime('incepem 14h30')).toBe('14:30');
    expect(lastTime('party at 3pm')).toBe('15:00');
    expect(lastTime('at 10:30 am')).toBe('10:30');
    expect(lastTime('ora 12.30')).toBe('12:30');
  });

  it('when a range is given, then the start is the time and the range its length', () => {
    const range = times('de la 16 la 18:30');
    expect(range[0]).toMatchObject({ time: '16:00', durationHours: 2.5 });
    expect(times('intre 3 si 5')[0]).toMatchObject({ time: '15:00', durationHours: 2 });
    expect(times('interval 10-12, ok?')[0]).toMatchObject({ time: '10:00', durationHours: 2 });
    expect(times('from 2 to 4 pm')[0]).toMatchObject({ time: '14:00', durationHours: 2 });
    expect(times('9am-11am')[0]).toMatchObject({ time: '09:00', durationHours: 2 });
  });

  it('when a time is refused or replaced, then it is marked negated', () => {
    const said = times('la 15 nu putem, dar la 17 da');
    expect(said.map((t) => [t.time, t.negated])).toEqual([
      ['15:00', true],
      ['17:00', false],
    ]);
    expect(lastTime('mutam la 12 in loc de ora 11')).toBe('12:00');
  });

  it('when a number after "la" is money, guests, hours or a date, then it is not a time', () => {
    expect(lastTime('ajunge la 400 lei')).toBeNull();
    expect(lastTime('la 12 copii e bine')).toBeNull();
    expect(lastTime('la 2 ore distanta')).toBeNull();
    expect(lastTime('vine la 5 mai')).toBeNull();
    expect(lastTime('8-10 de copii')).toBeNull();
  });

  it('when a dotted time cannot be a date, then it is a clock time', () => {
    expect(lastTime('sambata, 14.00')).toBe('14:00');
    expect(lastTime('incepem 10.30 fix')).toBe('10:30');
  });

  it('when the hour is a word after "ora", then it is read', () => {
    expect(lastTime('ora cinci')).toBe('17:00');
    expect(lastTime('ora unsprezece')).toBe('11:00');
  });
});
