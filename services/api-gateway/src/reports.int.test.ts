import { createHash, randomInt, randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import ICAL from 'ical.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucharestParts } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import {
  admin,
  bearer,
  useGateway,
  userToken,
  validateTraffic,
  type TestGateway,
} from '../test/gateway.fixture.js';
import { accountDoc, seedAccount, threadDoc } from '../test/seed.js';

// Issue 19 items 7 and 8: a performer's ICS feed behind a secret URL, CSV exports, the monthly
// report and the clients list — each from what the caller may see only.
const RUN = randomUUID().replace(/-/g, '').slice(0, 6);
const A = `wa-ra${RUN}`;
const B = `wa-rb${RUN}`;
const phone = () => `+40713${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
const P1 = phone();
const P2 = phone();

/** A month about two months ahead, so every booking is in the feed's window and upcoming. */
const M = bucharestParts(new Date(Date.now() + 60 * 86_400_000)).date.slice(0, 7);
const LAST = new Date(Date.UTC(Number(M.slice(0, 4)), Number(M.slice(5, 7)), 0))
  .toISOString()
  .slice(0, 10);

let gw: TestGateway;
let employeeA: Record<string, string>;
let employeeB: Record<string, string>;
const ids: Record<string, string> = {};
const performers: Record<string, string> = {};

interface Res {
  statusCode: number;
  body: string;
  headers: Record<string, unknown>;
  json<T = Record<string, unknown>>(): T;
}

function call(
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string> = admin,
  payload?: Record<string, unknown>,
  on: TestGateway = gw,
): Promise<Res> {
  return on.app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
}

async function created(res: Res): Promise<string> {
  expect(res.statusCode, res.body).toBe(201);
  return Promise.resolve(res.json<{ id: string }>().id);
}

function book(
  accountId: string,
  phoneE164: string,
  day: string,
  extra: Record<string, unknown>,
): Promise<string> {
  return call('POST', '/api/crm/events', admin, {
    accountId,
    phoneE164,
    date: `${M}-${day}`,
    start: `${M}-${day}T10:00`,
    end: `${M}-${day}T12:00`,
    paid: 0,
    ...extra,
  }).then(created);
}

beforeAll(async () => {
  gw = await useGateway();
  validateTraffic(gw);
  const db = gw.fs.db;
  await seedAccount(db, A, accountDoc('WA-RA', 'connected'));
  await seedAccount(db, B, accountDoc('WA-RB', 'connected'));
  await collections(db)
    .threads()
    .doc(`${A}__${P1.slice(1)}@s.whatsapp.net`)
    .set({ ...threadDoc(A, 1, new Date(), P1), displayName: 'Ștefan Popescu' });
  await collections(db)
    .threads()
    .doc(`${B}__${P1.slice(1)}@s.whatsapp.net`)
    .set({ ...threadDoc(B, 1, new Date(), P1), displayName: 'Name only B knows' });
  employeeA = bearer((await userToken(gw, 'employee', [A])).token);
  employeeB = bearer((await userToken(gw, 'employee', [B])).token);

  const performer = (accountId: string, name: string, characters: string[]) =>
    call('POST', '/api/crm/performers', admin, { accountId, name, characters }).then(created);
  performers.ana = await performer(A, 'Ana', ['Elsa']);
  performers.dan = await performer(A, 'Dan', ['Spiderman']);
  performers.bob = await performer(B, 'Bob', ['Elsa']);

  ids.e1 = await book(A, P1, '10', {
    characters: ['Elsa'],
    performerIds: [performers.ana],
    amount: 600,
    advance: 200,
    address: 'Str. "Lalelelor", nr. 3',
  });
  ids.e2 = await book(A, P1, '11', {
    characters: ['Elsa', 'Spiderman'],
    performerIds: [performers.ana, performers.dan],
    start: `${M}-11T15:00`,
    end: `${M}-11T17:00`,
    amount: 1000,
  });
  ids.e3 = await book(A, P2, '12', {
    characters: ['Spiderman'],
    performerIds: [performers.dan],
    amount: 500,
    status: 'cancelled',
  });
  ids.e4 = await book(A, P2, '13', {
    characters: [],
    amount: 300,
    paid: 100,
    childName: '=HYPERLINK("http://evil","x")',
  });
  ids.e5 = await book(B, P1, '10', {
    characters: ['Elsa'],
    performerIds: [performers.bob],
    amount: 999,
  });
  ids.e6 = await book(A, P1, '14', {
    characters: ['Elsa'],
    performerIds: [performers.ana],
    amount: 700,
  });
  const archived = await call('POST', `/api/crm/events/${ids.e6}/archive`, {
    ...admin,
    'idempotency-key': randomUUID(),
  });
  expect(archived.statusCode, archived.body).toBe(200);
  const paid = await call(
    'POST',
    `/api/crm/events/${ids.e1}/payments`,
    { ...admin, 'idempotency-key': randomUUID() },
    { amount: 250, date: `${M}-01`, method: 'transfer', note: '+avans' },
  );
  expect(paid.statusCode, paid.body).toBe(200);
  const paidB = await call(
    'POST',
    `/api/crm/events/${ids.e5}/payments`,
    { ...admin, 'idempotency-key': randomUUID() },
    { amount: 99, date: `${M}-01`, method: 'cash' },
  );
  expect(paidB.statusCode, paidB.body).toBe(200);
}, 120_000);

afterAll(async () => {
  await gw?.dispose();
});

async function feedOf(performerId: string, headers: Record<string, string> = admin) {
  const res = await call('POST', `/api/crm/performers/${performerId}/calendar-feed`, headers);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ url: string; token: string }>();
}

const ics = (performerId: string, token: string) =>
  call('GET', `/api/crm/performers/${performerId}/calendar.ics?token=${token}`, {});

function parseIcs(text: string) {
  const calendar = new ICAL.Component(ICAL.parse(text) as unknown[]);
  return calendar.getAllSubcomponents('vevent').map((v) => {
    const event = new ICAL.Event(v);
    return {
      uid: event.uid,
      start: event.startDate.toJSDate().toISOString(),
      end: event.endDate.toJSDate().toISOString(),
      summary: event.summary,
      location: event.location,
    };
  });
}

describe('a performer calendar feed (issue 19 item 7)', () => {
  it('when the feed is read with its token, then an independent parser finds exactly the performer’s bookings (not cancelled, archived or others’)', async () => {
    const { url, token } = await feedOf(performers.ana!);
    expect(url).toMatch(
      new RegExp(`/api/crm/performers/${performers.ana}/calendar\\.ics\\?token=${token}$`),
    );
    const res = await ics(performers.ana!, token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar/);
    const events = parseIcs(res.body);
    expect(events.map((e) => e.uid).sort()).toEqual([`${ids.e1}@wacrm`, `${ids.e2}@wacrm`].sort());
    const first = events.find((e) => e.uid === `${ids.e1}@wacrm`)!;
    const start = new Date(`${M}-10T10:00:00Z`);
    const offset = bucharestParts(start).offsetMinutes * 60_000;
    expect(first.start).toBe(new Date(start.getTime() - offset).toISOString());
    expect(first.end).toBe(new Date(start.getTime() - offset + 2 * 3_600_000).toISOString());
    expect(first.summary).toBe('Elsa');
    expect(first.location).toBe('Str. "Lalelelor", nr. 3');

    const dan = await feedOf(performers.dan!);
    const danEvents = parseIcs((await ics(performers.dan!, dan.token)).body);
    expect(danEvents.map((e) => e.uid)).toEqual([`${ids.e2}@wacrm`]);
  });

  it('when the token is stored, then only its SHA-256 is; a wrong, old or revoked token is 404', async () => {
    const old = await feedOf(performers.ana!);
    const stored = (await collections(gw.fs.db).performerFeeds().doc(performers.ana!).get()).data();
    expect(JSON.stringify(stored)).not.toContain(old.token);
    expect(stored?.tokenHash).toBe(createHash('sha256').update(old.token).digest('hex'));

    const fresh = await feedOf(performers.ana!);
    expect(fresh.token).not.toBe(old.token);
    expect((await ics(performers.ana!, old.token)).statusCode).toBe(404);
    expect((await ics(performers.ana!, fresh.token)).statusCode).toBe(200);
    // Another performer's token does not open this one.
    const dan = await feedOf(performers.dan!);
    expect((await ics(performers.ana!, dan.token)).statusCode).toBe(404);
    expect((await ics(performers.ana!, 'x'.repeat(43))).statusCode).toBe(404);
    expect((await ics(performers.ana!, 'short')).statusCode).toBe(400);

    const revoked = await call(
      'POST',
      `/api/crm/performers/${performers.ana}/calendar-feed/revoke`,
      employeeA,
    );
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect((await ics(performers.ana!, fresh.token)).statusCode).toBe(404);
    const again = await call('POST', `/api/crm/performers/${performers.ana}/calendar-feed/revoke`);
    expect(again.statusCode).toBe(404);
    const kept = (await collections(gw.fs.db).performerFeeds().doc(performers.ana!).get()).data();
    expect(kept?.revokedAt).toBeInstanceOf(Date);
  });

  it('when an employee of another account makes or revokes the URL, then 403', async () => {
    for (const path of ['calendar-feed', 'calendar-feed/revoke']) {
      const res = await call('POST', `/api/crm/performers/${performers.ana}/${path}`, employeeB);
      expect(res.statusCode, path).toBe(403);
    }
    expect((await feedOf(performers.ana!, employeeA)).token).toHaveLength(43);
  });

  it('when one address reads the feed past the rate limit, then 429 (it is not exempt like /health)', async () => {
    const limited = await useGateway({ RATE_LIMIT_MAX: '3' });
    try {
      const db = limited.fs.db;
      await seedAccount(db, A, accountDoc('WA-RA', 'connected'));
      const id = await call(
        'POST',
        '/api/crm/performers',
        admin,
        { accountId: A, name: 'Ana' },
        limited,
      ).then(created);
      const made = await call(
        'POST',
        `/api/crm/performers/${id}/calendar-feed`,
        admin,
        undefined,
        limited,
      );
      const { token } = made.json<{ token: string }>();
      const statuses = [];
      for (let i = 0; i < 4; i += 1) {
        statuses.push(
          (
            await call(
              'GET',
              `/api/crm/performers/${id}/calendar.ics?token=${token}`,
              {},
              undefined,
              limited,
            )
          ).statusCode,
        );
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await limited.dispose();
    }
  });
});

function csv(res: Res): Array<Record<string, string>> {
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/csv/);
  return parse<Record<string, string>>(res.body, { bom: true, columns: true });
}

describe('CSV exports (issue 19 item 7)', () => {
  const range = `accountId=${A}&from=${M}-01&to=${LAST}`;

  it('when bookings are exported, then every event of the account dated in the range is a row, escaped and formula-safe', async () => {
    const rows = csv(await call('GET', `/api/crm/exports/bookings?${range}`, employeeA));
    expect(rows.map((r) => r.eventId).sort()).toEqual(
      [ids.e1, ids.e2, ids.e3, ids.e4, ids.e6].sort(),
    );
    const e1 = rows.find((r) => r.eventId === ids.e1)!;
    expect(e1).toMatchObject({
      date: `${M}-10`,
      start: `${M}-10 10:00`,
      status: 'confirmed',
      phone: `'${P1}`,
      performers: 'Ana',
      address: 'Str. "Lalelelor", nr. 3',
      price: '600',
      paid: '250',
      outstanding: '350',
    });
    expect(rows.find((r) => r.eventId === ids.e4)!.child).toBe('\'=HYPERLINK("http://evil","x")');
    expect(rows.find((r) => r.eventId === ids.e2)!.performers).toBe('Ana; Dan');
    expect(rows.find((r) => r.eventId === ids.e6)!.archived).toBe('true');
  });

  it('when payments are exported, then the account’s payments received in the range are rows', async () => {
    const rows = csv(await call('GET', `/api/crm/exports/payments?${range}`, employeeA));
    expect(rows).toEqual([
      expect.objectContaining({
        date: `${M}-01`,
        eventId: ids.e1,
        amount: '250',
        method: 'transfer',
        note: "'+avans",
      }),
    ]);
    const outside = csv(
      await call('GET', `/api/crm/exports/payments?accountId=${A}&from=${M}-02&to=${LAST}`),
    );
    expect(outside).toEqual([]);
  });

  it('when clients are exported, then those booked in the range are rows with this account’s name and figures only', async () => {
    const rows = csv(await call('GET', `/api/crm/exports/clients?${range}`, employeeA));
    expect(rows).toEqual(
      [
        {
          phone: `'${P1}`,
          name: 'Ștefan Popescu',
          bookings: '2',
          spend: '250',
          outstanding: '1350',
          lastBooking: '',
          nextBooking: `${M}-10`,
        },
        {
          phone: `'${P2}`,
          name: '',
          bookings: '2',
          spend: '100',
          outstanding: '200',
          lastBooking: '',
          nextBooking: `${M}-13`,
        },
      ].sort((a, b) => a.phone.localeCompare(b.phone)),
    );
  });

  it('when the range is reversed, too long, the kind unknown or the account not the caller’s, then 4xx', async () => {
    const bad = [
      [`/api/crm/exports/bookings?accountId=${A}&from=${LAST}&to=${M}-01`, employeeA, 400],
      [`/api/crm/exports/bookings?accountId=${A}&from=2020-01-01&to=2026-01-01`, employeeA, 400],
      [`/api/crm/exports/invoices?${range}`, employeeA, 400],
      [`/api/crm/exports/bookings?${range}`, employeeB, 403],
    ] as const;
    for (const [url, headers, status] of bad) {
      expect((await call('GET', url, headers)).statusCode, url).toBe(status);
    }
  });
});

describe('the monthly report (issue 19 item 7)', () => {
  it('when a month has bookings, then booked, collected and outstanding add up in total, by character and by performer', async () => {
    const res = await call('GET', `/api/crm/reports/monthly?accountId=${A}&month=${M}`, employeeA);
    expect(res.statusCode, res.body).toBe(200);
    const figures = (bookings: number, booked: number, collected: number, outstanding: number) => ({
      bookings,
      booked,
      collected,
      outstanding,
    });
    expect(res.json()).toEqual({
      accountId: A,
      month: M,
      // e1 600 (250 paid), e2 1000, e4 300 (100 paid); e3 cancelled, e6 archived, e5 is B's.
      totals: figures(3, 1900, 350, 1550),
      byCharacter: [
        { key: 'elsa', name: 'Elsa', ...figures(2, 1100, 250, 850) },
        { key: 'spiderman', name: 'Spiderman', ...figures(1, 500, 0, 500) },
        { key: null, name: null, ...figures(1, 300, 100, 200) },
      ],
      byPerformer: [
        { key: performers.ana, name: 'Ana', ...figures(2, 1100, 250, 850) },
        { key: performers.dan, name: 'Dan', ...figures(1, 500, 0, 500) },
        { key: null, name: null, ...figures(1, 300, 100, 200) },
      ],
      truncated: false,
    });
    const other = await call(
      'GET',
      `/api/crm/reports/monthly?accountId=${A}&month=${M}`,
      employeeB,
    );
    expect(other.statusCode).toBe(403);
    const bad = await call('GET', `/api/crm/reports/monthly?accountId=${A}&month=2026-13`);
    expect(bad.statusCode).toBe(400);
  });
});

interface ClientList {
  items: Array<{
    phoneE164: string;
    displayName: string | null;
    bookings: number;
    spend: number;
    outstanding: number;
    lastBooking: string | null;
    nextBooking: string | null;
  }>;
  total: number;
}

describe('the clients list (issue 19 item 8)', () => {
  const list = (query: string, headers = employeeA) =>
    call('GET', `/api/crm/clients?${query}`, headers).then((r) => {
      expect(r.statusCode, r.body).toBe(200);
      return r.json<ClientList>();
    });

  it('when an employee lists clients, then only their accounts’ clients show, with those accounts’ figures and names', async () => {
    const page = await list('sort=outstanding&order=desc');
    expect(page.total).toBe(2);
    expect(page.items).toEqual([
      {
        phoneE164: P1,
        displayName: 'Ștefan Popescu',
        bookings: 2,
        spend: 250,
        outstanding: 1350,
        lastBooking: null,
        nextBooking: `${M}-10`,
        accountIds: [A],
      },
      {
        phoneE164: P2,
        displayName: null,
        bookings: 2,
        spend: 100,
        outstanding: 200,
        lastBooking: null,
        nextBooking: `${M}-13`,
        accountIds: [A],
      },
    ]);
    // The admin sees B's booking of the same client too.
    const all = await list(`q=${encodeURIComponent(P1)}`, admin);
    expect(all.items).toEqual([expect.objectContaining({ phoneE164: P1, bookings: 3 })]);
    const b = await list('', employeeB);
    expect(b.items).toEqual([
      expect.objectContaining({ phoneE164: P1, displayName: 'Name only B knows', bookings: 1 }),
    ]);
  });

  it('when a client profile is opened, then it has the name and links to the conversations of the caller’s accounts only', async () => {
    const res = await call('GET', `/api/crm/clients/${encodeURIComponent(P1)}`, employeeA);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      displayName: 'Ștefan Popescu',
      threads: [
        {
          threadId: `${A}__${P1.slice(1)}@s.whatsapp.net`,
          accountId: A,
          displayName: 'Ștefan Popescu',
        },
      ],
    });
    const all = (await call('GET', `/api/crm/clients/${encodeURIComponent(P1)}`)).json<{
      threads: Array<{ accountId: string }>;
    }>();
    expect(all.threads.map((t) => t.accountId).sort()).toEqual([A, B].sort());
  });

  it('when searching without diacritics or by a phone as typed, then the client is found; pages hold pageSize rows', async () => {
    for (const q of ['stefan', 'POPESCU', `0${P1.slice(3, 9)}`, 'ștefan pop']) {
      const found = await list(`q=${encodeURIComponent(q)}`);
      expect(
        found.items.map((r) => r.phoneE164),
        q,
      ).toEqual([P1]);
    }
    expect((await list('q=nobody')).total).toBe(0);
    const second = await list('sort=name&order=asc&pageSize=1&page=2');
    expect(second).toMatchObject({ total: 2, page: 2, pageSize: 1 });
    expect(second.items.map((r) => r.phoneE164)).toEqual([P2]);
    const bad = await call('GET', '/api/crm/clients?sort=age', employeeA);
    expect(bad.statusCode).toBe(400);
  });
});
