import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Query, type QuerySnapshot } from 'firebase-admin/firestore';
import type { ThreadDoc, ThreadView } from '@wacrm/contracts';
import { threadIdFor } from '@wacrm/firestore';
import { admin, useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';
import { accountDoc, seedAccount, threadDoc, writeAll } from '../test/seed.js';

/**
 * Issue 20: the inbox filters over many threads — every page correct, pages joined by the
 * cursor give the whole filtered list in order, and an index-answered filter reads about what a
 * page returns (not the account's threads).
 */

const F = 'wa-filters-a';
const THREADS = 700;
/** The admin token's principal id: `assigned=mine` for it. */
const ME = 'admin-token';
const now = Date.now();

interface Seeded {
  id: string;
  doc: ThreadDoc;
}
const seeded: Seeded[] = [];

let gw: TestGateway;

beforeAll(async () => {
  gw = await useGateway();
  validateTraffic(gw);
  await seedAccount(gw.fs.db, F, accountDoc('Filters', 'connected'));
  for (let i = 0; i < THREADS; i++) {
    const jid = `4072${String(i).padStart(7, '0')}@s.whatsapp.net`;
    // Groups of three threads share a time, so pages and chunks end inside groups of ties.
    // Ten minutes apart from 7 minutes ago: none crosses the 15-minute waiting limit mid-test.
    const at = new Date(now - 600_000 * Math.floor(i / 3) - 420_000);
    const doc: ThreadDoc = {
      ...threadDoc(F, i, at, `+4072${String(i).padStart(7, '0')}`),
      clientJid: jid,
      lastMessageDirection: i % 2 === 0 ? 'inbound' : 'outbound',
      // Most threads are taken by someone: `unassigned` must read on through several chunks.
      ...(i % 9 === 0 ? {} : { assigneeUid: i % 4 === 0 ? ME : `user-${i % 5}` }),
      ...(i % 5 === 0
        ? { stage: 'quoted' as const }
        : i % 5 === 1
          ? { stage: 'lead' as const }
          : {}),
      ...(i % 3 === 0
        ? { labels: ['vip', 'corporate'] }
        : i % 3 === 1
          ? { labels: ['corporate'] }
          : {}),
    };
    seeded.push({ id: threadIdFor(F, jid), doc });
  }
  await writeAll(
    gw.fs.db,
    seeded.map(({ id, doc }): [string, Record<string, unknown>] => [`threads/${id}`, doc]),
  );
}, 120_000);

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await gw.dispose();
});

/** Newest first, equal times by id descending: the list's order. */
function expected(test: (doc: ThreadDoc) => boolean): string[] {
  return seeded
    .filter((s) => test(s.doc))
    .sort(
      (a, b) =>
        b.doc.lastMessageAt!.getTime() - a.doc.lastMessageAt!.getTime() ||
        (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
    )
    .map((s) => s.id);
}

async function page(query: string, cursor?: string) {
  const res = await gw.app.inject({
    method: 'GET',
    url: `/api/threads?accountId=${F}&${query}${cursor !== undefined ? `&cursor=${cursor}` : ''}`,
    headers: admin,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: ThreadView[]; nextCursor: string | null }>();
}

/** Every page of a filtered list through the cursor. */
async function walk(query: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const p = await page(query, cursor);
    pages += 1;
    ids.push(...p.items.map((i) => i.id));
    cursor = p.nextCursor ?? undefined;
  } while (cursor !== undefined && pages < 200);
  return { ids, pages };
}

/** Documents the queries of one call returned (what Firestore bills as reads). */
async function documentsRead(run: () => Promise<unknown>): Promise<number> {
  let read = 0;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the query as this
  const get = Query.prototype.get;
  vi.spyOn(Query.prototype, 'get').mockImplementation(async function (this: Query) {
    const snap = (await get.call(this)) as QuerySnapshot;
    read += snap.size;
    return snap;
  });
  await run();
  vi.restoreAllMocks();
  return read;
}

const waiting = (d: ThreadDoc) =>
  d.lastMessageDirection === 'inbound' && now - d.lastMessageAt!.getTime() > 15 * 60_000;

describe('thread filters over many threads', () => {
  it.each([
    ['assigned=mine', (d: ThreadDoc) => d.assigneeUid === ME],
    ['stage=quoted', (d: ThreadDoc) => d.stage === 'quoted'],
    ['label=vip', (d: ThreadDoc) => (d.labels ?? []).includes('vip')],
    ['waiting=true', waiting],
    [
      'assigned=mine&stage=quoted&label=corporate',
      (d: ThreadDoc) =>
        d.assigneeUid === ME && d.stage === 'quoted' && (d.labels ?? []).includes('corporate'),
    ],
    ['assigned=unassigned', (d: ThreadDoc) => d.assigneeUid === undefined],
    ['waiting=false', (d: ThreadDoc) => !waiting(d)],
    [
      'assigned=unassigned&label=corporate',
      (d: ThreadDoc) => d.assigneeUid === undefined && (d.labels ?? []).includes('corporate'),
    ],
  ])(
    'when the list is filtered by %s, then the pages joined by their cursors are exactly the matching threads, newest first',
    async (query, test) => {
      const want = expected(test);
      expect(want.length).toBeGreaterThan(0);
      const { ids, pages } = await walk(`${query}&limit=7`);
      expect(ids).toEqual(want);
      expect(pages).toBe(Math.ceil(want.length / 7));
    },
    60_000,
  );

  it.each([
    'assigned=mine',
    'stage=quoted',
    'label=vip',
    'waiting=true',
    'assigned=mine&label=vip',
  ])(
    'when the list is filtered by %s, then a page reads about what it returns, not the account',
    async (query) => {
      const first = await page(`${query}&limit=10`);
      expect(first.nextCursor).not.toBeNull();
      // One more than the page to know whether another follows, one more to see the next time.
      const read = await documentsRead(() => page(`${query}&limit=10`, first.nextCursor!));
      expect(read).toBeGreaterThan(0);
      expect(read).toBeLessThanOrEqual(10 + 2 + 3);
    },
    60_000,
  );
});
