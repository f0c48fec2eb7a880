import { describe, expect, it } from 'vitest';
import type { AggregateEvent, AggregateThread } from './client-aggregate.js';
import { aggregateClient, sameAggregate } from './client-aggregate.js';

const phone = '+40712345678';
const now = new Date('2026-05-01T10:00:00Z');

function event(
  date: string,
  paid: number,
  amount: number | null,
  extra: Partial<AggregateEvent> = {},
): AggregateEvent {
  return {
    date,
    isArchived: false,
    accountId: 'wa-01',
    payment: { amount, advance: null, paid, currency: 'RON' },
    ...extra,
  };
}

function thread(extra: Partial<AggregateThread> = {}): AggregateThread {
  return {
    accountId: 'wa-01',
    displayName: 'Ana',
    lastMessageAt: new Date('2026-04-01T09:00:00Z'),
    updatedAt: new Date('2026-04-01T09:00:00Z'),
    ...extra,
  };
}

describe('aggregateClient', () => {
  it('when payments have decimals, then the sums are exact to the ban', () => {
    const events = Array.from({ length: 50 }, (_, i) => event('2026-06-01', 0.1, 0.3 + i));
    const client = aggregateClient(phone, events, [], now);
    expect(client.eventsCount).toBe(50);
    expect(client.lifetimeSpendPaid).toBe(5);
    // 50 × 0.3 + (0 + 1 + … + 49) = 15 + 1225
    expect(client.lifetimeSpendTotal).toBe(1240);
  });

  it('when bookings are partly paid, then the client owes the sum of their outstanding balances (issue 19), not counting cancelled ones or leads', () => {
    const client = aggregateClient(
      phone,
      [
        event('2026-06-01', 300, 900.5),
        event('2026-06-02', 0, 400, { status: 'cancelled' }),
        event('2026-06-03', 0, 400, { status: 'lead' }),
        event('2026-06-04', 700, 500),
        event('2026-06-05', 0, 250.25, { status: 'awaiting_deposit' }),
      ],
      [],
      now,
    );
    // 600.5 + 0 (cancelled) + 0 (lead) + 0 (overpaid, never negative) + 250.25
    expect(client.outstandingBalance).toBe(850.75);
    const paid = aggregateClient(phone, [event('2026-06-01', 900.5, 900.5)], [], now);
    expect(sameAggregate(client, paid)).toBe(false);
  });

  it('when some events are archived, then they count for nothing', () => {
    const client = aggregateClient(
      phone,
      [
        event('2026-06-01', 300, 900),
        event('2026-07-01', 500, 1200, { isArchived: true }),
        event('2025-12-24', 200, 200),
      ],
      [],
      now,
    );
    expect(client.eventsCount).toBe(2);
    expect(client.lifetimeSpendPaid).toBe(500);
    expect(client.lifetimeSpendTotal).toBe(1100);
    expect(client.firstEventAt).toBe('2025-12-24');
    expect(client.lastEventAt).toBe('2026-06-01');
  });

  it('when an amount is unknown, then it adds nothing to the total but the payment still counts', () => {
    const client = aggregateClient(phone, [event('2026-06-01', 150, null)], [], now);
    expect(client.lifetimeSpendTotal).toBe(0);
    expect(client.lifetimeSpendPaid).toBe(150);
  });

  it('when there are no active events, then the client keeps zeros and null dates', () => {
    const client = aggregateClient(
      phone,
      [event('2026-06-01', 300, 900, { isArchived: true })],
      [],
      now,
    );
    expect(client).toMatchObject({
      eventsCount: 0,
      lifetimeSpendPaid: 0,
      lifetimeSpendTotal: 0,
      firstEventAt: null,
      lastEventAt: null,
      accountIds: [],
    });
  });

  it('when the client talks to several accounts, then contact, name and accounts come from the threads', () => {
    const client = aggregateClient(
      phone,
      [
        event('2026-06-01', 1, 1, { accountId: 'wa-03' }),
        event('2026-06-02', 1, 1, { accountId: null }),
      ],
      [
        thread({
          accountId: 'wa-02',
          displayName: 'Ana Pop',
          lastMessageAt: new Date('2026-04-20T08:00:00Z'),
        }),
        thread({
          accountId: 'wa-01',
          displayName: 'Ana',
          lastMessageAt: new Date('2026-04-10T08:00:00Z'),
        }),
        thread({
          accountId: 'wa-04',
          displayName: null,
          lastMessageAt: new Date('2026-04-25T08:00:00Z'),
        }),
      ],
      now,
    );
    expect(client.accountIds).toEqual(['wa-01', 'wa-02', 'wa-03', 'wa-04']);
    expect(client.lastContactAt).toEqual(new Date('2026-04-25T08:00:00Z'));
    expect(client.displayName).toBe('Ana Pop');
  });
});

describe('sameAggregate', () => {
  it('when only updatedAt differs, then the aggregates are the same', () => {
    const a = aggregateClient(phone, [event('2026-06-01', 1, 2)], [thread()], now);
    const b = aggregateClient(phone, [event('2026-06-01', 1, 2)], [thread()], new Date());
    expect(sameAggregate(a, b)).toBe(true);
  });

  it('when a figure differs, then they are not the same', () => {
    const a = aggregateClient(phone, [event('2026-06-01', 1, 2)], [thread()], now);
    const b = aggregateClient(phone, [event('2026-06-01', 1.01, 2)], [thread()], now);
    expect(sameAggregate(a, b)).toBe(false);
  });
});
