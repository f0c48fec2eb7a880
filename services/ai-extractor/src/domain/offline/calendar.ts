/** Calendar arithmetic on plain YYYY-MM-DD dates (no time, no zone once the local date is known). */

export interface CalendarDay {
  year: number;
  month: number; // 1–12
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local calendar date of an instant in a time zone ("2026-01-07T23:30:00Z" → 2026-01-08 in Bucharest). */
export function localDateOf(isoInstant: string, timeZone: string): CalendarDay {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  const instant = new Date(isoInstant);
  if (Number.isNaN(instant.getTime()))
    throw new RangeError(`not an ISO-8601 instant: ${isoInstant}`);
  const parts = formatter.formatToParts(instant);
  const get = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((part) => part.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day') };
}

function toUtc(day: CalendarDay): Date {
  return new Date(Date.UTC(day.year, day.month - 1, day.day));
}

function fromUtc(date: Date): CalendarDay {
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

export function isValidDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  const date = toUtc({ year, month, day });
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function addDays(day: CalendarDay, days: number): CalendarDay {
  const date = toUtc(day);
  date.setUTCDate(date.getUTCDate() + days);
  return fromUtc(date);
}

/** 0 = Monday … 6 = Sunday (weeks start on Monday in Romania). */
export function weekdayOf(day: CalendarDay): number {
  return (toUtc(day).getUTCDay() + 6) % 7;
}

export function compareDays(a: CalendarDay, b: CalendarDay): number {
  return toUtc(a).getTime() - toUtc(b).getTime();
}

export function formatDay(day: CalendarDay): string {
  const pad = (n: number, width: number): string => String(n).padStart(width, '0');
  return `${pad(day.year, 4)}-${pad(day.month, 2)}-${pad(day.day, 2)}`;
}

/** The first date on or after `from` with this month and day (rolls into next year). */
export function nextMonthDay(from: CalendarDay, month: number, day: number): CalendarDay | null {
  for (let year = from.year; year <= from.year + 4; year += 1) {
    if (!isValidDay(year, month, day)) continue;
    const candidate = { year, month, day };
    if (compareDays(candidate, from) >= 0) return candidate;
  }
  return null;
}

/**
 * The first date on or after `from` whose day of month is `day`; when a weekday is given, the first
 * such date that also falls on it ("duminica de 15"), else the first plain match.
 */
export function nextDayOfMonth(
  from: CalendarDay,
  day: number,
  weekday: number | null,
): CalendarDay | null {
  let first: CalendarDay | null = null;
  for (let k = 0; k < 14; k += 1) {
    const monthIndex = from.month - 1 + k;
    const year = from.year + Math.floor(monthIndex / 12);
    const month = (monthIndex % 12) + 1;
    if (!isValidDay(year, month, day)) continue;
    const candidate = { year, month, day };
    if (compareDays(candidate, from) < 0) continue;
    if (weekday === null || weekdayOf(candidate) === weekday) return candidate;
    first ??= candidate;
  }
  return first;
}

/** The next date falling on `weekday`: strictly after `from`, or on/after when `allowToday`. */
export function nextWeekday(from: CalendarDay, weekday: number, allowToday: boolean): CalendarDay {
  let delta = (weekday - weekdayOf(from) + 7) % 7;
  if (delta === 0 && !allowToday) delta = 7;
  return addDays(from, delta);
}

/** `weekday` in the calendar week after the one holding `from` ("sâmbăta viitoare"). */
export function weekdayNextWeek(from: CalendarDay, weekday: number): CalendarDay {
  return addDays(from, 7 - weekdayOf(from) + weekday);
}

/** Orthodox Easter Sunday (Meeus' Julian algorithm, shifted to the Gregorian calendar). */
export function orthodoxEaster(year: number): CalendarDay {
  const a = year % 4;
  const b = year % 7;
  const c = year % 19;
  const d = (19 * c + 15) % 30;
  const e = (2 * a + 4 * b - d + 34) % 7;
  const month = Math.floor((d + e + 114) / 31);
  const day = ((d + e + 114) % 31) + 1;
  const julianToGregorian = Math.floor(year / 100) - Math.floor(year / 400) - 2;
  return addDays({ year, month, day }, julianToGregorian);
}
