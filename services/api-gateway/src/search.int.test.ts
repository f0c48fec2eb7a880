import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  WaInboundQueue,
  encodeSearchEntry,
  messageSearchTerms,
  searchEntryOf,
  searchPeriodOf,
  searchSignatureBits,
  searchSignatureHas,
  threadSearchTerms,
  type MessageDoc,
  type SearchResponse,
  type ThreadDoc,
} from '@wacrm/contracts';
import { openQueue } from '@wacrm/queue';
import { collections, searchPeriods, searchThreads, threadIdFor } from '@wacrm/firestore';
import {
  ADMIN_TOKEN,
  useGateway,
  type TestGateway,
  validateTraffic,
} from '../test/gateway.fixture.js';
import { messageDoc, threadDoc, writeAll } from '../test/seed.js';
import { writeSearchIndex } from '../test/search-seed.js';

const A = 'wa-search-a';
const B = 'wa-search-b';
/** Account C: a signature's false match, and an index written before the packing. */
const C = 'wa-search-c';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
let gw: TestGateway;
let readKeyA: Record<string, string>;

const T1 = threadIdFor(A, '40712345678@s.whatsapp.net');
const T2 = threadIdFor(A, '40799999999@s.whatsapp.net');
const TB = threadIdFor(B, '40711111111@s.whatsapp.net');
const TC = threadIdFor(C, '40722222222@s.whatsapp.net');
const day = (d: number, h = 10) => new Date(Date.UTC(2026, 0, d, h));

function msg(
  accountId: string,
  threadId: string,
  id: string,
  at: Date,
  extra: Partial<MessageDoc>,
): MessageDoc {
  return { ...messageDoc(accountId, threadId, id, at), ...extra };
}

const messages: MessageDoc[] = [
  msg(A, T1, 'M1', day(3), { body: 'Bună ziua, sunt Ștefan' }),
  msg(A, T1, 'M2', day(4), { body: 'Ştefan (cu sedilă) confirmă sâmbătă', direction: 'outbound' }),
  msg(A, T2, 'M3', day(5), { body: 'stefan fara diacritice' }),
  msg(A, T2, 'M4', day(6), {
    body: null,
    type: 'document',
    media: {
      kind: 'document',
      mimetype: 'application/pdf',
      size: 10,
      fileName: 'Oferta_Ștefan.pdf',
      caption: 'oferta pentru petrecere',
      directPath: null,
      url: null,
      mediaKeyBase64: null,
      fileSha256Base64: null,
      seconds: null,
      width: null,
      height: null,
    },
  }),
  // Revoked after it was indexed: the stored message decides, so it is not a hit.
  msg(A, T1, 'M5', day(7), { body: 'stefan sters', deleted: true }),
  msg(B, TB, 'MB', day(3), { body: 'Ștefan din alt cont' }),
];

// MF's signature holds the bits of a word MF does not have (found by trying words in turn).
const MF = msg(C, TC, 'MF', day(10), { body: 'rezervare confirmata nunta' });
const mfSignature = searchEntryOf(MF).signature;
const collider = (() => {
  const have = new Set(messageSearchTerms(MF));
  for (let i = 0; ; i++) {
    const w = `cuvant${i}`;
    if (!have.has(w) && searchSignatureHas(mfSignature, searchSignatureBits(w))) return w;
  }
})();
const signed: MessageDoc[] = [
  MF,
  ...[1, 2, 3].map((n) => msg(C, TC, `MW${n}`, day(10, 10 + n), { body: `${collider} alt mesaj` })),
];
// Indexed as before the packing: an array per document, entries without a signature.
// One week of "multi" split into two parts (as a busy week is), written directly below.
const parted: MessageDoc[] = [1, 2, 3].map((n) =>
  msg(C, TC, `MP${n}`, day(20, 10 + n), { body: `multi ${n}` }),
);
const unpacked: MessageDoc[] = [
  msg(C, TC, 'MO1', day(12), { body: 'comanda veche' }),
  msg(C, TC, 'MO2', day(13), { body: 'comanda noua' }),
];

beforeAll(async () => {
  gw = await useGateway();
  validateTraffic(gw);
  const db = gw.fs.db;
  const threads: Array<[string, ThreadDoc]> = [
    [T1, { ...threadDoc(A, 1, day(7), '+40712345678'), displayName: 'Ștefan Ionescu' }],
    [T2, { ...threadDoc(A, 2, day(6), '+40799999999'), displayName: 'Maria' }],
    [TB, { ...threadDoc(B, 3, day(3), '+40711111111'), displayName: 'Ștefan B' }],
  ];
  await writeAll(db, [
    ...threads.map(([id, t]): [string, Record<string, unknown>] => [`threads/${id}`, t]),
    ...messages.map((m): [string, Record<string, unknown>] => [
      `threads/${m.threadId}/messages/${m.waKey.id}`,
      m,
    ]),
  ]);
  // Index M5 as it was before its revoke, as ingest had.
  const indexed = messages.map((m) => (m.waKey.id === 'M5' ? { ...m, deleted: false } : m));
  await writeSearchIndex(
    db,
    A,
    threads.filter(([, t]) => t.accountId === A),
    indexed.filter((m) => m.accountId === A),
  );
  await writeSearchIndex(
    db,
    B,
    threads.filter(([, t]) => t.accountId === B),
    indexed.filter((m) => m.accountId === B),
  );
  await writeAll(db, [
    [
      `threads/${TC}`,
      { ...threadDoc(C, 4, day(13), '+40722222222'), displayName: 'Cornel Vasile' },
    ],
    ...[...signed, ...unpacked, ...parted].map((m): [string, Record<string, unknown>] => [
      `threads/${m.threadId}/messages/${m.waKey.id}`,
      m,
    ]),
  ]);
  await writeSearchIndex(db, C, [], signed);
  const week = searchPeriodOf(day(20));
  const entriesOf = (list: MessageDoc[]) => list.map((m) => encodeSearchEntry(searchEntryOf(m)));
  for (const [part, list] of [
    [0, parted.slice(0, 2)],
    [1, parted.slice(2)],
  ] as const) {
    await searchPeriods(db, C, 'multi')
      .doc(part === 0 ? String(week) : `${week}.${part}`)
      .set({
        term: 'multi',
        period: week,
        part,
        parts: 2,
        packed: entriesOf(list).join('\n'),
        updatedAt: new Date(),
      });
  }
  // TC's thread index document as written before `words`: its prefixes only.
  await searchThreads(db, C)
    .doc(TC)
    .set({
      threadId: TC,
      terms: threadSearchTerms({ displayName: 'Cornel Vasile', phoneE164: '+40722222222' }),
      updatedAt: new Date(),
    });
  for (const term of ['comanda', 'veche', 'noua']) {
    const having = unpacked.filter((m) => messageSearchTerms(m).includes(term));
    const period = searchPeriodOf(having[0]!.tsClient);
    await searchPeriods(db, C, term)
      .doc(String(period))
      .set({
        term,
        period,
        part: 0,
        parts: 1,
        entries: having.map((m) => encodeSearchEntry({ ...searchEntryOf(m), signature: '' })),
        updatedAt: new Date(),
      });
  }
  const res = await gw.app.inject({
    method: 'POST',
    url: '/api/admin/api-keys',
    headers: admin,
    payload: { name: 'search-reader', scopes: ['read'], allowedAccounts: [A] },
  });
  expect(res.statusCode).toBe(201);
  readKeyA = { 'x-api-key': res.json<{ key: string }>().key };
}, 60_000);

afterAll(async () => {
  await gw.dispose();
});

async function search(query: string, headers: Record<string, string> = admin) {
  const res = await gw.app.inject({ method: 'GET', url: `/api/search?${query}`, headers });
  return { status: res.statusCode, body: res.json<SearchResponse>() };
}
const ids = (r: SearchResponse) => r.messages.map((m) => m.messageId);

describe('GET /api/search', () => {
  it('when "stefan" is searched, then every spelling of Ștefan is found, newest first, and not the revoked one', async () => {
    const { status, body } = await search(`q=stefan&accountId=${A}`);
    expect(status).toBe(200);
    expect(ids(body)).toEqual(['M4', 'M3', 'M2', 'M1']);
    expect(body.terms).toEqual(['stefan']);
    expect(body.messages[0]).toMatchObject({
      threadId: T2,
      displayName: 'Maria',
      type: 'document',
      hasMedia: true,
      snippet: 'oferta pentru petrecere\nOferta_Ștefan.pdf',
    });
    expect(body.threads.map((t) => t.threadId)).toEqual([T1]);
  });

  it('when "Ștefan" or "ŞTEFAN" is searched, then the same messages as for "stefan" are found', async () => {
    for (const q of ['%C8%98tefan', '%C5%9ETEFAN']) {
      const { body } = await search(`q=${q}&accountId=${A}`);
      expect(ids(body)).toEqual(['M4', 'M3', 'M2', 'M1']);
    }
  });

  it('when several words are searched, then a message needs all of them (captions and diacritics included)', async () => {
    expect(
      ids((await search(`q=${encodeURIComponent('ștefan sambata')}&accountId=${A}`)).body),
    ).toEqual(['M2']);
    expect(ids((await search(`q=petrecere&accountId=${A}`)).body)).toEqual(['M4']);
    expect(ids((await search(`q=nimic+stefan&accountId=${A}`)).body)).toEqual([]);
  });

  it('when filters are given, then only matching messages come back', async () => {
    const q = `q=stefan&accountId=${A}`;
    expect(ids((await search(`${q}&threadId=${encodeURIComponent(T1)}`)).body)).toEqual([
      'M2',
      'M1',
    ]);
    expect(ids((await search(`${q}&direction=outbound`)).body)).toEqual(['M2']);
    expect(ids((await search(`${q}&hasMedia=true`)).body)).toEqual(['M4']);
    expect(ids((await search(`${q}&hasMedia=false`)).body)).toEqual(['M3', 'M2', 'M1']);
    const range = `&since=${day(4, 0).toISOString()}&until=${day(6, 0).toISOString()}`;
    expect(ids((await search(`${q}${range}`)).body)).toEqual(['M3', 'M2']);
  });

  it('when results span pages, then the cursor walks them without repeats or gaps', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const { body } = await search(
        `q=stefan&accountId=${A}&limit=1${cursor !== null ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...ids(body));
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(['M4', 'M3', 'M2', 'M1']);
  });

  it("when a message's signature holds a word it lacks, then the stored message decides and it is not a hit", async () => {
    const q = (words: string) => search(`q=${encodeURIComponent(words)}&accountId=${C}`);
    expect(ids((await q('nunta')).body)).toEqual(['MF']);
    expect(ids((await q(collider)).body)).toEqual(['MW3', 'MW2', 'MW1']);
    // "nunta" is the rarer word: its entries are read, and MF's signature passes for the other.
    expect(ids((await q(`nunta ${collider}`)).body)).toEqual([]);
    expect(ids((await q(`${collider} mesaj`)).body)).toEqual(['MW3', 'MW2', 'MW1']);
  });

  it('when the index was written before the packing (arrays, no signatures), then search reads it right', async () => {
    const q = (words: string) => search(`q=${encodeURIComponent(words)}&accountId=${C}`);
    expect(ids((await q('comanda')).body)).toEqual(['MO2', 'MO1']);
    expect(ids((await q('veche comanda')).body)).toEqual(['MO1']);
    expect(ids((await q('comanda noua')).body)).toEqual(['MO2']);
    expect(ids((await q('comanda nunta')).body)).toEqual([]);
    const paged = await search(`q=comanda&accountId=${C}&limit=1`);
    expect(ids(paged.body)).toEqual(['MO2']);
    const next = await search(`q=comanda&accountId=${C}&limit=1&cursor=${paged.body.nextCursor}`);
    expect(ids(next.body)).toEqual(['MO1']);
  });

  it("when a word's week is split into parts, then every part is read, on one page or across pages", async () => {
    expect(ids((await search(`q=multi&accountId=${C}`)).body)).toEqual(['MP3', 'MP2', 'MP1']);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const { body } = await search(
        `q=multi&accountId=${C}&limit=1${cursor !== null ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...ids(body));
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(['MP3', 'MP2', 'MP1']);
  });

  it('when a thread is searched by name prefix or phone as typed, then it is found', async () => {
    expect((await search(`q=ion&accountId=${A}`)).body.threads.map((t) => t.threadId)).toEqual([
      T1,
    ]);
    for (const phone of ['0712 345', '%2B40 712 345 678', '0799999999']) {
      const { body } = await search(`q=${phone}&accountId=${A}`);
      expect(body.threads).toHaveLength(1);
    }
  });

  it('when a thread is searched by several words, then each must be a prefix of its name or phone, in documents with and without words', async () => {
    const threads = async (q: string, account = A) =>
      (await search(`q=${encodeURIComponent(q)}&accountId=${account}`)).body.threads.map(
        (t) => t.threadId,
      );
    expect(await threads('stef ionescu')).toEqual([T1]);
    expect(await threads('ionescu maria')).toEqual([]);
    expect(await threads('maria 0799')).toEqual([T2]);
    expect(await threads('maria 0712')).toEqual([]);
    expect(await threads('vasile cor', C)).toEqual([TC]);
    expect(await threads('vasile 4072', C)).toEqual([TC]);
    expect(await threads('vasile ana', C)).toEqual([]);
  });

  it('when a caller searches an account it may not see, then 403; its own account answers only its own data', async () => {
    expect((await search(`q=stefan&accountId=${B}`, readKeyA)).status).toBe(403);
    const own = await search(`q=stefan&accountId=${A}`, readKeyA);
    expect(own.status).toBe(200);
    expect(ids(own.body)).not.toContain('MB');
    expect(ids((await search(`q=stefan&accountId=${B}`)).body)).toEqual(['MB']);
  });

  it('when the query is empty, too long or the range is inverted, then 400 problem+json', async () => {
    expect((await search(`q=&accountId=${A}`)).status).toBe(400);
    expect((await search(`q=${'a'.repeat(201)}&accountId=${A}`)).status).toBe(400);
    const r = `&since=${day(6).toISOString()}&until=${day(4).toISOString()}`;
    expect((await search(`q=stefan&accountId=${A}${r}`)).status).toBe(400);
  });

  it('when a reindex is asked, then only an admin may and the job is queued', async () => {
    const denied = await gw.app.inject({
      method: 'POST',
      url: '/api/search/reindex',
      headers: readKeyA,
      payload: { accountId: A },
    });
    expect(denied.statusCode).toBe(403);
    const ok = await gw.app.inject({
      method: 'POST',
      url: '/api/search/reindex',
      headers: admin,
      payload: { accountId: A },
    });
    expect(ok.statusCode).toBe(202);
    const inbound = openQueue(WaInboundQueue, {
      connection: gw.redis.connection,
      prefix: gw.redis.prefix,
    });
    const jobs = await inbound.queue.getJobs(['waiting', 'delayed', 'active']);
    await inbound.queue.close();
    expect(jobs.map((j) => [j.name, (j.data as { accountId: string }).accountId])).toContainEqual([
      'reindex-search',
      A,
    ]);
  });

  it('when nothing is deleted by searching, then messages and threads stay', async () => {
    expect((await collections(gw.fs.db).messages(T1).get()).size).toBe(3);
  });
});
