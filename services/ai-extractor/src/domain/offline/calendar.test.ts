import { describe, expect, it } from 'vitest';
import {
  formatDay,
  localDateOf,
  nextDayOfMonth,
  nextWeekday,
  orthodoxEaster,
  weekdayNextWeek,
  weekdayOf,
} from './calendar.js';

describe('calendar', () => {
  it('when an instant is late evening UTC, then its Bucharest local date is the next day', () => {
    expect(formatDay(localDateOf('2026-03-10T22:30:00Z', 'Europe/Bucharest'))).toBe('2026-03-11');
    expect(formatDay(localDateOf('2026-07-10T20:59:00Z', 'Europe/Bucharest'))).toBe('2026-07-10');
    expect(formatDay(localDateOf('2026-07-10T21:00:00Z', 'Europe/Bucharest'))).toBe('2026-07-11');
  });

  it('when the instant is not ISO-8601, then it is rejected with a clear error', () => {
    expect(() => localDateOf('yesterday', 'Europe/Bucharest')).toThrow(/not an ISO-8601 instant/);
  });

  it('when asked for Orthodox Easter, then it matches the published dates', () => {
    expect(formatDay(orthodoxEaster(2025))).toBe('2025-04-20');
    expect(formatDay(orthodoxEaster(2026))).toBe('2026-04-12');
    expect(formatDay(orthodoxEaster(2027))).toBe('2027-05-02');
  });

  it('when a weekday is asked from a Wednesday, then "this" includes today and "next week" skips a week', () => {
    const wednesday = { year: 2026, month: 9, day: 2 };
    expect(weekdayOf(wednesday)).toBe(2);
    expect(formatDay(nextWeekday(wednesday, 2, true))).toBe('2026-09-02');
    expect(formatDay(nextWeekday(wednesday, 2, false))).toBe('2026-09-09');
    expect(formatDay(nextWeekday(wednesday, 5, false))).toBe('2026-09-05');
    expect(formatDay(weekdayNextWeek(wednesday, 5))).toBe('2026-09-12');
  });

  it('when a day of month must fall on a weekday, then the first month where it does is chosen', () => {
    // 15 September 2026 is a Tuesday; the first Sunday the 15th after it is 15 November 2026.
    const from = { year: 2026, month: 9, day: 1 };
    expect(formatDay(nextDayOfMonth(from, 15, 6) ?? from)).toBe('2026-11-15');
    expect(formatDay(nextDayOfMonth(from, 15, null) ?? from)).toBe('2026-09-15');
    expect(formatDay(nextDayOfMonth({ year: 2026, month: 9, day: 20 }, 31, null) ?? from)).toBe(
      '2026-10-31',
    );
  });
});
