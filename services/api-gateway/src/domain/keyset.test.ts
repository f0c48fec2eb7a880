import { describe, expect, it } from 'vitest';
import {
  decodeCursor,
  encodeCursor,
  keysetPage,
  type KeysetItem,
  type KeysetSource,
} from './keyset.js';

/** An in-memory source that, like the emulator, returns ties in arbitrary (reversed) order. */
function source(items: KeysetItem[], direction: 'asc' | 'desc'): KeysetSource<KeysetItem> {
  const sign = direction === 'desc' ? -1 : 1;
  return {
    range: (beyond, limit) =>
      Promise.resolve(
        items
          .filter((i) => beyond === undefined || sign * (i.ts.getTime() - beyond.getTime()) > 0)
          .sort((a, b) => sign * (a.ts.getTime() - b.ts.getTime()) || (a.id < b.id ? 1 : -1))
          .slice(0, limit),
      ),
    ties: (ts) => Promise.resolve(items.filter((i) => i.ts.getTime() === ts.getTime()).reverse()),
  };
}

async function walk(items: KeysetItem[], direction: 'asc' | 'desc', limit: number) {
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: Awaited<ReturnType<typeof keysetPage<KeysetItem>>> = await keysetPage(
      source(items, direction),
      {
        limit,
        direction,
        ...(cursor !== null ? { cursor: decodeCursor(cursor) } : {}),
      },
    );
    seen.push(...page.items.map((i) => i.id));
    cursor = page.nextCursor !== null ? encodeCursor(page.nextCursor) : null;
    pages += 1;
  } while (cursor !== null && pages < 1000);
  return seen;
}

describe('keysetPage', () => {
  // Many equal timestamps, as history imports with second resolution produce.
  const items: KeysetItem[] = Array.from({ length: 57 }, (_, i) => ({
    id: `m${String(i).padStart(3, '0')}`,
    ts: new Date(1_700_000_000_000 + Math.floor(i / 7) * 1000),
  }));

  for (const direction of ['asc', 'desc'] as const) {
    for (const limit of [1, 3, 7, 10, 100]) {
      it(`when walking ${direction} with limit ${limit} over tied times, then every item appears once in order`, async () => {
        const seen = await walk(items, direction, limit);
        const expected = [...items]
          .sort((a, b) => a.ts.getTime() - b.ts.getTime() || (a.id < b.id ? -1 : 1))
          .map((i) => i.id);
        expect(seen).toEqual(direction === 'asc' ? expected : expected.reverse());
      });
    }
  }

  it('when times are distinct, then pages need one range query each and no tie query', async () => {
    const distinct = Array.from({ length: 30 }, (_, i) => ({
      id: `d${i}`,
      ts: new Date(1_700_000_000_000 + i * 1000),
    }));
    const inner = source(distinct, 'desc');
    let ties = 0;
    let ranges = 0;
    const counting: KeysetSource<KeysetItem> = {
      range: (b, l) => ((ranges += 1), inner.range(b, l)),
      ties: (t) => ((ties += 1), inner.ties(t)),
    };
    let cursor: string | null = null;
    const seen: string[] = [];
    do {
      const page: Awaited<ReturnType<typeof keysetPage<KeysetItem>>> = await keysetPage(counting, {
        limit: 10,
        direction: 'desc',
        ...(cursor !== null ? { cursor: decodeCursor(cursor) } : {}),
      });
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor !== null ? encodeCursor(page.nextCursor) : null;
    } while (cursor !== null);
    expect(seen).toHaveLength(30);
    expect(ties).toBe(0);
    expect(ranges).toBe(3);
  });

  it('when a cursor is not one the API returned, then it is a validation error naming cursor', () => {
    expect(() => decodeCursor('bm9wZQ')).toThrow(/cursor/);
    expect(() => decodeCursor('%%%')).toThrow(/cursor/);
  });
});
