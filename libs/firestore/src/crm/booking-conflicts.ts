import {
  bucharestParts,
  type BookingConflict,
  type CostumeDoc,
  type PerformerDoc,
} from '@wacrm/contracts';

/** A booking as conflict detection sees it: a time and the resources it holds. */
export interface BookedSpan {
  eventId: string;
  start: Date;
  end: Date;
  performerIds: readonly string[];
  costumeIds: readonly string[];
}

export type PerformerRules = Pick<PerformerDoc, 'workingDays' | 'daysOff' | 'travelBufferMinutes'>;
export type CostumeRules = Pick<CostumeDoc, 'count' | 'travelBufferMinutes'>;

export interface ResourceRules {
  performers: ReadonlyMap<string, PerformerRules>;
  costumes: ReadonlyMap<string, CostumeRules>;
}

/**
 * Two bookings of one resource collide when either starts before the other ends plus the
 * buffer: a booking ending 12:00 with a 30-minute buffer leaves the resource free from 12:30.
 */
export function overlapsWithBuffer(a: BookedSpan, b: BookedSpan, bufferMinutes: number): boolean {
  const buffer = bufferMinutes * 60_000;
  return (
    a.start.getTime() < b.end.getTime() + buffer && b.start.getTime() < a.end.getTime() + buffer
  );
}

/** The Europe/Bucharest calendar dates a booking touches (its last instant is end − 1 ms). */
export function bucharestDatesOf(span: Pick<BookedSpan, 'start' | 'end'>): string[] {
  const first = bucharestParts(span.start).date;
  const last = bucharestParts(
    new Date(Math.max(span.start.getTime(), span.end.getTime() - 1)),
  ).date;
  const dates = [first];
  let day = Date.parse(`${first}T00:00:00Z`);
  const end = Date.parse(`${last}T00:00:00Z`);
  while (day < end && dates.length < 3) {
    day += 86_400_000;
    dates.push(new Date(day).toISOString().slice(0, 10));
  }
  return dates;
}

/** The most half-open intervals `[start, end)` (ms) covering one instant. */
function maxConcurrent(intervals: ReadonlyArray<readonly [number, number]>): number {
  const edges: Array<[number, number]> = [];
  for (const [start, end] of intervals) edges.push([start, 1], [end, -1]);
  // At equal times an end comes before a start: [a, b) then [b, c) do not overlap.
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let depth = 0;
  let max = 0;
  for (const [, delta] of edges) {
    depth += delta;
    max = Math.max(max, depth);
  }
  return max;
}

const iso = (d: Date) => d.toISOString();

/**
 * Every reason `candidate` cannot hold its performers and costumes beside `others` (bookings
 * of the same account that hold resources; the candidate's own id is skipped): a performer's
 * day off or non-working weekday (Europe/Bucharest), a performer booked within their travel
 * buffer, a costume whose every piece is taken (count 2 allows two overlapping bookings).
 */
export function bookingConflicts(
  candidate: BookedSpan,
  others: readonly BookedSpan[],
  rules: ResourceRules,
): BookingConflict[] {
  const conflicts: BookingConflict[] = [];
  const rest = others.filter((o) => o.eventId !== candidate.eventId);
  const own = { start: iso(candidate.start), end: iso(candidate.end) };
  for (const performerId of new Set(candidate.performerIds)) {
    const rule = rules.performers.get(performerId);
    if (rule === undefined) continue;
    if (bucharestDatesOf(candidate).some((d) => rule.daysOff.includes(d))) {
      conflicts.push({ reason: 'day-off', eventId: null, performerId, ...own });
    }
    if (!rule.workingDays.includes(bucharestParts(candidate.start).weekday)) {
      conflicts.push({ reason: 'not-working-day', eventId: null, performerId, ...own });
    }
    for (const other of rest) {
      if (!other.performerIds.includes(performerId)) continue;
      if (!overlapsWithBuffer(candidate, other, rule.travelBufferMinutes)) continue;
      conflicts.push({
        reason: 'overlap',
        eventId: other.eventId,
        performerId,
        start: iso(other.start),
        end: iso(other.end),
      });
    }
  }
  for (const costumeId of new Set(candidate.costumeIds)) {
    const rule = rules.costumes.get(costumeId);
    if (rule === undefined) continue;
    const holding = rest.filter(
      (o) =>
        o.costumeIds.includes(costumeId) &&
        overlapsWithBuffer(candidate, o, rule.travelBufferMinutes),
    );
    // A booking holds a piece from its start until its end plus the buffer; only the part of
    // that inside the candidate's own holding time competes with it.
    const buffer = rule.travelBufferMinutes * 60_000;
    const from = candidate.start.getTime();
    const to = candidate.end.getTime() + buffer;
    const held = holding.map(
      (o) => [Math.max(o.start.getTime(), from), Math.min(o.end.getTime() + buffer, to)] as const,
    );
    if (maxConcurrent(held) < rule.count) continue;
    for (const other of holding) {
      conflicts.push({
        reason: 'costume-count',
        eventId: other.eventId,
        costumeId,
        start: iso(other.start),
        end: iso(other.end),
      });
    }
  }
  return conflicts;
}
