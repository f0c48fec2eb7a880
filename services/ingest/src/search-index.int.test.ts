import type { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeSearchEntry,
  searchPeriodEntries,
  searchPeriodOf,
  searchSignature,
  threadSearchWords,
  SEARCH_ENTRIES_PER_PART,
  SEARCH_PACKED_MAX_CHARS,
  SEARCH_TAIL_ENTRIES,
  WaInboundQueue,
  type MessageDoc,
} from '@wacrm/contracts';
import { searchBackfillState, searchPeriods, searchThreads, threadIdFor } from '@wacrm/firestore';
import { enqueue, openQueue, type ContractQueue } from '@wacrm/queue';
import {
  captureLogger,
  useTestFirestore,
  useTestRedis,
  waitForQueueIdle,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { FirestoreStore } from './data-access/firestore-store.js';
import { applySearchPlan, SEARCH_COMMIT_MAX_BYTES } from './data-access/search-index.js';
import { emptySearchPlan, planMessage } from './domain/search-plan.js';
import { startInboundWorker } from './entry-points/inbound.worker.js';
import { buildIngestDeps } from './ingest.composition.js';
import { messagesJob, raw } from './test-support/wa-fixtures.js';

const A = 'wa-01';
const STEFAN = '40712345678@s.whatsapp.net';
const T = threadIdFor(A, STEFAN);
const TS = 1_767_780_000;
const PERIOD = searchPeriodOf(new Date(TS * 1000));

let redis: TestRedis;
let fs: TestFirestore;
let queue: ContractQueue<typeof WaInboundQueue>;
let worker: Worker;
let store: FirestoreStore;

beforeEach(async () => {
  redis = await useTestRedis();
  fs = useTestFirestore();
  store = new FirestoreStore(fs.db);
  const log = captureLogger('ingest');
  queue = openQueue(WaInboundQueue, { connection: redis.connection, prefix: redis.prefix });
  const deps = buildIngestDeps({
    db: fs.db,
    redis: redis.connection,
    publisher: redis.connection,
    prefix: redis.prefix,
    logger: log.logger,
    maxWrites: 500,
    lockTtlMs: 5_000,
    lockWaitMs: 10_000,
  });
  worker = startInboundWorker(deps, {
    connection: redis.connection,
    prefix: redis.prefix,
    concurrency: 4,
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
  });
});

afterEach(async () => {
  await worker.close();
  await queue.queue.close();
  await redis.cleanup();
  await fs.close();
});

async function settle(): Promise<void> {
  await waitForQueueIdle(queue.queue, { timeoutMs: 60_000 });
  expect(await queue.queue.getFailedCount()).toBe(0);
}

/** Message ids indexed under a word (every period and part). */
async function indexed(term: string, accountId = A): Promise<string[]> {
  const snap = await searchPeriods(fs.db, accountId, term).get();
  return snap.docs
    .flatMap((d) => searchPeriodEntries(d.data()))
    .map((e) => decodeSearchEntry(e)!.messageId)
    .sort();
}

const text = (t: string) => ({ conversation: t });
/** Stefan edits his message `id` to `body`; revokes `id`. */
const editOf = (id: string, body: string, ts: number) =>
  raw(
    `${id}-edit`,
    STEFAN,
    {
      protocolMessage: {
        type: 14,
        key: { id, remoteJid: STEFAN, fromMe: false },
        editedMessage: { conversation: body },
      },
    },
    { messageTimestamp: ts },
  );
const revokeOf = (id: string, ts: number) =>
  raw(
    `${id}-revoke`,
    STEFAN,
    { protocolMessage: { type: 0, key: { id, remoteJid: STEFAN, fromMe: false } } },
    { messageTimestamp: ts },
  );

const base: Omit<MessageDoc, 'waKey' | 'threadId' | 'body'> = {
  accountId: A,
  direction: 'inbound',
  type: 'text',
  media: null,
  tsClient: new Date(TS * 1000),
  tsServer: null,
  status: 'received',
  requestId: null,
  source: 'history',
  participant: null,
  senderName: null,
  quotedMessageId: null,
  deleted: false,
  editedBody: null,
  reactions: {},
  location: null,
  createdAt: new Date(),
  updatedAt: new Date(),
};

describe('search index kept by ingest', () => {
  it('when messages arrive, then their words are indexed folded (Ștefan, Ştefan → stefan), with captions and file names', async () => {
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [
        raw('M1', STEFAN, text('Bună, sunt Ștefan din Țăndărei'), {
          messageTimestamp: TS,
          pushName: 'Ştefan Popescu',
        }),
        raw(
          'M2',
          STEFAN,
          { imageMessage: { caption: 'Tortul cu Elsa', mimetype: 'image/jpeg' } },
          {
            messageTimestamp: TS + 1,
          },
        ),
        raw(
          'M3',
          STEFAN,
          { documentMessage: { fileName: 'Contract_Înțelegere.pdf', mimetype: 'application/pdf' } },
          { messageTimestamp: TS + 2, fromMe: true },
        ),
      ]),
    );
    await settle();
    expect(await indexed('stefan')).toEqual(['M1']);
    expect(await indexed('tandarei')).toEqual(['M1']);
    expect(await indexed('elsa')).toEqual(['M2']);
    expect(await indexed('intelegere')).toEqual(['M3']);
    expect(await indexed('Ștefan')).toEqual([]); // only folded words are keys
    const entry = (await searchPeriods(fs.db, A, 'contract').doc(String(PERIOD)).get()).data()!;
    expect(entry.entries).toBeUndefined(); // packed: one string, not an element per entry
    expect(searchPeriodEntries(entry).map((e) => decodeSearchEntry(e))).toEqual([
      {
        messageId: 'M3',
        threadId: T,
        tsMs: (TS + 2) * 1000,
        direction: 'outbound',
        hasMedia: true,
        signature: searchSignature(['contract', 'intelegere', 'pdf']),
      },
    ]);
    // The thread by its name's prefixes and its phone in both forms.
    for (const term of ['st', 'stef', 'stefan', 'pop', '4071234', '0712345678']) {
      const found = await searchThreads(fs.db, A).where('terms', 'array-contains', term).get();
      expect(found.docs.map((d) => d.id)).toEqual([T]);
    }
    // A replayed job changes nothing in the index.
    const before = (await searchPeriods(fs.db, A, 'stefan').get()).docs.map((d) => d.data().packed);
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [
        raw('M1', STEFAN, text('Bună, sunt Ștefan din Țăndărei'), { messageTimestamp: TS }),
      ]),
    );
    await settle();
    expect(
      (await searchPeriods(fs.db, A, 'stefan').get()).docs.map((d) => d.data().packed),
    ).toEqual(before);
  });

  it('when a send is recorded or a live message arrives, then its index entries land in the commit of the message; a bigger job commits its index no later than its messages', async () => {
    // The paths each commit wrote, in commit order.
    const commits: string[][] = [];
    const batchOf = fs.db.batch.bind(fs.db);
    fs.db.batch = () => {
      const batch = batchOf();
      const paths: string[] = [];
      const set = batch.set.bind(batch) as (ref: { path: string }, ...rest: unknown[]) => unknown;
      (batch as unknown as { set: typeof set }).set = (ref, ...rest) => {
        paths.push(ref.path);
        set(ref, ...rest);
        return batch;
      };
      const commit = batch.commit.bind(batch);
      batch.commit = () => {
        commits.push(paths);
        return commit();
      };
      return batch;
    };
    const isIndex = (path: string) => /\/search(Terms|Threads)\//.test(path);
    const commitOf = (path: string) => commits.findIndex((c) => c.includes(path));

    await enqueue(queue, 'record-outbound', {
      accountId: A,
      requestId: 'req-send-1',
      threadId: T,
      to: STEFAN,
      waMessageId: 'SEND1ABCDEF',
      acceptedAt: new Date(TS * 1000).toISOString(),
      content: { body: 'Comanda pentru sâmbătă e confirmată', media: null, replyTo: null },
    });
    await settle();
    expect(await indexed('confirmata')).toEqual(['SEND1ABCDEF']);
    // One commit: the message, its new thread, the thread's and the words' index, the events.
    expect(commits).toHaveLength(1);
    expect(commits[0]).toContain(`threads/${T}/messages/SEND1ABCDEF`);
    expect(commits[0]!.filter(isIndex).length).toBeGreaterThanOrEqual(5);

    commits.length = 0;
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [raw('LIVE1', STEFAN, text('Mulțumesc frumos'), { messageTimestamp: TS })]),
    );
    await settle();
    expect(await indexed('multumesc')).toEqual(['LIVE1']);
    expect(commits).toHaveLength(1);
    expect(commits[0]).toContain(`threads/${T}/messages/LIVE1`);
    expect(commits[0]!.some(isIndex)).toBe(true);

    // Twenty messages, each with its own word: the index goes first, in a commit of its own.
    commits.length = 0;
    const many = Array.from({ length: 20 }, (_, i) =>
      raw(`MANY${i}`, STEFAN, text(`cuvant${i} comun`), { messageTimestamp: TS + i }),
    );
    await enqueue(queue, 'ingest-messages', messagesJob(A, many));
    await settle();
    expect(await indexed('comun')).toEqual(many.map((m) => m.key.id).sort());
    const firstMessage = Math.min(
      ...many.map((m) => commitOf(`threads/${T}/messages/${m.key.id}`)),
    );
    const lastIndex = Math.max(...commits.map((c, i) => (c.some(isIndex) ? i : -1)));
    expect(firstMessage).toBeGreaterThan(-1);
    expect(lastIndex).toBeGreaterThan(-1);
    expect(lastIndex).toBeLessThan(firstMessage);
  });

  it('when a message is edited or revoked, then the index follows it and the message is kept', async () => {
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [
        raw('E1', STEFAN, text('petrecere sambata'), { messageTimestamp: TS }),
        raw('R1', STEFAN, text('petrecere duminica'), { messageTimestamp: TS + 1 }),
      ]),
    );
    await settle();
    expect(await indexed('petrecere')).toEqual(['E1', 'R1']);
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [editOf('E1', 'botez vineri', TS + 5), revokeOf('R1', TS + 6)]),
    );
    await settle();
    expect(await indexed('petrecere')).toEqual([]);
    expect(await indexed('sambata')).toEqual([]);
    expect(await indexed('botez')).toEqual(['E1']);
    expect(await indexed('duminica')).toEqual([]);
    const r1 = (await store.messageRef(T, 'R1').get()).data()!;
    expect(r1).toMatchObject({ deleted: true, body: 'petrecere duminica' });
  });

  it('when one word fills a period, then new entries go to a small tail that moves into sealed parts of at most SEARCH_ENTRIES_PER_PART, and one more message rewrites the tail only', async () => {
    // 2138 messages: 33 full tails of 64 moved (31 fill part 1 to 1984; 2 start part 2), 26 left.
    expect([SEARCH_TAIL_ENTRIES, SEARCH_ENTRIES_PER_PART]).toEqual([64, 2000]);
    const n = 2138;
    const messages = Array.from({ length: n + 1 }, (_, i) =>
      raw(`P${String(i).padStart(5, '0')}`, STEFAN, text(`comanda ${i}`), {
        messageTimestamp: TS + i,
      }),
    );
    await enqueue(queue, 'ingest-messages', messagesJob(A, messages.slice(0, 1500)));
    await enqueue(queue, 'ingest-messages', messagesJob(A, messages.slice(1500, n)));
    await settle();
    const layout = async () =>
      (await searchPeriods(fs.db, A, 'comanda').get()).docs
        .map((d) => d.data())
        .sort((a, b) => a.part - b.part);
    const days = await layout();
    expect(days.map((d) => [d.part, searchPeriodEntries(d).length])).toEqual([
      [0, 26],
      [1, 1984],
      [2, 128],
    ]);
    expect(days[0]!.parts).toBe(3);
    expect(new Set(await indexed('comanda')).size).toBe(n);

    // One more message: the tail is rewritten, the sealed parts are not.
    await enqueue(queue, 'ingest-messages', messagesJob(A, messages.slice(n)));
    await settle();
    const after = await layout();
    expect(searchPeriodEntries(after[0]!)).toHaveLength(27);
    expect(after[0]!.updatedAt.getTime()).toBeGreaterThan(days[0]!.updatedAt.getTime());
    expect(after.slice(1).map((d) => d.updatedAt.getTime())).toEqual(
      days.slice(1).map((d) => d.updatedAt.getTime()),
    );
    expect(new Set(await indexed('comanda')).size).toBe(n + 1);
  });

  it('when live messages fill the tail, then it moves into the sealed part; an edit or revoke of a sealed entry finds it there, and a replay adds nothing', async () => {
    const msg = (i: number) =>
      raw(`P${String(i).padStart(3, '0')}`, STEFAN, text(`comanda ${i}`), {
        messageTimestamp: TS + i,
      });
    // One history job: 64 entries sealed, a full tail of 64.
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(
        A,
        Array.from({ length: 128 }, (_, i) => msg(i)),
      ),
    );
    await settle();
    const layout = async () =>
      (await searchPeriods(fs.db, A, 'comanda').get()).docs
        .map((d) => d.data())
        .sort((a, b) => a.part - b.part)
        .map((d) => searchPeriodEntries(d).map((e) => decodeSearchEntry(e)!.messageId));
    expect((await layout()).map((ids) => ids.length)).toEqual([64, 64]);
    // A live message (a small job, which reads the tail and, as it fills, the last part).
    const live = messagesJob(A, [msg(128)]);
    await enqueue(queue, 'ingest-messages', live);
    await settle();
    let parts = await layout();
    expect(parts.map((ids) => ids.length)).toEqual([1, 128]);
    expect(parts[0]).toEqual(['P128']);
    // An edit and a revoke of entries in the sealed part, in a small job.
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [editOf('P000', 'botez vineri', TS + 200), revokeOf('P001', TS + 201)]),
    );
    await settle();
    // The live job again (a replay): its message is stored, nothing is added.
    await enqueue(queue, 'ingest-messages', live);
    await settle();
    parts = await layout();
    expect(parts.map((ids) => ids.length)).toEqual([1, 126]);
    const all = await indexed('comanda');
    expect(all).toHaveLength(127);
    expect(new Set(all).size).toBe(127);
    expect(all).not.toContain('P000');
    expect(all).not.toContain('P001');
    expect(await indexed('botez')).toEqual(['P000']);
  });

  it('when a period was filled before the tail (part 0 a whole part), then the next message moves it into a new sealed part once and starts a tail', async () => {
    const entry = (i: number) =>
      `${(TS * 1000 + i).toString(36)}|i-|OLD${String(i).padStart(4, '0')}|${T}`;
    const whole = Array.from({ length: SEARCH_ENTRIES_PER_PART }, (_, i) => entry(i));
    const docOf = (part: number, entries: string[]) => ({
      term: 'comanda',
      period: PERIOD,
      part,
      parts: 2,
      packed: entries.join('\n'),
      updatedAt: new Date(),
    });
    await searchPeriods(fs.db, A, 'comanda').doc(String(PERIOD)).set(docOf(0, whole));
    await searchPeriods(fs.db, A, 'comanda')
      .doc(`${PERIOD}.1`)
      .set(docOf(1, [entry(SEARCH_ENTRIES_PER_PART)]));
    await enqueue(
      queue,
      'ingest-messages',
      messagesJob(A, [raw('NEW1', STEFAN, text('comanda noua'), { messageTimestamp: TS + 5 })]),
    );
    await settle();
    const docs = (await searchPeriods(fs.db, A, 'comanda').get()).docs
      .map((d) => d.data())
      .sort((a, b) => a.part - b.part);
    expect(docs.map((d) => [d.part, searchPeriodEntries(d).length])).toEqual([
      [0, 1],
      [1, 1],
      [2, SEARCH_ENTRIES_PER_PART],
    ]);
    expect(docs[0]!.parts).toBe(3);
    expect(await indexed('comanda')).toHaveLength(SEARCH_ENTRIES_PER_PART + 2);
  });

  it('when messages were stored before the index existed, then reindex-search indexes them and resumes where it stopped', async () => {
    const threadIds: string[] = [];
    for (let i = 0; i < 60; i++) {
      const jid = `407000${String(i).padStart(5, '0')}@s.whatsapp.net`;
      const threadId = threadIdFor(A, jid);
      threadIds.push(threadId);
      await store.threadRef(threadId).set({
        accountId: A,
        clientJid: jid,
        phoneE164: `+407000${String(i).padStart(5, '0')}`,
        displayName: i === 7 ? 'Ștefania' : `Client ${i}`,
        isGroup: false,
        lastMessageAt: new Date(TS * 1000),
        lastMessageText: 'x',
        lastMessageDirection: 'inbound',
        unreadCount: 0,
        messageCount: 1,
        createdAt: new Date(),
        updatedAt: new Date(),
      });
      await store.messageRef(threadId, `OLD${i}`).set({
        ...base,
        threadId,
        body: `vechi mesaj ${i}`,
        waKey: { id: `OLD${i}`, remoteJid: jid, fromMe: false, participant: null },
      });
    }
    threadIds.sort();
    expect(await indexed('vechi')).toEqual([]);
    // A previous run stopped after the 30th thread in id order: only the rest is indexed now.
    const started = new Date();
    await searchBackfillState(fs.db, A).set({
      status: 'running',
      afterThreadId: threadIds[29]!,
      threads: 30,
      messages: 30,
      startedAt: started,
      updatedAt: started,
      completedAt: null,
    });
    await enqueue(queue, 'reindex-search', { accountId: A, afterThreadId: null, requestedBy: 't' });
    await settle();
    expect((await indexed('vechi')).length).toBe(30);
    expect((await searchBackfillState(fs.db, A).get()).data()).toMatchObject({
      status: 'completed',
      threads: 60,
      messages: 60,
      afterThreadId: threadIds[59],
    });
    // A full run from the start covers everything; running it twice changes nothing.
    await enqueue(queue, 'reindex-search', { accountId: A, afterThreadId: null, requestedBy: 't' });
    await settle();
    expect((await indexed('vechi')).length).toBe(60);
    const named = await searchThreads(fs.db, A).where('terms', 'array-contains', 'stefania').get();
    expect(named.size).toBe(1);
    // Nothing was deleted.
    expect((await store.c.threads().where('accountId', '==', A).get()).size).toBe(60);
  });

  it('when the index holds documents of the array format (no signatures), then ingest reads them and a reindex rewrites them packed', async () => {
    const jid = '40700000001@s.whatsapp.net';
    const threadId = threadIdFor(A, jid);
    await store.threadRef(threadId).set({
      accountId: A,
      clientJid: jid,
      phoneE164: '+40700000001',
      displayName: 'Ana',
      isGroup: false,
      lastMessageAt: new Date(TS * 1000),
      lastMessageText: 'x',
      lastMessageDirection: 'inbound',
      unreadCount: 0,
      messageCount: 2,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    for (const [id, body] of [
      ['V1', 'tort vechi'],
      ['V2', 'tort nou'],
    ] as const) {
      await store.messageRef(threadId, id).set({
        ...base,
        threadId,
        body,
        waKey: { id, remoteJid: jid, fromMe: false, participant: null },
      });
    }
    // As the index was written before the packing: an array, entries without a signature.
    const old = `${(TS * 1000).toString(36)}|i-|V1|${threadId}`;
    await searchPeriods(fs.db, A, 'tort')
      .doc(String(PERIOD))
      .set({
        term: 'tort',
        period: PERIOD,
        part: 0,
        parts: 1,
        entries: [old],
        updatedAt: new Date(),
      });
    expect(await indexed('tort')).toEqual(['V1']);
    await enqueue(queue, 'reindex-search', { accountId: A, afterThreadId: null, requestedBy: 't' });
    await settle();
    const doc = (await searchPeriods(fs.db, A, 'tort').doc(String(PERIOD)).get()).data()!;
    expect(doc.entries ?? []).toEqual([]); // emptied: the embedded store's set() keeps old fields
    const entries = searchPeriodEntries(doc).map((e) => decodeSearchEntry(e)!);
    expect(entries.map((e) => [e.messageId, e.signature])).toEqual([
      ['V1', searchSignature(['tort', 'vechi'])],
      ['V2', searchSignature(['tort', 'nou'])],
    ]);
    expect(await indexed('vechi')).toEqual(['V1']);
    // The thread's index document carries its words, which a search of several words reads.
    expect((await searchThreads(fs.db, A).doc(threadId).get()).data()!.words).toBe(
      threadSearchWords({ displayName: 'Ana', phoneE164: '+40700000001' }),
    );
  });

  it('when entries are long, then a part ends at SEARCH_PACKED_MAX_CHARS and a commit carries at most SEARCH_COMMIT_MAX_BYTES', async () => {
    const jid = '40700000002@s.whatsapp.net';
    const threadId = threadIdFor(A, jid);
    const words = ['lung', 'mesaj', 'comanda', 'tort', 'sambata', 'ora', 'sala', 'pret'];
    const plan = emptySearchPlan();
    for (let i = 0; i < SEARCH_ENTRIES_PER_PART; i++) {
      // Message ids as long as the contract allows: 2000 entries run past the packed limit.
      const id = `${'X'.repeat(250)}${String(i).padStart(6, '0')}`;
      planMessage(plan, {
        ...base,
        tsClient: new Date(TS * 1000 + i),
        threadId,
        body: words.join(' '),
        waKey: { id, remoteJid: jid, fromMe: false, participant: null },
      });
    }
    const { commits } = await applySearchPlan(fs.db, A, plan, new Date(), 400);
    // 8 words × ~600 KB: by count alone (16 writes ≤ 400) this was one commit of ~5 MB.
    expect(commits).toBeGreaterThanOrEqual(Math.ceil((8 * 600_000) / SEARCH_COMMIT_MAX_BYTES));
    const docs = (await searchPeriods(fs.db, A, 'sambata').get()).docs.map((d) => d.data());
    // Part 1 took tails of ~18.6 KB until the next would pass the limit; part 2 the rest.
    expect(docs.map((d) => d.part).sort()).toEqual([0, 1, 2]);
    for (const d of docs) expect(d.packed!.length).toBeLessThanOrEqual(SEARCH_PACKED_MAX_CHARS);
    const part1 = docs.find((d) => d.part === 1)!.packed!.length;
    expect(part1).toBeGreaterThan(SEARCH_PACKED_MAX_CHARS - 20_000);
    expect(new Set(await indexed('sambata')).size).toBe(SEARCH_ENTRIES_PER_PART);
  }, 60_000);
});
