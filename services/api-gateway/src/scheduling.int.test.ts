import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waMessageIdFor, type ReminderView } from '@wacrm/contracts';
import { threadIdFor, type Firebase } from '@wacrm/firestore';
import {
  expectEventually,
  useTestFirestore,
  useTestRedis,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { admin, useGateway, validateTraffic, type TestGateway } from '../test/gateway.fixture.js';
import {
  authAppForTests,
  buildSendPath,
  createAccount,
  outboxDoc,
  pairEmulatedAccount,
  sentOnEmulator,
  startEmulator,
  startIngest,
  startOutboxSender,
  startWaGateway,
  newAuthStateKey,
  threadMessages,
  type Emulator,
  type Proc,
} from '../test/send-system.js';

// Issue 19 items 5 and 6 through the API, with the real send path: outbox-sender, ingest and
// wa-gateway (real Baileys) against the WhatsApp network emulator, whose contact counts what
// it received.
const ACCOUNT = 'wa-sched01';
const PHONE = '+40722000191';
const JID = '40722000191@s.whatsapp.net';
const THREAD = threadIdFor(ACCOUNT, JID);
let fs: TestFirestore;
let redis: TestRedis;
let authApp: Firebase;
let api: TestGateway;
let network: Emulator;
const procs: Proc[] = [];

beforeAll(async () => {
  buildSendPath();
  fs = useTestFirestore();
  redis = await useTestRedis();
  authApp = authAppForTests();
  api = await useGateway({}, { fs, redis, authApp });
  validateTraffic(api);
  network = await startEmulator();
  procs.push(network.proc);
  await createAccount(fs.db, ACCOUNT);
  const target = { redisUrl: redis.url, prefix: redis.prefix, firestoreEnv: fs.env };
  procs.push(
    await startWaGateway(target, {
      instanceId: 'gw-sched',
      emulator: network,
      authStateKey: newAuthStateKey(),
      leaseTtlMs: 10_000,
    }),
    await startIngest(target),
    await startOutboxSender(target),
  );
  await pairEmulatedAccount(network, fs.db, ACCOUNT);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(procs.map((p) => p.stop('SIGKILL')));
  await api?.dispose();
});

function call(
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return api.app.inject({
    method,
    url,
    headers: { ...admin, ...headers },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

function send(requestId: string, text: string, sendAt?: Date) {
  return call('POST', '/api/whatsapp/send', {
    accountId: ACCOUNT,
    to: PHONE,
    text,
    requestId,
    ...(sendAt !== undefined ? { sendAt: sendAt.toISOString() } : {}),
  });
}

async function received(requestId: string) {
  return (await sentOnEmulator(network, ACCOUNT)).filter(
    (m) => m.messageId === waMessageIdFor(requestId),
  );
}

describe('scheduled sends (issue 19 item 5)', () => {
  it('when a send is scheduled, then it waits listed in the chat, goes out once at its time, and cannot be cancelled after (409)', async () => {
    const sendAt = new Date(Date.now() + 4_000);
    const res = await send('sched-int-0001', 'Programat: ne vedem mâine!', sendAt);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'scheduled', sendAt: sendAt.toISOString() });
    // A retry answers the same acceptance.
    expect((await send('sched-int-0001', 'Programat: ne vedem mâine!', sendAt)).json()).toEqual(
      res.json(),
    );

    const listed = await call('GET', `/api/threads/${encodeURIComponent(THREAD)}/scheduled`);
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ items: unknown[] }>().items).toEqual([
      expect.objectContaining({
        requestId: 'sched-int-0001',
        status: 'scheduled',
        sendAt: sendAt.toISOString(),
        text: 'Programat: ne vedem mâine!',
      }),
    ]);
    // Not in the conversation (nor sent) before its time.
    expect((await threadMessages(fs.db, THREAD)).map((m) => m.requestId)).not.toContain(
      'sched-int-0001',
    );
    expect(await received('sched-int-0001')).toEqual([]);

    const got = await expectEventually(
      async () => {
        const list = await received('sched-int-0001');
        if (list.length === 0) throw new Error('not received yet');
        return list;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const lateMs = Date.parse(got[0]!.receivedAt) - sendAt.getTime();
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(5_000);
    await expectEventually(async () => {
      const status = (await outboxDoc(fs.db, 'sched-int-0001'))?.status;
      if (status !== 'delivered' && status !== 'read') throw new Error(`outbox ${status}`);
    });
    const cancel = await call('POST', '/api/whatsapp/scheduled/sched-int-0001/cancel');
    expect(cancel.statusCode).toBe(409);
    // A retry after its time answers the first acceptance (no 400 for a past sendAt), sends nothing.
    const retry = await send('sched-int-0001', 'Programat: ne vedem mâine!', sendAt);
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toEqual(res.json());
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(await received('sched-int-0001')).toHaveLength(1);
    const messages = await threadMessages(fs.db, THREAD);
    expect(messages.filter((m) => m.requestId === 'sched-int-0001')).toHaveLength(1);
    console.info(`scheduled send received ${lateMs} ms after its sendAt`);
  }, 60_000);

  it('when a scheduled send is cancelled while pending, then it is kept cancelled and never sent; cancelling again answers the same', async () => {
    const sendAt = new Date(Date.now() + 3_000);
    expect((await send('sched-int-0002', 'Anulat înainte de oră.', sendAt)).statusCode).toBe(202);
    const cancel = await call('POST', '/api/whatsapp/scheduled/sched-int-0002/cancel');
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json()).toEqual({ requestId: 'sched-int-0002', status: 'cancelled' });
    expect((await call('POST', '/api/whatsapp/scheduled/sched-int-0002/cancel')).statusCode).toBe(
      200,
    );
    // Past its time, and a relay pass or two later: still not sent, still stored.
    await new Promise((r) => setTimeout(r, sendAt.getTime() - Date.now() + 2_500));
    expect(await received('sched-int-0002')).toEqual([]);
    expect(await outboxDoc(fs.db, 'sched-int-0002')).toMatchObject({
      status: 'cancelled',
      cancelledReason: 'cancelled by admin-token',
    });
    const listed = await call('GET', `/api/threads/${encodeURIComponent(THREAD)}/scheduled`);
    expect(listed.json<{ items: Array<{ requestId: string; status: string }> }>().items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ requestId: 'sched-int-0002', status: 'cancelled' }),
      ]),
    );
  }, 30_000);

  it('when sendAt is past, over a year ahead, or the send unknown, then 400 / 404, and a send that was not scheduled cannot be cancelled (409)', async () => {
    const past = await send('sched-int-0003', 'x', new Date(Date.now() - 1_000));
    expect(past.statusCode).toBe(400);
    expect(past.json<{ detail: string }>().detail).toMatch(/sendAt must be in the future/);
    const far = await send('sched-int-0004', 'x', new Date(Date.now() + 400 * 86_400_000));
    expect(far.statusCode).toBe(400);
    expect((await call('POST', '/api/whatsapp/scheduled/no-such-send/cancel')).statusCode).toBe(
      404,
    );
    expect((await send('sched-int-0005', 'Acum.')).statusCode).toBe(202);
    expect((await call('POST', '/api/whatsapp/scheduled/sched-int-0005/cancel')).statusCode).toBe(
      409,
    );
  });
});

describe('templates (issue 19 items 5 and 6)', () => {
  it('when a template uses an unknown variable or a stray brace, then 400 naming it; a good one renders a booking in Romanian and is archived, never deleted', async () => {
    const bad = await call('POST', '/api/message-templates', {
      accountId: ACCOUNT,
      name: 'Greșit',
      body: 'Salut {{nume_copil}}, {{prenume}}!',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ detail: string }>().detail).toMatch(/unknown variable \{\{prenume\}\}/);
    const stray = await call('POST', '/api/message-templates', {
      accountId: ACCOUNT,
      name: 'Greșit',
      body: 'Salut {{nume_copil}',
    });
    expect(stray.statusCode).toBe(400);
    expect(
      (
        await call('POST', '/api/message-templates', {
          accountId: ACCOUNT,
          name: 'Cu fișier',
          body: 'Vezi atașat',
          mediaId: `md_${'0'.repeat(40)}`,
        })
      ).statusCode,
    ).toBe(404);

    const created = await call('POST', '/api/message-templates', {
      accountId: ACCOUNT,
      name: 'Confirmare',
      body: 'Bună! {{personaj}} vine la {{nume_copil}} pe {{data}} la {{ora}}, {{adresa}}. Rest: {{rest_de_plata}} lei.',
      shortcut: 'confirm',
    });
    expect(created.statusCode).toBe(201);
    const template = created.json<{ id: string }>();

    const event = await call('POST', '/api/crm/events', {
      accountId: ACCOUNT,
      phoneE164: PHONE,
      date: '2027-03-14',
      time: '16:00',
      durationHours: 2,
      childName: 'Maria {{adresa}}',
      characters: ['Elsa', 'Olaf'],
      address: 'Str. Lalelelor 3',
      amount: 500,
      advance: 100,
      paid: 0,
    });
    expect(event.statusCode).toBe(201);
    const eventId = event.json<{ id: string }>().id;
    const rendered = await call('POST', `/api/message-templates/${template.id}/render`, {
      eventId,
    });
    expect(rendered.statusCode).toBe(200);
    // A value is never read as a template: the child's name keeps its braces.
    expect(rendered.json()).toEqual({
      text: 'Bună! Elsa, Olaf vine la Maria {{adresa}} pe 14.03.2027 la 16:00, Str. Lalelelor 3. Rest: 500 lei.',
      media: null,
      missing: [],
      eventId,
    });
    // From the chat: the client's next booking.
    const fromChat = await call('POST', `/api/message-templates/${template.id}/render`, {
      threadId: THREAD,
    });
    expect(fromChat.json()).toMatchObject({ eventId });

    const quick = await call(
      'GET',
      `/api/message-templates?accountId=${ACCOUNT}&quickReplies=true`,
    );
    expect(quick.json<{ items: Array<{ id: string }> }>().items.map((t) => t.id)).toEqual([
      template.id,
    ]);
    const archived = await call('PATCH', `/api/message-templates/${template.id}`, {
      isArchived: true,
    });
    expect(archived.json()).toMatchObject({ isArchived: true, shortcut: 'confirm' });
    expect(
      (await call('GET', `/api/message-templates?accountId=${ACCOUNT}`)).json<{
        items: unknown[];
      }>().items,
    ).toEqual([]);
    expect(
      (await call('GET', `/api/message-templates?accountId=${ACCOUNT}&includeArchived=true`)).json<{
        items: unknown[];
      }>().items,
    ).toHaveLength(1);
    expect(
      (await call('PATCH', `/api/message-templates/${template.id}`, { body: 'Hei {{nume}}' }))
        .statusCode,
    ).toBe(400);
  });
});

describe('reminders (issue 19 item 5)', () => {
  it('when a booking is saved, then its reminders are drafts; approving schedules the send, the confirmation goes out; cancelling the booking cancels the rest', async () => {
    // The account's own text for the day before wins over the default.
    await call('POST', '/api/message-templates', {
      accountId: ACCOUNT,
      name: 'Cu o zi înainte',
      body: 'Mâine la {{ora}} vine {{personaj}} la {{nume_copil}}. Rest de plată: {{rest_de_plata}} lei.',
      reminderKind: 'day_before',
    });
    const event = await call('POST', '/api/crm/events', {
      accountId: ACCOUNT,
      phoneE164: PHONE,
      date: '2027-05-20',
      start: '2027-05-20T15:00',
      end: '2027-05-20T17:00',
      childName: 'Ioana',
      characters: ['Spiderman'],
      address: 'Bd. Unirii 1',
      amount: 600,
      advance: 150,
      paid: 0,
      depositDueDate: '2027-05-01',
      status: 'awaiting_deposit',
    });
    expect(event.statusCode).toBe(201);
    const eventId = event.json<{ id: string }>().id;
    const list = await call('GET', `/api/crm/events/${eventId}/reminders`);
    const drafts = list.json<{ items: ReminderView[] }>().items;
    expect(drafts.map((r) => [r.kind, r.status])).toEqual([
      ['confirmation', 'draft'],
      ['deposit_due', 'draft'],
      ['day_before', 'draft'],
      ['review_request', 'draft'],
    ]);
    const byKind = Object.fromEntries(drafts.map((r) => [r.kind, r]));
    expect(byKind.day_before).toMatchObject({
      text: 'Mâine la 15:00 vine Spiderman la Ioana. Rest de plată: 600 lei.',
      sendAt: '2027-05-19T07:00:00.000Z', // 10:00 in Bucharest (EEST)
    });
    expect(byKind.deposit_due?.text).toContain('avansul de 150 lei');
    expect(byKind.deposit_due?.sendAt).toBe('2027-05-01T07:00:00.000Z');
    expect(byKind.review_request?.sendAt).toBe('2027-05-21T08:00:00.000Z');
    expect(byKind.confirmation?.sendAt).toBeNull();

    // A payment changes the balance the drafts quote.
    const paid = await call(
      'POST',
      `/api/crm/events/${eventId}/payments`,
      {
        amount: 150,
        date: '2027-04-20',
        method: 'transfer',
      },
      { 'idempotency-key': 'sched-int-payment-1' },
    );
    expect(paid.statusCode).toBe(200);
    const afterPayment = (await call('GET', `/api/crm/events/${eventId}/reminders`)).json<{
      items: ReminderView[];
    }>().items;
    expect(afterPayment.find((r) => r.kind === 'day_before')?.text).toContain(
      'Rest de plată: 450 lei',
    );
    // The deposit is paid: its reminder is no longer needed.
    expect(afterPayment.find((r) => r.kind === 'deposit_due')).toMatchObject({
      status: 'cancelled',
      cancelledReason: 'no longer needed',
    });

    const dayBefore = await call('POST', `/api/crm/events/${eventId}/reminders/day_before/approve`);
    expect(dayBefore.statusCode).toBe(200);
    const approved = dayBefore.json<ReminderView>();
    expect(approved).toMatchObject({ status: 'scheduled', approvedBy: 'admin-token' });
    expect(await outboxDoc(fs.db, approved.requestId!)).toMatchObject({
      status: 'scheduled',
      sendAt: new Date('2027-05-19T07:00:00.000Z'),
      body: 'Mâine la 15:00 vine Spiderman la Ioana. Rest de plată: 450 lei.',
    });
    // One click twice is one send.
    expect(
      (await call('POST', `/api/crm/events/${eventId}/reminders/day_before/approve`)).json(),
    ).toMatchObject({ requestId: approved.requestId });

    const confirmation = await call(
      'POST',
      `/api/crm/events/${eventId}/reminders/confirmation/approve`,
    );
    const confirmId = confirmation.json<ReminderView>().requestId!;
    await expectEventually(
      async () => {
        if ((await received(confirmId)).length !== 1) throw new Error('confirmation not received');
      },
      { timeoutMs: 30_000 },
    );
    expect((await received(confirmId))[0]?.text).toContain('Ioana');

    const cancelled = await call('PATCH', `/api/crm/events/${eventId}`, { status: 'cancelled' });
    expect(cancelled.statusCode).toBe(200);
    const after = (await call('GET', `/api/crm/events/${eventId}/reminders`)).json<{
      items: ReminderView[];
    }>().items;
    expect(Object.fromEntries(after.map((r) => [r.kind, r.status]))).toEqual({
      confirmation: 'scheduled', // it went out: not cancelled, kept as approved
      deposit_due: 'cancelled',
      day_before: 'cancelled',
      review_request: 'cancelled',
    });
    expect(after.find((r) => r.kind === 'day_before')?.cancelledReason).toBe('booking cancelled');
    expect(await outboxDoc(fs.db, approved.requestId!)).toMatchObject({
      status: 'cancelled',
      cancelledReason: 'booking cancelled',
    });
    // A cancelled reminder is not approved again.
    expect(
      (await call('POST', `/api/crm/events/${eventId}/reminders/review_request/approve`))
        .statusCode,
    ).toBe(409);
  }, 60_000);
});
