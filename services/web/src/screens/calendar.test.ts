import { describe, expect, it } from 'vitest';
import { visibleDates } from './calendar.js';

describe('calendar dates (Europe/Bucharest calendar days)', () => {
  it('when a week is shown, then it runs Monday to Sunday around the day', () => {
    // 2026-12-12 is a Saturday.
    expect(visibleDates('week', '2026-12-12')).toEqual([
      '2026-12-07',
      '2026-12-08',
      '2026-12-09',
      '2026-12-10',
      '2026-12-11',
      '2026-12-12',
      '2026-12-13',
    ]);
    expect(visibleDates('day', '2026-12-12')).toEqual(['2026-12-12']);
  });

  it('when a month is shown, then whole weeks cover it from the Monday before the 1st, no week wholly outside', () => {
    const dec = visibleDates('month', '2026-12-12');
    expect(dec[0]).toBe('2026-11-30');
    expect(dec.at(-1)).toBe('2027-01-03');
    expect(dec.length % 7).toBe(0);
    // February 2027 starts on a Monday and ends on a Sunday: exactly four weeks.
    const feb = visibleDates('month', '2027-02-10');
    expect([feb[0], feb.at(-1), feb.length]).toEqual(['2027-02-01', '2027-02-28', 28]);
  });
});
