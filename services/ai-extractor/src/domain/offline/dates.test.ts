import { describe, expect, it } from 'vitest';
import { formatDay, type CalendarDay } from './calendar.js';
import { findDates, pickDate } from './dates.js';
import { fold } from './text.js';

/** Wednesday, 2 September 2026. */
const WEDNESDAY: CalendarDay = { year: 2026, month: 9, day: 2 };

function dateSaid(text: string, reference: CalendarDay = WEDNESDAY): string | null {
  const picked = pickDate(findDates(fold(text), reference));
  return picked === null ? null : formatDay(picked.date);
}

describe('dates', () => {
  it('when a day and a Romanian month name are given, then that date in the coming year is used', () => {
    expect(dateSaid('Vrem clovnul pe 19 septembrie')).toBe('2026-09-19');
    expect(dateSaid('ziua e pe 3 oct.')).toBe('2026-10-03');
    expect(dateSaid('pentru 7 Februarie, va rog')).toBe('2027-02-07');
    expect(dateSaid('Petrecerea: 1-lea decembrie 2026')).toBe('2026-12-01');
  });

  it('when the date is written in English, then month-first and ordinals are understood', () => {
    expect(dateSaid('Could we book for October 10th?')).toBe('2026-10-10');
    expect(dateSaid('on the 3rd of November')).toBe('2026-11-03');
  });

  it('when the date is numeric, then dd.mm and dd/mm are days first', () => {
    expect(dateSaid('pt 26.09 la 11')).toBe('2026-09-26');
    expect(dateSaid('rezervare 4/10 ora 16')).toBe('2026-10-04');
    expect(dateSaid('data 05.01.2027')).toBe('2027-01-05');
  });

  it('when a dotted number follows "ora", then it is a clock time, not a date', () => {
    expect(dateSaid('venim la ora 10.30')).toBeNull();
  });

  it('when relative days are used with a booking cue, then they count from the message date', () => {
    expect(dateSaid('aveti liber maine la 17?')).toBe('2026-09-03');
    expect(dateSaid('Poimâine putem la ora 11?')).toBe('2026-09-04');
    expect(dateSaid('Is a clown free tomorrow at 4pm?')).toBe('2026-09-03');
  });

  it('when "mâine" is about paying or calling back, then it is not the party date', () => {
    expect(dateSaid('restul il trimit maine')).toBeNull();
    expect(dateSaid('va sun maine sa confirm')).toBeNull();
    expect(dateSaid('(azi e ziua bunicii)')).toBeNull();
  });

  it('when a weekday is named, then bare means the next one and "viitoare" the one next week', () => {
    expect(dateSaid('Vineri vrem Batman')).toBe('2026-09-04');
    expect(dateSaid('vrem sambata asta')).toBe('2026-09-05');
    expect(dateSaid('duminica viitoare la 12')).toBe('2026-09-13');
    expect(dateSaid('next Saturday please')).toBe('2026-09-12');
  });

  it('when a weekday comes with a day number, then the day number decides', () => {
    expect(dateSaid('duminica de 13')).toBe('2026-09-13');
    expect(dateSaid('sambata 26, ora 10')).toBe('2026-09-26');
    // No Sunday the 15th in September or October 2026: the first one is in November.
    expect(dateSaid('duminica de 15')).toBe('2026-11-15');
    expect(dateSaid('pe 20 la ora 12')).toBe('2026-09-20');
  });

  it('when a holiday is named, then its next date is used (Orthodox Easter computed)', () => {
    expect(dateSaid('vrem Mos Craciun de Craciun')).toBe('2026-12-25');
    expect(dateSaid('petrecere de Halloween')).toBe('2026-10-31');
    expect(dateSaid('de Ziua Copilului', { year: 2026, month: 5, day: 10 })).toBe('2026-06-01');
    expect(dateSaid('de Paste', { year: 2026, month: 3, day: 1 })).toBe('2026-04-12');
    expect(dateSaid('in ajunul Craciunului')).toBe('2026-12-24');
  });

  it('when a clause is in the past, then its weekday is not the booking date', () => {
    expect(dateSaid('sambata trecuta am avut Elsa')).toBeNull();
    expect(dateSaid('Vineri a fost super, multumim!')).toBeNull();
  });

  it('when a date is negated or replaced, then it is skipped', () => {
    expect(dateSaid('nu pe 12 octombrie, ci pe 19 octombrie')).toBe('2026-10-19');
  });

  it('when a number is a quantity, then it is not a day of the month', () => {
    expect(dateSaid('pe 2 ore, 10 copii')).toBeNull();
    expect(dateSaid('3 luni de zile')).toBeNull();
  });

  it('when a message has a vague and a specific date, then the specific one wins', () => {
    expect(dateSaid('sambata viitoare, adica pe 19 septembrie')).toBe('2026-09-19');
  });

  it('when the street name holds a date, then an address span blocks it', () => {
    const text = 'str. 1 Mai 10';
    expect(pickDate(findDates(fold(text), WEDNESDAY, [{ start: 0, end: text.length }]))).toBeNull();
  });
});
