import {
  foldForSearch,
  type ClientListQuery,
  type ClientRow,
  type EventDoc,
  type ReportFigures,
  type ReportRow,
} from '@wacrm/contracts';
import { aggregateClient, type AggregateThread } from './client-aggregate.js';
import { bookingMoney, bookingStatusOf } from './event-figures.js';
import type { SavedEvent } from './events.repository.js';

/**
 * Issue 19 items 7 and 8, pure: the monthly report and the clients list, computed only from the
 * events (and conversations) they are given — callers pass only what the caller may see.
 */

/** Whether a booking counts in a report: kept, and neither a lead nor cancelled. */
export function reportable(event: Pick<EventDoc, 'isArchived' | 'status'>): boolean {
  const status = bookingStatusOf(event);
  return !event.isArchived && status !== 'lead' && status !== 'cancelled';
}

/** `total` bani split in `n` shares that add up exactly (the first ones get the remainder). */
export function shares(total: number, n: number): number[] {
  const base = Math.trunc(total / n);
  const rest = total - base * n;
  return Array.from({ length: n }, (_, i) => base + (i < Math.abs(rest) ? Math.sign(rest) : 0));
}

interface Bucket {
  key: string | null;
  name: string | null;
  bookings: number;
  booked: number;
  collected: number;
  outstanding: number;
}

const bani = (v: number | null) => Math.round((v ?? 0) * 100);
const toFigures = (b: Omit<Bucket, 'key' | 'name'>): ReportFigures => ({
  bookings: b.bookings,
  booked: b.booked / 100,
  collected: b.collected / 100,
  outstanding: b.outstanding / 100,
});

/**
 * Booked (price), collected (paid) and outstanding (bookingMoney's) of the bookings dated in
 * `month` (YYYY-MM), in total, by character and by performer. A booking with several characters
 * or performers gives each an equal share of its money (so the rows add up to the totals) and
 * counts once for each; one with none is in the row with key null. Rows by booked, largest first.
 */
export function monthlyReportOf(
  events: readonly SavedEvent[],
  month: string,
  performerNames: ReadonlyMap<string, string>,
  today?: string,
): { totals: ReportFigures; byCharacter: ReportRow[]; byPerformer: ReportRow[] } {
  const totals = { bookings: 0, booked: 0, collected: 0, outstanding: 0 };
  const byCharacter = new Map<string | null, Bucket>();
  const byPerformer = new Map<string | null, Bucket>();
  const add = (
    map: Map<string | null, Bucket>,
    keys: ReadonlyArray<{ key: string | null; name: string | null }>,
    money: { booked: number; collected: number; outstanding: number },
  ) => {
    const split = {
      booked: shares(money.booked, keys.length),
      collected: shares(money.collected, keys.length),
      outstanding: shares(money.outstanding, keys.length),
    };
    keys.forEach(({ key, name }, i) => {
      const b = map.get(key) ?? { key, name, bookings: 0, booked: 0, collected: 0, outstanding: 0 };
      b.bookings += 1;
      b.booked += split.booked[i]!;
      b.collected += split.collected[i]!;
      b.outstanding += split.outstanding[i]!;
      map.set(key, b);
    });
  };
  for (const { event } of events) {
    if (!event.date.startsWith(`${month}-`) || !reportable(event)) continue;
    const m = bookingMoney(event, today);
    const money = {
      booked: bani(m.price),
      collected: bani(m.paid),
      outstanding: bani(m.outstanding),
    };
    totals.bookings += 1;
    totals.booked += money.booked;
    totals.collected += money.collected;
    totals.outstanding += money.outstanding;
    // One row per character however it is spelt ("elsa", "Elsa "): the first spelling names it.
    const characters = new Map<string, string>();
    for (const c of event.characters) {
      const key = foldForSearch(c.trim());
      if (key !== '' && !characters.has(key)) characters.set(key, c.trim());
    }
    add(
      byCharacter,
      characters.size === 0
        ? [{ key: null, name: null }]
        : [...characters].map(([key, name]) => ({
            key,
            name: byCharacter.get(key)?.name ?? name,
          })),
      money,
    );
    const performers = [...new Set(event.performerIds ?? [])];
    add(
      byPerformer,
      performers.length === 0
        ? [{ key: null, name: null }]
        : performers.map((id) => ({ key: id, name: performerNames.get(id) ?? null })),
      money,
    );
  }
  const rows = (map: Map<string | null, Bucket>): ReportRow[] =>
    [...map.values()]
      .sort((a, b) => b.booked - a.booked || (a.name ?? '').localeCompare(b.name ?? '', 'ro'))
      .map((b) => ({ key: b.key, name: b.name, ...toFigures(b) }));
  return {
    totals: toFigures(totals),
    byCharacter: rows(byCharacter),
    byPerformer: rows(byPerformer),
  };
}

/** A conversation as the clients list needs it. */
export type ClientThread = AggregateThread & { phoneE164: string | null };

/**
 * One row per client phone in `events` or `threads`: name, bookings, spend and outstanding as
 * the profile computes them (aggregateClient), the latest booking before `today` and the first
 * from `today` on (neither archived nor cancelled).
 */
export function clientRowsOf(
  events: readonly SavedEvent[],
  threads: readonly ClientThread[],
  today: string,
  now: Date,
): ClientRow[] {
  const byPhone = new Map<string, { events: EventDoc[]; threads: AggregateThread[] }>();
  const entry = (phone: string) => {
    let e = byPhone.get(phone);
    if (e === undefined) {
      e = { events: [], threads: [] };
      byPhone.set(phone, e);
    }
    return e;
  };
  for (const { event } of events) entry(event.phoneE164).events.push(event);
  for (const t of threads) if (t.phoneE164 !== null) entry(t.phoneE164).threads.push(t);
  const rows: ClientRow[] = [];
  for (const [phone, { events: own, threads: chats }] of byPhone) {
    const client = aggregateClient(phone, own, chats, now);
    let lastBooking: string | null = null;
    let nextBooking: string | null = null;
    for (const e of own) {
      if (e.isArchived || bookingStatusOf(e) === 'cancelled') continue;
      if (e.date < today) {
        if (lastBooking === null || e.date > lastBooking) lastBooking = e.date;
      } else if (nextBooking === null || e.date < nextBooking) {
        nextBooking = e.date;
      }
    }
    rows.push({
      phoneE164: phone,
      displayName: client.displayName,
      bookings: client.eventsCount,
      spend: client.lifetimeSpendPaid,
      outstanding: client.outstandingBalance ?? 0,
      lastBooking,
      nextBooking,
      accountIds: client.accountIds,
    });
  }
  return rows;
}

const digits = (s: string) => s.replace(/\D/g, '');

/** Whether a row matches a search: folded name or phone contains it; "0722 333" finds +40722333…. */
export function clientMatches(row: Pick<ClientRow, 'displayName' | 'phoneE164'>, q: string) {
  const folded = foldForSearch(q.trim());
  if (folded === '') return true;
  if (foldForSearch(`${row.displayName ?? ''} ${row.phoneE164}`).includes(folded)) return true;
  const wanted = digits(q).replace(/^0+/, '');
  return wanted.length >= 3 && digits(row.phoneE164).includes(wanted);
}

/** Filters, sorts (missing values last, phone breaking ties) and pages the rows. */
export function clientListPage(
  rows: readonly ClientRow[],
  query: Pick<ClientListQuery, 'q' | 'sort' | 'order' | 'page' | 'pageSize'>,
): { items: ClientRow[]; total: number } {
  const matching = rows.filter((r) => query.q === undefined || clientMatches(r, query.q));
  const value = (r: ClientRow): string | number | null => {
    switch (query.sort) {
      case 'name':
        return r.displayName === null ? null : foldForSearch(r.displayName);
      case 'bookings':
        return r.bookings;
      case 'spend':
        return r.spend;
      case 'outstanding':
        return r.outstanding;
      case 'lastBooking':
        return r.lastBooking;
      case 'nextBooking':
        return r.nextBooking;
    }
  };
  const direction = query.order === 'asc' ? 1 : -1;
  const sorted = matching
    .map((r) => ({ r, v: value(r) }))
    .sort((a, b) => {
      if (a.v === null || b.v === null) {
        if (a.v !== b.v) return a.v === null ? 1 : -1;
      } else if (a.v !== b.v) {
        const c =
          typeof a.v === 'number' && typeof b.v === 'number'
            ? a.v - b.v
            : String(a.v).localeCompare(String(b.v), 'ro');
        if (c !== 0) return c * direction;
      }
      return a.r.phoneE164.localeCompare(b.r.phoneE164);
    })
    .map(({ r }) => r);
  const start = (query.page - 1) * query.pageSize;
  return { items: sorted.slice(start, start + query.pageSize), total: sorted.length };
}
