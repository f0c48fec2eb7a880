import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import { AiRequestsQueue, type ApiKeyScope, type EventDoc } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { startWorker } from '@wacrm/queue';
import {
  admin,
  bearer,
  useGateway,
  userToken,
  validateTraffic,
  type TestGateway,
} from '../test/gateway.fixture.js';
import {
  accountDoc,
  seedAccount,
  seedSchedulingFixtures,
  startSimulatorStandIn,
  threadDoc,
} from '../test/seed.js';
import { openSse } from '../test/sse-client.js';
import type { RouteEntry } from './entry-points/route-table.js';

/**
 * Issue 15: the authorization matrix, generated from the route table of the real app. Every
 * route × every kind of caller (no credential, admin token, admin key, employee of A, employee of
 * B, an API key of A per scope) × its own and the other account. A route added without a case
 * here fails the first test; a route whose handler forgets the account check fails the matrix.
 */
const RUN = randomUUID().replace(/-/g, '').slice(0, 6);
const ACCOUNT = { A: `wa-ma${RUN}`, B: `wa-mb${RUN}` } as const;
const PHONE = { A: '+40733000441', B: '+40733000442' } as const;
type Side = keyof typeof ACCOUNT;
const thread = (s: Side) => `${ACCOUNT[s]}__${PHONE[s].slice(1)}@s.whatsapp.net`;
const event = (s: Side) => `ev-m${s.toLowerCase()}-${RUN}`;
const performer = (s: Side) => `pf-m${s.toLowerCase()}-${RUN}`;
const costume = (s: Side) => `co-m${s.toLowerCase()}-${RUN}`;
const template = (s: Side) => `tpl-m${s.toLowerCase()}-${RUN}`;
const sentSend = (s: Side) => `sched-m${s.toLowerCase()}-${RUN}`;
const enc = encodeURIComponent;

interface Call {
  url: string;
  body?: Record<string, unknown>;
}

/**
 * How to call each non-admin route for account A or B. `null` marks a route with no account in
 * its request: it must list only the caller's accounts (checked by name in api.int.test.ts).
 */
const ACCOUNT_ROUTES: Record<string, ((s: Side) => Call) | null> = {
  'GET /api/whatsapp/accounts': null,
  'GET /api/status/dashboard': null,
  'GET /api/me': null,
  'GET /api/whatsapp/qr/:accountId': (s) => ({ url: `/api/whatsapp/qr/${ACCOUNT[s]}` }),
  'POST /api/whatsapp/regenerate-qr/:accountId': (s) => ({
    url: `/api/whatsapp/regenerate-qr/${ACCOUNT[s]}`,
  }),
  'POST /api/whatsapp/backfill/:accountId': (s) => ({
    url: `/api/whatsapp/backfill/${ACCOUNT[s]}`,
  }),
  'POST /api/whatsapp/pairing-code/:accountId': (s) => ({
    url: `/api/whatsapp/pairing-code/${ACCOUNT[s]}`,
    body: { phone: PHONE[s] },
  }),
  'POST /api/whatsapp/send': (s) => ({
    url: '/api/whatsapp/send',
    body: { accountId: ACCOUNT[s], to: PHONE[s], text: 'Bună' },
  }),
  'GET /api/threads': (s) => ({ url: `/api/threads?accountId=${ACCOUNT[s]}` }),
  'GET /api/threads/:threadId': (s) => ({ url: `/api/threads/${enc(thread(s))}` }),
  'GET /api/threads/:threadId/messages': (s) => ({
    url: `/api/threads/${enc(thread(s))}/messages`,
  }),
  'GET /api/threads/:threadId/messages/:messageId/media': (s) => ({
    url: `/api/threads/${enc(thread(s))}/messages/m1/media`,
  }),
  'POST /api/media': (s) => ({ url: `/api/media?accountId=${ACCOUNT[s]}`, body: {} }),
  'POST /api/threads/:threadId/read': (s) => ({
    url: `/api/threads/${enc(thread(s))}/read`,
    body: { upTo: 'm1' },
  }),
  'GET /api/search': (s) => ({ url: `/api/search?accountId=${ACCOUNT[s]}&q=hello` }),
  'GET /api/threads/:threadId/notes': (s) => ({ url: `/api/threads/${enc(thread(s))}/notes` }),
  'POST /api/threads/:threadId/notes': (s) => ({
    url: `/api/threads/${enc(thread(s))}/notes`,
    body: { body: 'Internal' },
  }),
  'PUT /api/threads/:threadId/assignee': (s) => ({
    url: `/api/threads/${enc(thread(s))}/assignee`,
    body: { assigneeUid: null },
  }),
  'PATCH /api/threads/:threadId/tags': (s) => ({
    url: `/api/threads/${enc(thread(s))}/tags`,
    body: { stage: 'lead' },
  }),
  'GET /api/accounts/:accountId/inbox-settings': (s) => ({
    url: `/api/accounts/${ACCOUNT[s]}/inbox-settings`,
  }),
  'PATCH /api/accounts/:accountId/inbox-settings': (s) => ({
    url: `/api/accounts/${ACCOUNT[s]}/inbox-settings`,
    body: { waitingAfterMinutes: 15 },
  }),
  'GET /api/accounts/:accountId/waiting': (s) => ({ url: `/api/accounts/${ACCOUNT[s]}/waiting` }),
  'GET /api/accounts/:accountId/media-progress': (s) => ({
    url: `/api/accounts/${ACCOUNT[s]}/media-progress`,
  }),
  'POST /api/whatsapp/extract-event': (s) => ({
    url: '/api/whatsapp/extract-event',
    body: { accountId: ACCOUNT[s], threadId: thread(s), dryRun: true },
  }),
  'POST /api/crm/ask': (s) => ({
    url: '/api/crm/ask',
    body: { phoneE164: PHONE[s], question: 'Cât a cheltuit?' },
  }),
  'POST /api/crm/events': (s) => ({
    url: '/api/crm/events',
    body: { accountId: ACCOUNT[s], phoneE164: PHONE[s], date: '2026-07-01' },
  }),
  'PATCH /api/crm/events/:eventId': (s) => ({
    url: `/api/crm/events/${event(s)}`,
    body: { notes: 'edited' },
  }),
  'POST /api/crm/events/:eventId/archive': (s) => ({ url: `/api/crm/events/${event(s)}/archive` }),
  'GET /api/crm/clients/:phoneE164': (s) => ({ url: `/api/crm/clients/${enc(PHONE[s])}` }),
  'GET /api/crm/clients/:phoneE164/events': (s) => ({
    url: `/api/crm/clients/${enc(PHONE[s])}/events`,
  }),
  'GET /api/stream': (s) => ({ url: `/api/stream?accountId=${ACCOUNT[s]}` }),
  'POST /api/crm/events/:eventId/payments': (s) => ({
    url: `/api/crm/events/${event(s)}/payments`,
    body: { amount: 10, date: '2026-06-01', method: 'cash' },
  }),
  'GET /api/crm/performers': (s) => ({ url: `/api/crm/performers?accountId=${ACCOUNT[s]}` }),
  'POST /api/crm/performers': (s) => ({
    url: '/api/crm/performers',
    body: { accountId: ACCOUNT[s], name: 'Ana' },
  }),
  'PATCH /api/crm/performers/:performerId': (s) => ({
    url: `/api/crm/performers/${performer(s)}`,
    body: { travelBufferMinutes: 45 },
  }),
  'GET /api/crm/costumes': (s) => ({ url: `/api/crm/costumes?accountId=${ACCOUNT[s]}` }),
  'POST /api/crm/costumes': (s) => ({
    url: '/api/crm/costumes',
    body: { accountId: ACCOUNT[s], name: 'Rochie' },
  }),
  'PATCH /api/crm/costumes/:costumeId': (s) => ({
    url: `/api/crm/costumes/${costume(s)}`,
    body: { count: 2 },
  }),
  'GET /api/crm/availability': (s) => ({
    url: `/api/crm/availability?accountId=${ACCOUNT[s]}&character=Elsa&start=2026-12-12T15:00`,
  }),
  'GET /api/crm/dues': (s) => ({ url: `/api/crm/dues?accountId=${ACCOUNT[s]}` }),
  'GET /api/threads/:threadId/scheduled': (s) => ({
    url: `/api/threads/${enc(thread(s))}/scheduled`,
  }),
  'POST /api/whatsapp/scheduled/:requestId/cancel': (s) => ({
    url: `/api/whatsapp/scheduled/${sentSend(s)}/cancel`,
  }),
  'GET /api/message-templates': (s) => ({ url: `/api/message-templates?accountId=${ACCOUNT[s]}` }),
  'POST /api/message-templates': (s) => ({
    url: '/api/message-templates',
    body: { accountId: ACCOUNT[s], name: 'Salut', body: 'Bună {{nume_copil}}' },
  }),
  'PATCH /api/message-templates/:templateId': (s) => ({
    url: `/api/message-templates/${template(s)}`,
    body: { name: 'Salutare' },
  }),
  'POST /api/message-templates/:templateId/render': (s) => ({
    url: `/api/message-templates/${template(s)}/render`,
    body: { threadId: thread(s) },
  }),
  'GET /api/crm/events/:eventId/reminders': (s) => ({
    url: `/api/crm/events/${event(s)}/reminders`,
  }),
  'POST /api/crm/events/:eventId/reminders': (s) => ({
    url: `/api/crm/events/${event(s)}/reminders`,
  }),
  'POST /api/crm/events/:eventId/reminders/:kind/approve': (s) => ({
    url: `/api/crm/events/${event(s)}/reminders/day_before/approve`,
  }),
  'POST /api/crm/events/:eventId/reminders/:kind/cancel': (s) => ({
    url: `/api/crm/events/${event(s)}/reminders/day_before/cancel`,
  }),
  'GET /api/crm/calendar': (s) => ({
    url: `/api/crm/calendar?accountId=${ACCOUNT[s]}&from=2026-12-01T00:00&to=2026-12-08T00:00`,
  }),
  'POST /api/crm/performers/:performerId/calendar-feed': (s) => ({
    url: `/api/crm/performers/${performer(s)}/calendar-feed`,
  }),
  'POST /api/crm/performers/:performerId/calendar-feed/revoke': (s) => ({
    url: `/api/crm/performers/${performer(s)}/calendar-feed/revoke`,
  }),
  'GET /api/crm/exports/:kind': (s) => ({
    url: `/api/crm/exports/bookings?accountId=${ACCOUNT[s]}&from=2026-12-01&to=2026-12-31`,
  }),
  'GET /api/crm/reports/monthly': (s) => ({
    url: `/api/crm/reports/monthly?accountId=${ACCOUNT[s]}&month=2026-12`,
  }),
  'GET /api/crm/clients': null,
};

/** Routes that need no credential at all; any other public route fails the test. */
const PUBLIC_ROUTES = new Set([
  'OPTIONS *',
  'GET /openapi.json',
  'GET /health',
  'GET /api/web-config',
  // Issue 19: a performer's calendar feed, opened by the secret token in its URL only.
  'GET /api/crm/performers/:performerId/calendar.ics',
  'GET /',
  'GET /*',
]);
const PUBLIC_PREFIXES = ['/docs'];

/** Path parameters of admin routes: any value will do, the role is checked before the handler. */
const ADMIN_PARAMS: Record<string, string> = {
  accountId: ACCOUNT.A,
  keyId: `ak_${RUN}0000`,
  uid: `matrix-${RUN}`,
  webhookId: `wh_${RUN}000000`,
  deliveryId: '0'.repeat(32),
  queueName: 'no-such-queue',
  jobId: 'no-such-job',
  queueStatus: 'failed',
  schedulerId: 'no-such-scheduler',
  '*': 'x',
};

let gw: TestGateway;
let base: string;
let simulator: Awaited<ReturnType<typeof startSimulatorStandIn>>;
let routes: RouteEntry[];
let aiWorker: Worker;
const callers: Record<string, Record<string, string>> = {};
const keyScopes: ApiKeyScope[] = ['read', 'send', 'crm', 'admin'];

const key = (r: RouteEntry) => `${r.method} ${r.url}`;
const isPublic = (r: RouteEntry) =>
  r.config.public === true ||
  PUBLIC_ROUTES.has(key(r)) ||
  PUBLIC_PREFIXES.some((p) => r.url === p || r.url.startsWith(`${p}/`));

async function status(method: string, call: Call, headers: Record<string, string>, stream = false) {
  if (stream) {
    const conn = await openSse(`${base}${call.url}`, headers);
    conn.close();
    return conn.status;
  }
  const res = await gw.app.inject({
    method: method as 'GET',
    url: call.url,
    headers,
    ...(call.body !== undefined ? { payload: call.body } : {}),
  });
  return res.statusCode;
}

function eventDoc(s: Side): EventDoc {
  const now = new Date();
  return {
    phoneE164: PHONE[s],
    createdBy: 'seed',
    schemaVersion: 3,
    isArchived: false,
    eventShortId: `EV-M${s}000`,
    date: '2026-06-01',
    time: null,
    durationHours: null,
    address: null,
    characters: [],
    rolesBySlot: {},
    payment: { amount: 100, advance: null, paid: 0, currency: 'RON' },
    childName: null,
    childAge: null,
    guests: null,
    notes: null,
    accountId: ACCOUNT[s],
    threadId: null,
    sourceExtractionId: null,
    createdAt: now,
    updatedAt: now,
    archivedAt: null,
  };
}

beforeAll(async () => {
  simulator = await startSimulatorStandIn();
  // The emulator's control API, so the /api/dev/simulator routes are in the table.
  gw = await useGateway({
    WA_EMULATOR_URL: simulator.url,
  });
  // Every answer of the matrix (each caller on each route) is checked against the document.
  validateTraffic(gw);
  // ai-extractor's place: the matrix is about who gets through, not about the answers.
  aiWorker = startWorker(
    AiRequestsQueue,
    {
      'extract-event': () =>
        Promise.resolve({
          action: 'none',
          draftEvent: null,
          confidence: 0,
          reasons: [],
          sourceMessageIds: [],
          extractionId: 'ex-matrix',
        }),
      'ask-client': () => Promise.resolve({ answer: 'ok', intent: 'x', sources: [] }),
    },
    { connection: gw.redis.connection, prefix: gw.redis.prefix, logger: gw.logs.logger },
  );
  await gw.app.listen({ port: 0, host: '127.0.0.1' });
  const address = gw.app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  routes = gw.app.routeTable.filter((r) => r.method !== 'HEAD');
  const db = gw.fs.db;
  for (const s of ['A', 'B'] as const) {
    await seedAccount(db, ACCOUNT[s], accountDoc(`WA-${s}`, 'connected'));
    await collections(db)
      .threads()
      .doc(thread(s))
      .set(threadDoc(ACCOUNT[s], 1, new Date('2026-02-01T10:00:00Z'), PHONE[s]));
    await collections(db).evenimente().doc(event(s)).set(eventDoc(s));
    await seedSchedulingFixtures(db, ACCOUNT[s], {
      templateId: template(s),
      requestId: sentSend(s),
      threadId: thread(s),
      to: `${PHONE[s].slice(1)}@s.whatsapp.net`,
    });
    const owned = {
      accountId: ACCOUNT[s],
      isArchived: false,
      createdBy: 'seed',
      createdAt: new Date(),
      updatedAt: new Date(),
    };
    await collections(db)
      .performers()
      .doc(performer(s))
      .set({
        ...owned,
        name: 'Ana',
        characters: ['Elsa'],
        workingDays: [1, 2, 3, 4, 5, 6, 7],
        daysOff: [],
        travelBufferMinutes: 30,
      });
    await collections(db)
      .costumes()
      .doc(costume(s))
      .set({ ...owned, name: 'Rochie', character: 'Elsa', count: 1, travelBufferMinutes: 0 });
  }
  const [empA, empB] = await Promise.all([
    userToken(gw, 'employee', [ACCOUNT.A]),
    userToken(gw, 'employee', [ACCOUNT.B]),
  ]);
  callers['employee of A'] = bearer(empA.token);
  callers['employee of B'] = bearer(empB.token);
  callers['admin token'] = admin;
  for (const scope of keyScopes) {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/api-keys',
      headers: admin,
      payload: { name: `matrix-${scope}`, scopes: [scope], allowedAccounts: [ACCOUNT.A] },
    });
    callers[`${scope} key of A`] = { 'x-api-key': res.json<{ key: string }>().key };
  }
}, 120_000);

afterAll(async () => {
  await aiWorker?.close();
  await gw?.dispose();
  await simulator?.close();
});

/** What a caller may do: its operations and the accounts it may use. */
function grants(caller: string): { ops: Set<string>; sides: Set<Side> } {
  if (caller === 'admin token' || caller === 'admin key of A') {
    return { ops: new Set(['read', 'send', 'crm', 'admin']), sides: new Set(['A', 'B']) };
  }
  if (caller.startsWith('employee of ')) {
    const side = caller.slice('employee of '.length) as Side;
    return { ops: new Set(['read', 'send', 'crm']), sides: new Set([side]) };
  }
  return { ops: new Set([caller.split(' ')[0]!]), sides: new Set(['A']) };
}

describe('authorization matrix (issue 15)', () => {
  it('when the route table is read, then every route is public by name, admin-only, or has an account case here', () => {
    const unclassified = routes
      .filter((r) => !isPublic(r))
      .filter((r) => (r.config.operation ?? 'admin') !== 'admin')
      .map(key)
      .filter((k) => !(k in ACCOUNT_ROUTES));
    expect(unclassified).toEqual([]);
    const publicByConfig = routes.filter((r) => r.config.public === true).map(key);
    expect(publicByConfig.filter((k) => !PUBLIC_ROUTES.has(k))).toEqual([]);
    expect(routes.length).toBeGreaterThan(40);
  });

  it('when each route is called by each caller for each account, then exactly the right ones get through, none with 5xx', async () => {
    const wrong: string[] = [];
    for (const route of routes) {
      if (isPublic(route)) continue;
      const op = route.config.operation ?? 'admin';
      const stream = route.url === '/api/stream';
      const make = ACCOUNT_ROUTES[key(route)];
      const sides: Array<[Side | null, Call]> =
        make === undefined || make === null
          ? [
              [
                null,
                {
                  url: route.url.replace(/:(\w+)|\*/g, (m, p: string) => ADMIN_PARAMS[p ?? m] ?? m),
                },
              ],
            ]
          : [
              ['A', make('A')],
              ['B', make('B')],
            ];
      for (const [side, call] of sides) {
        const none = await status(route.method, call, {}, stream);
        if (none !== 401) wrong.push(`${key(route)} ${side ?? ''} without credentials: ${none}`);
        for (const [caller, headers] of Object.entries(callers)) {
          const { ops, sides: allowed } = grants(caller);
          const mayOp = ops.has(op) && (op !== 'admin' || caller.startsWith('admin'));
          const may = mayOp && (side === null || allowed.has(side));
          const got = await status(route.method, call, headers, stream && may);
          const label = `${key(route)} ${side ?? ''} as ${caller}: ${got}`;
          if (got >= 500) wrong.push(`${label} (5xx)`);
          else if (may && (got === 401 || got === 403)) wrong.push(`${label}, expected through`);
          else if (!may && got !== 403) wrong.push(`${label}, expected 403`);
        }
      }
    }
    expect(wrong).toEqual([]);
  }, 300_000);
});
