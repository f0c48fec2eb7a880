import { describe, expect, it } from 'vitest';
import { bucharestParts, canMoveBooking, instantOf, type EventDoc } from '@wacrm/contracts';
import { bookingConflicts, type BookedSpan, type ResourceRules } from './booking-conflicts.js';
import { bookingMoney } from './event-figures.js';

// 2026-12-12 is a Saturday; Bucharest is UTC+2 in December.
const at = (hhmm: string, day = '2026-12-12') => instantOf(`${day}T${hhmm}`);
const span = (eventId: string, from: string, to: string, extra: Partial<BookedSpan> = {}) => ({
  eventId,
  start: at(from),
  end: at(to),
  performerIds: [],
  costumeIds: [],
  ...extra,
});
const ALL = [1, 2, 3, 4, 5, 6, 7];
function rules(buffer = 30, count = 1, daysOff: string[] = [], workingDays = ALL): ResourceRules {
  return {
    performers: new Map([['ana', { workingDays, daysOff, travelBufferMinutes: buffer }]]),
    costumes: new Map([['elsa', { count, travelBufferMinutes: buffer }]]),
  };
}
const withAna = { performerIds: ['ana'] };
const withDress = { costumeIds: ['elsa'] };

describe('booking conflicts (issue 19)', () => {
  it('when a performer has a booking ending 12:00 and a 30-minute buffer, then 12:30 is free and 12:29 is not', () => {
    const booked = [span('a', '10:00', '12:00', withAna)];
    expect(bookingConflicts(span('new', '12:30', '14:00', withAna), booked, rules())).toEqual([]);
    const clash = bookingConflicts(span('new', '12:29', '14:00', withAna), booked, rules());
    expect(clash).toEqual([
      {
        reason: 'overlap',
        eventId: 'a',
        performerId: 'ana',
        start: at('10:00').toISOString(),
        end: at('12:00').toISOString(),
      },
    ]);
  });

  it('when the buffer is 0, then back-to-back bookings do not collide and one minute of overlap does', () => {
    const booked = [span('a', '10:00', '12:00', withAna)];
    expect(bookingConflicts(span('n', '12:00', '13:00', withAna), booked, rules(0))).toEqual([]);
    expect(bookingConflicts(span('n', '08:00', '10:00', withAna), booked, rules(0))).toEqual([]);
    expect(bookingConflicts(span('n', '11:59', '13:00', withAna), booked, rules(0))).toHaveLength(
      1,
    );
    // The buffer counts before a booking too: ending 09:31 leaves 29 minutes before 10:00.
    expect(bookingConflicts(span('n', '08:00', '09:31', withAna), booked, rules(30))).toHaveLength(
      1,
    );
    expect(bookingConflicts(span('n', '08:00', '09:30', withAna), booked, rules(30))).toEqual([]);
  });

  it('when the same booking is saved again (an edit), then it does not collide with itself', () => {
    const booked = [span('a', '10:00', '12:00', withAna)];
    expect(bookingConflicts(span('a', '10:30', '12:30', withAna), booked, rules())).toEqual([]);
  });

  it('when a costume has count 1, then a second overlapping booking collides; with count 2 a third does', () => {
    const one = [span('a', '10:00', '12:00', withDress)];
    const candidate = span('n', '11:00', '13:00', withDress);
    expect(bookingConflicts(candidate, one, rules(30, 1)).map((c) => c.reason)).toEqual([
      'costume-count',
    ]);
    expect(bookingConflicts(candidate, one, rules(30, 2))).toEqual([]);
    const two = [...one, span('b', '12:00', '14:00', withDress)];
    expect(bookingConflicts(candidate, two, rules(30, 2)).map((c) => c.eventId)).toEqual([
      'a',
      'b',
    ]);
    // Two bookings that do not overlap each other use the same piece in turn: count 2 is enough.
    const inTurn = [span('a', '09:00', '10:00', withDress), span('b', '13:00', '14:00', withDress)];
    expect(bookingConflicts(span('n', '09:00', '14:00', withDress), inTurn, rules(0, 2))).toEqual(
      [],
    );
  });

  it("when the booking falls on a performer's day off (Bucharest date) or off their working days, then it collides", () => {
    // 23:30 UTC on the 11th is 01:30 on the 12th in Bucharest: the 12th's day off applies.
    const late = {
      eventId: 'n',
      start: new Date('2026-12-11T23:30:00Z'),
      end: new Date('2026-12-12T01:00:00Z'),
      ...withAna,
      costumeIds: [],
    };
    expect(bookingConflicts(late, [], rules(30, 1, ['2026-12-12'])).map((c) => c.reason)).toEqual([
      'day-off',
    ]);
    expect(bookingConflicts(late, [], rules(30, 1, ['2026-12-11']))).toEqual([]);
    // Saturday (6) is not a working day.
    const weekdays = [1, 2, 3, 4, 5];
    expect(
      bookingConflicts(span('n', '10:00', '11:00', withAna), [], rules(30, 1, [], weekdays)).map(
        (c) => c.reason,
      ),
    ).toEqual(['not-working-day']);
  });

  it('when checked against a brute-force minute-by-minute oracle on 3,000 random bookings, then both agree', () => {
    let seed = 19;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const day = at('00:00').getTime();
    const mk = (id: string): BookedSpan => {
      const start = day + rand(48) * 15 * 60_000;
      return {
        eventId: id,
        start: new Date(start),
        end: new Date(start + (1 + rand(16)) * 15 * 60_000),
        performerIds: rand(2) === 0 ? ['ana'] : [],
        costumeIds: rand(2) === 0 ? ['elsa'] : [],
      };
    };
    let disagreements = 0;
    for (let round = 0; round < 300; round += 1) {
      const others = Array.from({ length: 10 }, (_, i) => mk(`o${i}`));
      const candidate = { ...mk('c'), performerIds: ['ana'], costumeIds: ['elsa'] };
      const buffer = rand(3) * 15;
      const count = 1 + rand(2);
      const got = bookingConflicts(candidate, others, rules(buffer, count));
      // Oracle: minute by minute, who holds what (a booking holds from start to end + buffer).
      const holds = (s: BookedSpan, m: number) =>
        m >= s.start.getTime() && m < s.end.getTime() + buffer * 60_000;
      const performerClash = new Set<string>();
      let costumeClash = false;
      const costumeOthers = new Set<string>();
      for (let m = day - 86_400_000; m < day + 2 * 86_400_000; m += 60_000) {
        if (!holds(candidate, m)) continue;
        const using = others.filter((o) => holds(o, m));
        for (const o of using) if (o.performerIds.includes('ana')) performerClash.add(o.eventId);
        const dresses = using.filter((o) => o.costumeIds.includes('elsa'));
        if (dresses.length >= count) costumeClash = true;
        for (const o of dresses) costumeOthers.add(o.eventId);
      }
      const gotPerformers = got.filter((c) => c.reason === 'overlap').map((c) => c.eventId);
      const gotCostume = got.filter((c) => c.reason === 'costume-count').map((c) => c.eventId);
      if (JSON.stringify(gotPerformers.sort()) !== JSON.stringify([...performerClash].sort()))
        disagreements += 1;
      const wantCostume = costumeClash ? [...costumeOthers].sort() : [];
      if (JSON.stringify(gotCostume.sort()) !== JSON.stringify(wantCostume)) disagreements += 1;
    }
    expect(disagreements).toBe(0);
  });
});

describe('booking status and money (issue 19)', () => {
  it('when statuses move, then forward steps and cancelling are allowed, done only from confirmed, nothing leaves done or cancelled', () => {
    expect(canMoveBooking('lead', 'awaiting_deposit')).toBe(true);
    expect(canMoveBooking('confirmed', 'quoted')).toBe(false);
    expect(canMoveBooking('awaiting_deposit', 'done')).toBe(false);
    expect(canMoveBooking('confirmed', 'done')).toBe(true);
    expect(canMoveBooking('quoted', 'cancelled')).toBe(true);
    expect(canMoveBooking('done', 'cancelled')).toBe(false);
    expect(canMoveBooking('cancelled', 'lead')).toBe(false);
  });

  it('when times are read in Europe/Bucharest, then a wall time without offset is stored as its UTC instant across DST', () => {
    expect(instantOf('2026-12-12T15:00').toISOString()).toBe('2026-12-12T13:00:00.000Z');
    expect(instantOf('2026-07-12T15:00').toISOString()).toBe('2026-07-12T12:00:00.000Z');
    expect(instantOf('2026-07-12T15:00:00Z').toISOString()).toBe('2026-07-12T15:00:00.000Z');
    expect(bucharestParts(new Date('2026-03-29T01:30:00Z'))).toMatchObject({
      date: '2026-03-29',
      time: '04:30',
      weekday: 7,
    });
  });

  it('when payments are recorded, then paid sums them exactly and outstanding, deposit due and overdue follow', () => {
    const event = {
      isArchived: false,
      status: 'awaiting_deposit',
      payment: { amount: 900, advance: 300, paid: 0, currency: 'RON' },
      depositDueDate: '2026-12-01',
      balanceDueDate: '2026-12-12',
      payments: Array.from({ length: 3 }, (_, i) => ({
        paymentId: `p${i}`,
        amount: 33.1,
        date: '2026-11-30',
        method: 'cash',
        note: null,
        recordedBy: 'u',
        recordedAt: new Date(),
      })),
    } satisfies Partial<EventDoc> as Parameters<typeof bookingMoney>[0];
    expect(bookingMoney(event, '2026-12-05')).toEqual({
      price: 900,
      paid: 99.3,
      outstanding: 800.7,
      depositAsked: 300,
      depositOutstanding: 200.7,
      depositOverdue: true,
      balanceOverdue: false,
    });
    expect(bookingMoney({ ...event, status: 'cancelled' }, '2026-12-05').outstanding).toBe(0);
    expect(bookingMoney(event, '2026-12-01').depositOverdue).toBe(false);
  });
});
