import type { Lang } from './i18n.js';

const locale = (lang: Lang) => (lang === 'ro' ? 'ro-RO' : 'en-GB');

export function formatMoney(lang: Lang, amount: number): string {
  return new Intl.NumberFormat(locale(lang), {
    style: 'currency',
    currency: 'RON',
    maximumFractionDigits: 2,
  }).format(amount);
}

/** A date and time in the reader's zone, or in `timeZone` (the business's, for bookings). */
export function formatDateTime(lang: Lang, iso: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale(lang), {
    dateStyle: 'short',
    timeStyle: 'short',
    ...(timeZone !== undefined ? { timeZone } : {}),
  }).format(new Date(iso));
}

export function formatTime(lang: Lang, iso: string): string {
  return new Intl.DateTimeFormat(locale(lang), { timeStyle: 'short' }).format(new Date(iso));
}

/** A calendar date (YYYY-MM-DD) shown in the reader's language, without time-zone shifts. */
export function formatCalendarDate(lang: Lang, date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  if (y === undefined || m === undefined || d === undefined) return date;
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: 'medium', timeZone: 'UTC' }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

export function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(0)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}
