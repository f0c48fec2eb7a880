import { describe, expect, it } from 'vitest';
import type { ClientRow } from '@wacrm/contracts';
import { clientListPage, clientMatches, shares } from './reports.js';

describe('report shares', () => {
  it('when an amount is split in n shares, then the shares add up to it exactly and differ by one ban at most', () => {
    for (const [total, n] of [
      [100_000, 3],
      [1, 2],
      [0, 4],
      [99_999, 7],
      [-5, 3],
    ] as const) {
      const parts = shares(total, n);
      expect(parts).toHaveLength(n);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
    }
  });
});

const row = (phoneE164: string, displayName: string | null, outstanding: number): ClientRow => ({
  phoneE164,
  displayName,
  bookings: 1,
  spend: 0,
  outstanding,
  lastBooking: null,
  nextBooking: null,
  accountIds: [],
});

describe('the clients list', () => {
  const rows = [
    row('+40700000003', 'Ștefan', 5),
    row('+40700000001', null, 9),
    row('+40700000002', 'ana', 5),
  ];

  it('when searching, then case, diacritics and a leading 0 of a phone are ignored', () => {
    expect(clientMatches(rows[0]!, 'STEFAN')).toBe(true);
    expect(clientMatches(rows[0]!, 'ştefan')).toBe(true); // cedilla, not comma below
    expect(clientMatches(rows[1]!, '0700 000 001')).toBe(true);
    expect(clientMatches(rows[1]!, '0799')).toBe(false);
  });

  it('when sorted, then missing values go last in both orders and the phone breaks ties', () => {
    const names = (order: 'asc' | 'desc') =>
      clientListPage(rows, { sort: 'name', order, page: 1, pageSize: 10 }).items.map(
        (r) => r.displayName,
      );
    expect(names('asc')).toEqual(['ana', 'Ștefan', null]);
    expect(names('desc')).toEqual(['Ștefan', 'ana', null]);
    const byOwed = clientListPage(rows, {
      sort: 'outstanding',
      order: 'desc',
      page: 1,
      pageSize: 2,
    });
    expect(byOwed.total).toBe(3);
    expect(byOwed.items.map((r) => r.phoneE164)).toEqual(['+40700000001', '+40700000002']);
  });
});
