import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collections } from '@wacrm/contracts';
import { admin, useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';

const A = 'wa-edits01';
const PHONE = '+40712000111';

let gw: TestGateway;
let replica: TestGateway;

beforeAll(async () => {
  gw = await useGateway();
  validateTraffic(gw);
  // A second replica over the same Redis and Firestore: the lock has to hold across processes.
  replica = await useGateway({}, { fs: gw.fs, redis: gw.redis, authApp: gw.authApp });
  validateTraffic(replica);
}, 120_000);

afterAll(async () => {
  await replica?.close();
  await gw?.dispose();
});

interface View {
  id: string;
  version: number;
  isArchived: boolean;
  [field: string]: unknown;
}

async function createEvent(): Promise<View> {
  const res = await gw.app.inject({
    method: 'POST',
    url: '/api/crm/events',
    headers: admin,
    payload: { accountId: A, phoneE164: PHONE, date: '2025-09-01', amount: 500 },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<View>();
}

const stored = async (id: string) =>
  (await gw.fs.db.collection(Collections.evenimente).doc(id).get()).data() as Record<
    string,
    unknown
  >;

/** One field per edit, each a value no other edit writes. */
const EDITS: Array<{
  body: Record<string, unknown>;
  read: (d: Record<string, unknown>) => unknown;
}> = [
  { body: { time: '15:30' }, read: (d) => d.time },
  { body: { durationHours: 3 }, read: (d) => d.durationHours },
  { body: { address: 'Str. Lalelelor 4' }, read: (d) => d.address },
  { body: { characters: ['Elsa', 'Olaf'] }, read: (d) => d.characters },
  { body: { childName: 'Ioana' }, read: (d) => d.childName },
  { body: { childAge: 6 }, read: (d) => d.childAge },
  { body: { guests: 21 }, read: (d) => d.guests },
  { body: { notes: 'poarta verde' }, read: (d) => d.notes },
  { body: { advance: 100 }, read: (d) => (d.payment as { advance: unknown }).advance },
  { body: { paid: 150 }, read: (d) => (d.payment as { paid: unknown }).paid },
  { body: { amount: 800 }, read: (d) => (d.payment as { amount: unknown }).amount },
  { body: { date: '2025-09-02' }, read: (d) => d.date },
];

describe('event edits (issue 16 item 4)', () => {
  it('when 12 edits of different fields and an archive race on two replicas, then no edit is lost, the archive holds and every write has its own version', async () => {
    const created = await createEvent();
    const url = `/api/crm/events/${created.id}`;
    const edits = EDITS.map((edit, i) =>
      (i % 2 === 0 ? gw : replica).app.inject({
        method: 'PATCH',
        url,
        headers: admin,
        payload: edit.body,
      }),
    );
    // The archive is fired in the middle of the edits, from the other replica.
    const archive = replica.app.inject({ method: 'POST', url: `${url}/archive`, headers: admin });
    const answers = await Promise.all(edits);
    const archived = await archive;
    expect(archived.statusCode, archived.body).toBe(200);

    const doc = await stored(created.id);
    // An edit that read the event before the archive and wrote after it would un-archive it.
    expect(doc.isArchived).toBe(true);
    // Every edit that was answered 200 is in the stored event: none overwrote another's field.
    const applied = answers.flatMap((res, i) => (res.statusCode === 200 ? [i] : []));
    for (const i of applied) {
      const value = EDITS[i]!.read(
        EDITS[i]!.body.amount !== undefined ||
          EDITS[i]!.body.advance !== undefined ||
          EDITS[i]!.body.paid !== undefined
          ? { payment: EDITS[i]!.body }
          : EDITS[i]!.body,
      );
      expect(EDITS[i]!.read(doc), JSON.stringify(EDITS[i]!.body)).toEqual(value);
    }
    // The rest came after the archive and were refused as problem+json, never applied silently.
    for (const res of answers.filter((r) => r.statusCode !== 200)) {
      expect(res.statusCode, res.body).toBe(409);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    // Versions: the create is 1, each accepted write one more, in a single sequence.
    const versions = [
      ...applied.map((i) => answers[i]!.json<View>().version),
      archived.json<View>().version,
    ].sort((a, b) => a - b);
    expect(versions).toEqual(versions.map((_, i) => i + 2));
    expect(doc.version).toBe(versions.length + 1);
  }, 60_000);

  it('when an edit carries the version it read and another edit landed since, then it gets 409 problem+json and changes nothing', async () => {
    const created = await createEvent();
    expect(created.version).toBe(1);
    const url = `/api/crm/events/${created.id}`;
    const first = await gw.app.inject({
      method: 'PATCH',
      url,
      headers: { ...admin, 'if-match': `"${created.version}"` },
      payload: { notes: 'first' },
    });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json<View>().version).toBe(2);
    expect(first.headers.etag).toBe('"2"');
    const stale = await replica.app.inject({
      method: 'PATCH',
      url,
      headers: { ...admin, 'if-match': `"${created.version}"` },
      payload: { notes: 'stale', guests: 3 },
    });
    expect(stale.statusCode, stale.body).toBe(409);
    expect(stale.headers['content-type']).toMatch(/problem\+json/);
    expect(stale.json<{ detail: string }>().detail).toMatch(/version 2/);
    const staleArchive = await replica.app.inject({
      method: 'POST',
      url: `${url}/archive`,
      headers: { ...admin, 'if-match': '"1"' },
    });
    expect(staleArchive.statusCode, staleArchive.body).toBe(409);
    const doc = await stored(created.id);
    expect(doc).toMatchObject({ notes: 'first', guests: null, version: 2, isArchived: false });
  });

  it('when a save is retried with the same Idempotency-Key, then the first answer comes back (not a 409), and another body with that key is 409', async () => {
    const created = await createEvent();
    const url = `/api/crm/events/${created.id}`;
    const headers = { ...admin, 'if-match': '"1"', 'idempotency-key': 'edit-retry-0001' };
    const first = await gw.app.inject({
      method: 'PATCH',
      url,
      headers,
      payload: { guests: 12 },
    });
    expect(first.statusCode, first.body).toBe(200);
    // The answer was lost on the way; the client saves again with the same key and version.
    const retry = await replica.app.inject({
      method: 'PATCH',
      url,
      headers,
      payload: { guests: 12 },
    });
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json<View>().version).toBe(2);
    const other = await gw.app.inject({
      method: 'PATCH',
      url,
      headers,
      payload: { guests: 13 },
    });
    expect(other.statusCode, other.body).toBe(409);
    expect((await stored(created.id)).version).toBe(2);
    expect((await stored(created.id)).guests).toBe(12);
  });
});
