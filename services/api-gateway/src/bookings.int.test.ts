import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collections } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { admin, useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';

const RUN = randomUUID().replace(/-/g, '').slice(0, 8);
const A = `wa-bk${RUN}`;
const PHONE = '+40712000919';

let gw: TestGateway;
let replica: TestGateway;

beforeAll(async () => {
  gw = await useGateway();
  validateTraffic(gw);
  // A second replica on the same Redis and Firestore: the performer lock has to hold across both.
  replica = await useGateway({}, { fs: gw.fs, redis: gw.redis, authApp: gw.authApp });
  validateTraffic(replica);
}, 120_000);

afterAll(async () => {
  await replica?.close();
  await gw?.dispose();
});

interface Res {
  statusCode: number;
  body: string;
  headers: Record<string, unknown>;
  json<T = Record<string, unknown>>(): T;
}

async function call(
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: Record<string, unknown>,
  headers: Record<string, string> = {},
  on: TestGateway = gw,
): Promise<Res> {
  return on.app.inject({
    method,
    url,
    headers: { ...admin, ...headers },
    ...(payload !== undefined ? { payload } : {}),
  });
}

async function performer(body: Record<string, unknown> = {}): Promise<string> {
  const res = await call('POST', '/api/crm/performers', {
    accountId: A,
    name: `Ana ${randomUUID().slice(0, 4)}`,
    characters: ['Elsa'],
    travelBufferMinutes: 30,
    ...body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

async function costume(count: number): Promise<string> {
  const res = await call('POST', '/api/crm/costumes', {
    accountId: A,
    name: 'Rochie Elsa',
    character: 'Elsa',
    count,
    travelBufferMinutes: 0,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

/** A booking on a day of December 2026 (Europe/Bucharest wall times). */
function booking(day: string, from: string, to: string, extra: Record<string, unknown> = {}) {
  return {
    accountId: A,
    phoneE164: PHONE,
    date: `2026-12-${day}`,
    characters: ['Elsa'],
    amount: 600,
    advance: 200,
    start: `2026-12-${day}T${from}`,
    end: `2026-12-${day}T${to}`,
    ...extra,
  };
}

interface Conflict {
  reason: string;
  eventId: string | null;
  performerId?: string;
  costumeId?: string;
}

describe('bookings (issue 19)', () => {
  it('when a booking is saved, then its times are stored as UTC instants and the legacy date, time and duration follow them', async () => {
    const p = await performer();
    const res = await call(
      'POST',
      '/api/crm/events',
      booking('01', '15:00', '17:30', { performerIds: [p] }),
    );
    expect(res.statusCode, res.body).toBe(201);
    const view = res.json<Record<string, unknown>>();
    expect(view).toMatchObject({
      start: '2026-12-01T13:00:00.000Z',
      end: '2026-12-01T15:30:00.000Z',
      date: '2026-12-01',
      time: '15:00',
      durationHours: 2.5,
      status: 'confirmed',
      performerIds: [p],
      schemaVersion: 3,
      money: { price: 600, paid: 200, outstanding: 400 },
    });
    const stored = (
      await collections(gw.fs.db)
        .evenimente()
        .doc(view.id as string)
        .get()
    ).data();
    expect(stored?.start?.toISOString()).toBe('2026-12-01T13:00:00.000Z');
  });

  it('when a second booking of a performer overlaps the first or its travel buffer, then 409 problem+json names the first; right after the buffer it is saved', async () => {
    const p = await performer();
    const first = await call(
      'POST',
      '/api/crm/events',
      booking('02', '10:00', '12:00', { performerIds: [p] }),
    );
    expect(first.statusCode, first.body).toBe(201);
    const firstId = first.json<{ id: string }>().id;
    const clash = await call(
      'POST',
      '/api/crm/events',
      booking('02', '12:29', '13:00', { performerIds: [p] }),
    );
    expect(clash.statusCode, clash.body).toBe(409);
    expect(clash.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(clash.json<{ conflicts: Conflict[] }>().conflicts).toEqual([
      {
        reason: 'overlap',
        eventId: firstId,
        performerId: p,
        start: '2026-12-02T08:00:00.000Z',
        end: '2026-12-02T10:00:00.000Z',
      },
    ]);
    const after = await call(
      'POST',
      '/api/crm/events',
      booking('02', '12:30', '13:00', { performerIds: [p] }),
    );
    expect(after.statusCode, after.body).toBe(201);
    // An edit moving the second into the first's time is refused the same way; cancelled, it frees it.
    const secondId = after.json<{ id: string }>().id;
    const move = await call('PATCH', `/api/crm/events/${secondId}`, {
      start: '2026-12-02T11:00',
      end: '2026-12-02T12:30',
    });
    expect(move.statusCode, move.body).toBe(409);
    expect(move.json<{ conflicts: Conflict[] }>().conflicts.map((c) => c.eventId)).toEqual([
      firstId,
    ]);
    const cancel = await call('PATCH', `/api/crm/events/${firstId}`, { status: 'cancelled' });
    expect(cancel.statusCode, cancel.body).toBe(200);
    const moved = await call('PATCH', `/api/crm/events/${secondId}`, {
      start: '2026-12-02T11:00',
      end: '2026-12-02T12:30',
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ time: '11:00', durationHours: 1.5 });
  });

  it('when a costume has one piece a second overlapping booking is refused, and with two it is saved', async () => {
    const c = await costume(1);
    expect(
      (await call('POST', '/api/crm/events', booking('03', '10:00', '12:00', { costumeIds: [c] })))
        .statusCode,
    ).toBe(201);
    const second = booking('03', '11:00', '13:00', { costumeIds: [c] });
    const refused = await call('POST', '/api/crm/events', second);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json<{ conflicts: Conflict[] }>().conflicts.map((x) => x.reason)).toEqual([
      'costume-count',
    ]);
    expect((await call('PATCH', `/api/crm/costumes/${c}`, { count: 2 })).statusCode).toBe(200);
    expect((await call('POST', '/api/crm/events', second)).statusCode).toBe(201);
    expect(
      (await call('POST', '/api/crm/events', booking('03', '11:30', '12:00', { costumeIds: [c] })))
        .statusCode,
    ).toBe(409);
  });

  it("when a booking falls on a performer's day off, then it is refused; their other days are not", async () => {
    const p = await performer({ daysOff: ['2026-12-04'] });
    const off = await call(
      'POST',
      '/api/crm/events',
      booking('04', '10:00', '11:00', { performerIds: [p] }),
    );
    expect(off.statusCode, off.body).toBe(409);
    expect(off.json<{ conflicts: Conflict[] }>().conflicts).toMatchObject([
      { reason: 'day-off', eventId: null, performerId: p },
    ]);
    expect(
      (
        await call(
          'POST',
          '/api/crm/events',
          booking('05', '10:00', '11:00', { performerIds: [p] }),
        )
      ).statusCode,
    ).toBe(201);
  });

  it('when 8 saves race for the same performer slot on two replicas, then exactly one is saved and 7 get 409', async () => {
    const p = await performer();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(
          'POST',
          '/api/crm/events',
          booking('07', i % 2 === 0 ? '14:00' : '14:30', '16:00', { performerIds: [p] }),
          {},
          i % 2 === 0 ? gw : replica,
        ),
      ),
    );
    const codes = answers.map((a) => a.statusCode).sort();
    expect(codes).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    const stored = await gw.fs.db
      .collection(Collections.evenimente)
      .where('accountId', '==', A)
      .where('performerIds', 'array-contains', p)
      .get();
    expect(stored.size).toBe(1);
  }, 60_000);

  it('when a character is asked for a booked time, then it is not free and the nearest free slots can be booked', async () => {
    const character = `Olaf${RUN}`;
    const p = await performer({ characters: [character] });
    expect(
      (
        await call(
          'POST',
          '/api/crm/events',
          booking('08', '10:00', '12:00', { performerIds: [p] }),
        )
      ).statusCode,
    ).toBe(201);
    const res = await call(
      'GET',
      `/api/crm/availability?accountId=${A}&character=${character}&start=2026-12-08T11:00&durationMinutes=60&slots=2`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const view = res.json<{
      free: boolean;
      performers: Array<{ performerId: string; free: boolean }>;
      nearestFreeSlots: Array<{ start: string; end: string; performerId: string }>;
    }>();
    expect(view.free).toBe(false);
    expect(view.performers).toMatchObject([{ performerId: p, free: false }]);
    // Nearest first: 12:30 (right after the 30-minute buffer), then 13:00 — nearer than 08:30,
    // the latest start ending 30 minutes before 10:00.
    expect(view.nearestFreeSlots.map((s) => s.start)).toEqual([
      '2026-12-08T10:30:00.000Z',
      '2026-12-08T11:00:00.000Z',
    ]);
    for (const slot of view.nearestFreeSlots.slice(0, 1)) {
      const saved = await call('POST', '/api/crm/events', {
        ...booking('08', '00:00', '00:01', { performerIds: [slot.performerId] }),
        start: slot.start,
        end: slot.end,
      });
      expect(saved.statusCode, saved.body).toBe(201);
    }
  });

  it('when payments are recorded with an Idempotency-Key, then a retry records nothing more, paid and outstanding follow, and without a key it is 400', async () => {
    const created = await call('POST', '/api/crm/events', {
      ...booking('09', '10:00', '11:00'),
      advance: 300,
      paid: 0,
      status: 'awaiting_deposit',
      depositDueDate: '2026-01-01',
      balanceDueDate: '2026-12-08',
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ id: string }>().id;
    const url = `/api/crm/events/${id}/payments`;
    const body = { amount: 100.1, date: '2026-11-20', method: 'cash', note: 'avans' };
    const first = await call('POST', url, body, { 'idempotency-key': `pay-${RUN}-1` });
    expect(first.statusCode, first.body).toBe(200);
    const retry = await call('POST', url, body, { 'idempotency-key': `pay-${RUN}-1` }, replica);
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const second = await call(
      'POST',
      url,
      { ...body, amount: 0.2 },
      { 'idempotency-key': `pay-${RUN}-2` },
    );
    expect(second.json()).toMatchObject({
      version: 3,
      payment: { paid: 100.3 },
      money: { paid: 100.3, outstanding: 499.7, depositOutstanding: 199.7, depositOverdue: true },
    });
    expect(second.json<{ payments: unknown[] }>().payments).toHaveLength(2);
    const unkeyed = await call('POST', url, body);
    expect(unkeyed.statusCode).toBe(400);
    expect(unkeyed.json<{ errors: Array<{ path: string }> }>().errors[0]!.path).toBe(
      'Idempotency-Key',
    );
    // paid is now the payments' sum: a PATCH of it is refused, naming the field.
    const patchPaid = await call('PATCH', `/api/crm/events/${id}`, { paid: 5 });
    expect(patchPaid.statusCode).toBe(400);
    expect(patchPaid.json<{ errors: Array<{ path: string }> }>().errors[0]!.path).toBe('paid');

    const dues = await call('GET', `/api/crm/dues?accountId=${A}&from=2026-12-07&to=2026-12-13`);
    expect(dues.statusCode, dues.body).toBe(200);
    const mine = dues
      .json<{ items: Array<Record<string, unknown>> }>()
      .items.filter((d) => d.eventId === id);
    expect(mine).toEqual([
      expect.objectContaining({
        kind: 'deposit',
        dueDate: '2026-01-01',
        amountDue: 199.7,
        overdue: true,
      }),
      expect.objectContaining({ kind: 'balance', dueDate: '2026-12-08', amountDue: 499.7 }),
    ]);
    // The overdue booking is flagged, still there.
    expect((await gw.fs.db.collection(Collections.evenimente).doc(id).get()).exists).toBe(true);
  });

  it('when statuses are moved, then the rule in libs/contracts decides: done only from confirmed, 409 naming status', async () => {
    const created = await call('POST', '/api/crm/events', {
      ...booking('10', '10:00', '11:00'),
      status: 'quoted',
    });
    const id = created.json<{ id: string }>().id;
    const done = await call('PATCH', `/api/crm/events/${id}`, { status: 'done' });
    expect(done.statusCode).toBe(409);
    expect(done.json<{ errors: Array<{ path: string }> }>().errors[0]!.path).toBe('status');
    expect((await call('PATCH', `/api/crm/events/${id}`, { status: 'confirmed' })).statusCode).toBe(
      200,
    );
    expect((await call('PATCH', `/api/crm/events/${id}`, { status: 'done' })).statusCode).toBe(200);
  });

  it('when bodies are invalid, then 400 problem+json names the field', async () => {
    const cases: Array<[string, string, Record<string, unknown>, string]> = [
      ['POST', '/api/crm/events', { ...booking('11', '10:00', '11:00'), end: undefined }, 'end'],
      ['POST', '/api/crm/events', booking('11', '11:00', '10:00'), 'end'],
      [
        'POST',
        '/api/crm/events',
        { ...booking('11', '10:00', '11:00'), start: 'tomorrow' },
        'start',
      ],
      [
        'POST',
        '/api/crm/events',
        { ...booking('11', '10:00', '11:00'), performerIds: ['nobody'] },
        'performerIds',
      ],
      [
        'POST',
        '/api/crm/events',
        { ...booking('11', '10:00', '11:00'), status: 'maybe' },
        'status',
      ],
      [
        'POST',
        '/api/crm/performers',
        { accountId: A, name: 'X', workingDays: [8] },
        'workingDays.0',
      ],
      ['POST', '/api/crm/costumes', { accountId: A, name: 'X', count: 0 }, 'count'],
    ];
    for (const [method, url, payload, path] of cases) {
      const res = await call(method as 'POST', url, payload);
      expect(res.statusCode, `${url} ${res.body}`).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json<{ errors: Array<{ path: string }> }>().errors.map((e) => e.path)).toContain(
        path,
      );
    }
  });

  it('when performers are listed, edited and archived, then the archived one is kept but left out of the list', async () => {
    const p = await performer({ name: `Zoe ${RUN}` });
    const edited = await call('PATCH', `/api/crm/performers/${p}`, {
      daysOff: ['2026-12-24'],
      isArchived: true,
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ daysOff: ['2026-12-24'], isArchived: true });
    const list = await call('GET', `/api/crm/performers?accountId=${A}`);
    expect(list.json<{ items: Array<{ id: string }> }>().items.map((i) => i.id)).not.toContain(p);
    const all = await call('GET', `/api/crm/performers?accountId=${A}&includeArchived=true`);
    expect(all.json<{ items: Array<{ id: string }> }>().items.map((i) => i.id)).toContain(p);
    const calendar = await call(
      'GET',
      `/api/crm/calendar?accountId=${A}&from=2026-12-02T00:00&to=2026-12-03T00:00`,
    );
    expect(calendar.statusCode, calendar.body).toBe(200);
    const starts = calendar.json<{ items: Array<{ start: string; status: string }> }>().items;
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts.every((e, i) => i === 0 || starts[i - 1]!.start <= e.start)).toBe(true);
  });
});

describe('performer and costume ids that name object properties', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'when a performer or costume %s is edited, then the answer is 404, not a 500',
    async (id) => {
      for (const path of ['performers', 'costumes']) {
        const res = await call('PATCH', `/api/crm/${path}/${id}`, { isArchived: true });
        expect(res.statusCode, `${path}: ${res.body}`).toBe(404);
      }
    },
  );
});
