import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RealtimeChannel,
  waCommandsQueue,
  type MarkReadCommand,
  type NoteView,
  type ThreadDoc,
  type ThreadView,
} from '@wacrm/contracts';
import { openQueue } from '@wacrm/queue';
import { threadIdFor } from '@wacrm/firestore';
import {
  admin,
  bearer,
  useGateway,
  userToken,
  type TestGateway,
  validateTraffic,
} from '../test/gateway.fixture.js';
import { accountDoc, messageDoc, seedAccount, threadDoc, writeAll } from '../test/seed.js';

/** Issue 20 items 2-6: notes, assignment, stage/labels, waiting clients, read receipts. */

const A = 'wa-inbox-a';
const T1 = threadIdFor(A, '40712345678@s.whatsapp.net');
const T2 = threadIdFor(A, '40799999999@s.whatsapp.net');
const T3 = threadIdFor(A, '40733333333@s.whatsapp.net');
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

let gw: TestGateway;
let ana: { uid: string; token: string };
let ion: { uid: string; token: string };

beforeAll(async () => {
  gw = await useGateway();
  validateTraffic(gw);
  const db = gw.fs.db;
  await seedAccount(db, A, accountDoc('Inbox', 'connected'));
  const threads: Array<[string, ThreadDoc]> = [
    // Last message inbound 30 minutes ago: waits (default limit 15 minutes).
    [T1, { ...threadDoc(A, 1, minutesAgo(30)), lastMessageDirection: 'inbound' }],
    // Inbound 5 minutes ago: not yet.
    [T2, { ...threadDoc(A, 2, minutesAgo(5)), lastMessageDirection: 'inbound' }],
    // Answered: the business spoke last.
    [T3, { ...threadDoc(A, 3, minutesAgo(60)), lastMessageDirection: 'outbound' }],
  ];
  const inbound = (id: string, at: Date) => ({
    ...messageDoc(A, T1, id, at),
    waKey: { id, remoteJid: '40712345678@s.whatsapp.net', fromMe: false, participant: null },
  });
  const outbound = {
    ...messageDoc(A, T1, 'OUT1', minutesAgo(40)),
    direction: 'outbound' as const,
    waKey: { id: 'OUT1', remoteJid: '40712345678@s.whatsapp.net', fromMe: true, participant: null },
  };
  await writeAll(db, [
    ...threads.map(([id, t]): [string, Record<string, unknown>] => [`threads/${id}`, t]),
    ...[inbound('IN1', minutesAgo(35)), inbound('IN2', minutesAgo(30)), outbound].map(
      (m): [string, Record<string, unknown>] => [`threads/${T1}/messages/${m.waKey.id}`, m],
    ),
  ]);
  ana = await userToken(gw, 'employee', [A]);
  ion = await userToken(gw, 'employee', [A]);
}, 120_000);

afterAll(async () => {
  await gw.dispose();
});

async function call(method: string, url: string, headers = admin, payload?: unknown) {
  const res = await gw.app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
  return { status: res.statusCode, type: res.headers['content-type'], body: res.json<never>() };
}
const t = (id: string) => `/api/threads/${encodeURIComponent(id)}`;
const list = async (query: string, headers = admin) =>
  (await call('GET', `/api/threads?accountId=${A}&${query}`, headers)).body as {
    items: ThreadView[];
  };
const ids = (page: { items: ThreadView[] }) => page.items.map((i) => i.id).sort();

async function commands(): Promise<Array<{ name: string; data: MarkReadCommand }>> {
  const q = openQueue(waCommandsQueue(A), {
    connection: gw.redis.connection,
    prefix: gw.redis.prefix,
  });
  const jobs = await q.queue.getJobs(['waiting', 'delayed', 'active', 'completed']);
  await q.queue.close();
  return jobs.map((j) => ({ name: j.name, data: j.data as MarkReadCommand }));
}

describe('internal notes', () => {
  it('when an operator leaves notes, then they are listed oldest first with author and time, and nothing goes to WhatsApp', async () => {
    const first = await call('POST', `${t(T1)}/notes`, bearer(ana.token), {
      body: ' Wants Saturday ',
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ threadId: T1, body: 'Wants Saturday', authorId: ana.uid });
    await call('POST', `${t(T1)}/notes`, bearer(ion.token), { body: 'Quoted 900 lei' });
    const notes = (await call('GET', `${t(T1)}/notes`)).body as { items: NoteView[] };
    expect(notes.items.map((n) => [n.body, n.authorId])).toEqual([
      ['Wants Saturday', ana.uid],
      ['Quoted 900 lei', ion.uid],
    ]);
    expect((await commands()).filter((c) => c.name === 'send-message')).toEqual([]);
    const messages = (await call('GET', `${t(T1)}/messages`)).body as { items: unknown[] };
    expect(messages.items).toHaveLength(3);
  });

  it('when a note is empty, too long or has unknown fields, then 400 problem+json', async () => {
    for (const body of [
      { body: '   ' },
      { body: 'x'.repeat(4001) },
      { body: 'a', sendToClient: true },
      {},
    ]) {
      const res = await call('POST', `${t(T1)}/notes`, admin, body);
      expect(res.status, JSON.stringify(body).slice(0, 40)).toBe(400);
      expect(res.type).toMatch(/application\/problem\+json/);
    }
  });
});

describe('assignment', () => {
  it('when Ana takes a thread, then Ion must ask first: 409 names Ana, and force takes it', async () => {
    const took = await call('PUT', `${t(T1)}/assignee`, bearer(ana.token), {
      assigneeUid: ana.uid,
    });
    expect(took.status).toBe(200);
    expect((took.body as ThreadView).assigneeUid).toBe(ana.uid);

    const refused = await call('PUT', `${t(T1)}/assignee`, bearer(ion.token), {
      assigneeUid: ion.uid,
    });
    expect(refused.status).toBe(409);
    expect(refused.type).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(refused.body)).toContain(ana.uid);
    expect((await call('GET', t(T1))).body).toMatchObject({ assigneeUid: ana.uid });

    expect(ids(await list('assigned=mine', bearer(ana.token)))).toEqual([T1]);
    expect(ids(await list('assigned=mine', bearer(ion.token)))).toEqual([]);
    expect(ids(await list('assigned=unassigned'))).toEqual([T2, T3].sort());

    const forced = await call('PUT', `${t(T1)}/assignee`, bearer(ion.token), {
      assigneeUid: ion.uid,
      force: true,
    });
    expect(forced.status).toBe(200);
    expect(ids(await list('assigned=mine', bearer(ion.token)))).toEqual([T1]);
    expect(ids(await list('assigned=all'))).toEqual([T1, T2, T3].sort());
  });

  it('when an assignment changes, then a thread.updated event reaches the live stream', async () => {
    const sub = gw.redis.connection.duplicate();
    const seen: string[] = [];
    sub.on('message', (_c: string, m: string) => seen.push(m));
    await sub.subscribe(RealtimeChannel);
    await call('PUT', `${t(T2)}/assignee`, bearer(ana.token), { assigneeUid: ana.uid });
    await expect
      .poll(() => seen.some((m) => m.includes('thread.updated') && m.includes(T2)))
      .toBe(true);
    await sub.quit();
  });
});

describe('stage and labels', () => {
  it('when a thread gets a stage and account labels, then the list filters by them; unknown labels are 400', async () => {
    const settings = await call('PATCH', `/api/accounts/${A}/inbox-settings`, admin, {
      labels: [
        { id: 'vip', name: 'VIP', color: '#e53935' },
        { id: 'corporate', name: 'Firmă', color: '#1e88e5' },
      ],
    });
    expect(settings.status).toBe(200);
    const tagged = await call('PATCH', `${t(T2)}/tags`, bearer(ana.token), {
      stage: 'quoted',
      labels: ['vip'],
    });
    expect(tagged.status).toBe(200);
    expect(tagged.body).toMatchObject({ stage: 'quoted', labels: ['vip'] });
    expect(ids(await list('stage=quoted'))).toEqual([T2]);
    expect(ids(await list('label=vip'))).toEqual([T2]);
    expect(ids(await list('label=corporate'))).toEqual([]);

    const unknown = await call('PATCH', `${t(T2)}/tags`, admin, { labels: ['nope'] });
    expect(unknown.status).toBe(400);
    const badStage = await call('PATCH', `${t(T2)}/tags`, admin, { stage: 'won' });
    expect(badStage.status).toBe(400);
    const badColour = await call('PATCH', `/api/accounts/${A}/inbox-settings`, admin, {
      labels: [{ id: 'x', name: 'X', color: 'red' }],
    });
    expect(badColour.status).toBe(400);
  });
});

describe('waiting clients', () => {
  it('when a last inbound message is older than the account limit, then the thread is counted and filtered as waiting', async () => {
    const count = await call('GET', `/api/accounts/${A}/waiting`);
    expect(count.body).toMatchObject({ waitingAfterMinutes: 15, count: 1 });
    expect(ids(await list('waiting=true'))).toEqual([T1]);
    const view = (await call('GET', t(T1))).body as ThreadView;
    expect(view.waitingSince).not.toBeNull();
    expect(((await call('GET', t(T3))).body as ThreadView).waitingSince).toBeNull();

    await call('PATCH', `/api/accounts/${A}/inbox-settings`, admin, { waitingAfterMinutes: 2 });
    expect((await call('GET', `/api/accounts/${A}/waiting`)).body).toMatchObject({ count: 2 });
    expect(ids(await list('waiting=true'))).toEqual([T1, T2].sort());
    await call('PATCH', `/api/accounts/${A}/inbox-settings`, admin, { waitingAfterMinutes: 15 });
  });
});

describe('read receipts to WhatsApp', () => {
  it('when the account says off or on_reply, then opening the chat queues no mark-read; on_open queues the inbound keys', async () => {
    const open = () => call('POST', `${t(T1)}/read`, bearer(ana.token), { upTo: 'IN2' });
    expect((await open()).status).toBe(202);
    await call('PATCH', `/api/accounts/${A}/inbox-settings`, admin, { readReceipts: 'on_reply' });
    expect((await open()).status).toBe(202);
    expect((await commands()).filter((c) => c.name === 'mark-read')).toEqual([]);

    await call('PATCH', `/api/accounts/${A}/inbox-settings`, admin, { readReceipts: 'on_open' });
    expect((await open()).status).toBe(202);
    const marks = (await commands()).filter((c) => c.name === 'mark-read');
    expect(marks).toHaveLength(1);
    expect(marks[0]!.data).toMatchObject({ accountId: A, threadId: T1, reason: 'open' });
    expect(marks[0]!.data.keys.map((k) => k.id).sort()).toEqual(['IN1', 'IN2']);
  });

  it('when the account says on_reply, then a reply queues a mark-read for the messages it answers', async () => {
    await call('PATCH', `/api/accounts/${A}/inbox-settings`, admin, { readReceipts: 'on_reply' });
    const before = (await commands()).filter((c) => c.name === 'mark-read').length;
    const sent = await call('POST', '/api/whatsapp/send', bearer(ana.token), {
      accountId: A,
      threadId: T1,
      text: 'Revin cu oferta',
    });
    expect(sent.status).toBe(202);
    const marks = (await commands()).filter((c) => c.name === 'mark-read');
    expect(marks).toHaveLength(before + 1);
    const reply = marks.filter((m) => m.data.reason === 'reply');
    expect(reply).toHaveLength(1);
    expect(reply[0]!.data.threadId).toBe(T1);
    expect(reply[0]!.data.keys.map((k) => k.id).sort()).toEqual(['IN1', 'IN2']);
  });

  it('when read receipts are set to an unknown mode, then 400', async () => {
    const res = await call('PATCH', `/api/accounts/${A}/inbox-settings`, admin, {
      readReceipts: 'always',
    });
    expect(res.status).toBe(400);
  });
});
