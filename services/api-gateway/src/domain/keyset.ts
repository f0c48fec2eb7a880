import { AppError } from '@wacrm/contracts';

export type Direction = 'asc' | 'desc';

export interface KeysetItem {
  id: string;
  ts: Date;
}

export interface KeysetCursor {
  ts: number;
  id: string;
  /** False when every item at `ts` was already returned, so the next page needs no tie query. */
  tiesLeft?: boolean;
}

/**
 * Where pages come from. `range` returns items strictly beyond `beyond` in the page direction,
 * ordered by time only (ties in any order, as the Firestore emulator ignores a second order
 * key); `ties` returns every item at exactly that time. Cursors never use offsets or
 * startAfter, which the emulator ignores.
 */
export interface KeysetSource<T extends KeysetItem> {
  range(beyond: Date | undefined, limit: number): Promise<T[]>;
  ties(ts: Date): Promise<T[]>;
}

export function encodeCursor(cursor: KeysetCursor): string {
  const value = cursor.tiesLeft === false ? [cursor.ts, cursor.id, 0] : [cursor.ts, cursor.id];
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): KeysetCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      (value.length === 2 || (value.length === 3 && value[2] === 0)) &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === 'string' &&
      value[1].length > 0
    ) {
      return {
        ts: value[0] as number,
        id: value[1],
        ...(value.length === 3 ? { tiesLeft: false } : {}),
      };
    }
  } catch {
    // fall through to the validation error
  }
  throw new AppError('VALIDATION_FAILED', 'cursor is not one this API returned', {
    errors: [{ path: 'cursor', message: 'not a cursor returned by a previous page' }],
  });
}

function compare<T extends KeysetItem>(direction: Direction): (a: T, b: T) => number {
  const sign = direction === 'desc' ? -1 : 1;
  return (a, b) => {
    const byTime = a.ts.getTime() - b.ts.getTime();
    if (byTime !== 0) return sign * byTime;
    return sign * (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  };
}

/** One page ordered by (time, id) in `direction`, and the cursor of the next page if any. */
export async function keysetPage<T extends KeysetItem>(
  source: KeysetSource<T>,
  options: { limit: number; direction: Direction; cursor?: KeysetCursor },
): Promise<{ items: T[]; nextCursor: KeysetCursor | null }> {
  const { limit, direction, cursor } = options;
  const order = compare<T>(direction);
  const want = limit + 1;
  const page: T[] = [];
  if (cursor !== undefined && cursor.tiesLeft !== false) {
    const beyondId = (item: T) =>
      direction === 'desc' ? item.id < cursor.id : item.id > cursor.id;
    page.push(...(await source.ties(new Date(cursor.ts))).filter(beyondId));
  }
  if (page.length < want) {
    const need = want - page.length;
    // One item more than needed: when the last time differs from the one before, every group
    // before it is complete and no tie query is needed (the common case: distinct times).
    const batch = await source.range(
      cursor !== undefined ? new Date(cursor.ts) : undefined,
      need + 1,
    );
    const last = batch.at(-1);
    if (last === undefined || batch.length <= need) {
      page.push(...batch);
    } else {
      const lastTs = last.ts.getTime();
      const complete = batch.filter((item) => item.ts.getTime() !== lastTs);
      page.push(...complete);
      // The batch may have cut the group at the last time: take that whole group, by id.
      if (complete.length < need) page.push(...(await source.ties(last.ts)));
    }
  }
  page.sort(order);
  const items = page.slice(0, limit);
  const tail = items.at(-1);
  const next = page[limit];
  return {
    items,
    nextCursor:
      next !== undefined && tail !== undefined
        ? {
            ts: tail.ts.getTime(),
            id: tail.id,
            // Every group in `page` is complete, so the next item tells whether `tail`'s group goes on.
            ...(next.ts.getTime() !== tail.ts.getTime() ? { tiesLeft: false } : {}),
          }
        : null,
  };
}
