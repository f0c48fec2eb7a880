import { randomUUID } from 'node:crypto';
import { Queue, type Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountsChannel,
  AiRequestsQueue,
  Collections,
  WaInboundQueue,
  WebhookCollections,
  waCommandsQueue,
  type ApiKeyScope,
} from '@wacrm/contracts';
import { collections, historyMediaProgressRef } from '@wacrm/firestore';
import { createRedisConnection, startWorker } from '@wacrm/queue';
import { expectEventually } from '@wacrm/testing';
import {
  admin,
  bearer,
  expiredToken,
  METRICS_TOKEN,
  WEBHOOK_SECRET_KEY,
  useGateway,
  validateTraffic,
  userToken,
  type TestGateway,
} from '../test/gateway.fixture.js';
import {
  accountDoc,
  messageDoc,
  seedAccount,
  seedSchedulingFixtures,
  startSimulatorStandIn,
  threadDoc,
  writeAll,
} from '../test/seed.js';
import { createSecretBox } from './webhooks/webhook-crypto.js';

const A = 'wa-aaaaaa';
const B = 'wa-bbbbbb';
const PHONE_A = '+40700000001';
const PHONE_B = '+40700000002';
const tA = `${A}__40700000001@s.whatsapp.net`;
const tB = `${B}__40700000002@s.whatsapp.net`;

let gw: TestGateway;
let simulator: Awaited<ReturnType<typeof startSimulatorStandIn>>;
let aiWorker: Worker;
let employee: { uid: string; token: string };
let noProfile: { uid: string; token: string };
let adminUser: { uid: string; token: string };
const keys: Partial<Record<ApiKeyScope, string>> = {};
// Ids the route table names before beforeAll runs; unique per run (the Auth emulator is shared).
const RUN = randomUUID().replace(/-/g, '').slice(0, 8);
const uids = { employee: `emp-${RUN}`, noProfile: `nop-${RUN}`, admin: `adm-${RUN}` };
const eventA = `ev-a-${RUN}`;
const eventB = `ev-b-${RUN}`;
const performer = { A: `pf-a-${RUN}`, B: `pf-b-${RUN}` };
const costume = { A: `co-a-${RUN}`, B: `co-b-${RUN}` };
const spareKeyId = `ak_${RUN}00`;
const template = { A: `tpl-a-${RUN}`, B: `tpl-b-${RUN}` };
const sentSend = { A: `sched-a-${RUN}`, B: `sched-b-${RUN}` };
const webhookId = `wh_${RUN}0000`;

async function inject(
  method: string,
  url: string,
  headers: Record<string, string>,
  payload?: unknown,
) {
  return gw.app.inject({
    method: method as 'GET',
    url,
    headers,
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

beforeAll(async () => {
  simulator = await startSimulatorStandIn();
  gw = await useGateway({ WA_EMULATOR_URL: simulator.url });
  // Every exchange of this file is checked against GET /openapi.json.
  validateTraffic(gw);
  const db = gw.fs.db;
  await seedAccount(
    db,
    A,
    accountDoc('WA-01', 'qr_ready', {
      qr: '2@abc,def,ghi',
      qrExpiresAt: new Date(Date.now() + 60_000),
    }),
  );
  await seedAccount(db, B, accountDoc('WA-02', 'connected'));
  await collections(db)
    .threads()
    .doc(tA)
    .set(threadDoc(A, 1, new Date('2025-02-01T10:00:00Z'), PHONE_A));
  await collections(db)
    .threads()
    .doc(tB)
    .set(threadDoc(B, 2, new Date('2025-02-01T10:00:00Z'), PHONE_B));
  await writeAll(db, [
    [`threads/${tA}/messages/m1`, messageDoc(A, tA, 'm1', new Date('2025-02-01T09:00:00Z'))],
  ]);
  const clientBase = {
    displayName: null,
    eventsCount: 0,
    lifetimeSpendPaid: 0,
    lifetimeSpendTotal: 0,
    firstEventAt: null,
    lastEventAt: null,
    lastContactAt: null,
    updatedAt: new Date(),
  };
  await collections(db)
    .clients()
    .doc(PHONE_A)
    .set({ ...clientBase, phoneE164: PHONE_A, accountIds: [A] });
  await collections(db)
    .clients()
    .doc(PHONE_B)
    .set({ ...clientBase, phoneE164: PHONE_B, accountIds: [B] });

  // A stand-in for ai-extractor: the real queue contract, answers computed from the payload.
  aiWorker = startWorker(
    AiRequestsQueue,
    {
      'extract-event': (p) =>
        Promise.resolve({
          action: 'create',
          draftEvent: null,
          confidence: 0.5,
          reasons: [`thread ${p.threadId}`],
          sourceMessageIds: [],
          extractionId: `ex-${p.requestId}`,
        }),
      'ask-client': (p) =>
        Promise.resolve({ answer: `asked about ${p.phoneE164}`, intent: 'spend', sources: [] }),
    },
    { connection: gw.redis.connection, prefix: gw.redis.prefix, logger: gw.logs.logger },
  );

  [employee, noProfile, adminUser] = await Promise.all([
    userToken(gw, 'employee', [A], uids.employee),
    userToken(gw, 'none', [], uids.noProfile),
    userToken(gw, 'admin', [], uids.admin),
  ]);
  for (const scope of ['read', 'send', 'crm', 'admin'] as const) {
    const res = await inject('POST', '/api/admin/api-keys', admin, {
      name: `key-${scope}`,
      scopes: [scope],
      allowedAccounts: [A],
    });
    expect(res.statusCode).toBe(201);
    keys[scope] = res.json<{ key: string }>().key;
  }
  const now = new Date();
  await collections(db)
    .apiKeys()
    .doc(spareKeyId)
    .set({
      name: 'spare',
      hash: 'a'.repeat(64),
      prefix: 'wacrm_spare',
      scopes: ['read'],
      allowedAccounts: [],
      revokedAt: null,
      lastUsedAt: null,
      createdBy: 'test',
      createdAt: now,
    });
  for (const [side, accountId] of [
    ['A', A],
    ['B', B],
  ] as const) {
    const owned = {
      accountId,
      isArchived: false,
      createdBy: 'test',
      createdAt: now,
      updatedAt: now,
    };
    await collections(db)
      .performers()
      .doc(performer[side])
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
      .doc(costume[side])
      .set({ ...owned, name: 'Rochie', character: 'Elsa', count: 1, travelBufferMinutes: 0 });
  }
  for (const [side, accountId, threadId, phone] of [
    ['A', A, tA, PHONE_A],
    ['B', B, tB, PHONE_B],
  ] as const) {
    await seedSchedulingFixtures(db, accountId, {
      templateId: template[side],
      requestId: sentSend[side],
      threadId,
      to: `${phone.slice(1)}@s.whatsapp.net`,
    });
  }
  for (const [id, accountId, phoneE164] of [
    [eventA, A, PHONE_A],
    [eventB, B, PHONE_B],
  ] as const) {
    await collections(db)
      .evenimente()
      .doc(id)
      .set({
        phoneE164,
        createdBy: 'test',
        schemaVersion: 3,
        isArchived: false,
        eventShortId: `EV-${id.slice(3, 4).toUpperCase()}0000`,
        date: '2025-06-01',
        time: null,
        durationHours: null,
        address: null,
        characters: [],
        rolesBySlot: {},
        payment: { amount: 500, advance: null, paid: 0, currency: 'RON' },
        childName: null,
        childAge: null,
        guests: null,
        notes: null,
        accountId,
        threadId: null,
        sourceExtractionId: null,
        createdAt: now,
        updatedAt: now,
        archivedAt: null,
      });
  }
  await db
    .collection(WebhookCollections.webhooks)
    .doc(webhookId)
    .set({
      url: 'http://127.0.0.1:9/hook',
      accountIds: [A],
      eventTypes: ['message.created'],
      description: null,
      secretCiphertext: createSecretBox(WEBHOOK_SECRET_KEY).seal('whsec_test'),
      active: true,
      createdBy: 'test',
      createdAt: now,
      updatedAt: now,
      disabledAt: null,
    });
}, 120_000);

afterAll(async () => {
  await aiWorker?.close();
  await gw?.dispose();
  await simulator?.close();
});

interface RouteCase {
  method: string;
  url: string;
  /** The same call aimed at account B, which the employee and the scoped keys may not use. */
  urlB?: string;
  body?: unknown;
  bodyB?: unknown;
  op: ApiKeyScope;
  /** SSE: an allowed call never ends, so only refusals are checked here (see stream.int.test.ts). */
  streaming?: boolean;
}

const routes = (): RouteCase[] => [
  { method: 'GET', url: '/api/whatsapp/accounts', op: 'read' },
  { method: 'POST', url: '/api/whatsapp/add-account', body: { name: 'WA-new' }, op: 'admin' },
  { method: 'GET', url: `/api/whatsapp/qr/${A}`, urlB: `/api/whatsapp/qr/${B}`, op: 'read' },
  {
    method: 'POST',
    url: `/api/whatsapp/regenerate-qr/${A}`,
    urlB: `/api/whatsapp/regenerate-qr/${B}`,
    op: 'send',
  },
  {
    method: 'POST',
    url: `/api/whatsapp/backfill/${A}`,
    urlB: `/api/whatsapp/backfill/${B}`,
    op: 'send',
  },
  {
    method: 'POST',
    url: `/api/whatsapp/pairing-code/${A}`,
    urlB: `/api/whatsapp/pairing-code/${B}`,
    body: { phone: PHONE_A },
    op: 'send',
  },
  {
    method: 'POST',
    url: `/api/whatsapp/logout/${A}`,
    urlB: `/api/whatsapp/logout/${B}`,
    op: 'admin',
  },
  {
    method: 'POST',
    url: '/api/whatsapp/send',
    body: { accountId: A, to: PHONE_A, text: 'Bună ziua!' },
    bodyB: { accountId: B, to: PHONE_B, text: 'Bună ziua!' },
    op: 'send',
  },
  { method: 'GET', url: '/api/status/dashboard', op: 'read' },
  { method: 'GET', url: '/api/me', op: 'read' },
  {
    method: 'GET',
    url: `/api/threads?accountId=${A}`,
    urlB: `/api/threads?accountId=${B}`,
    op: 'read',
  },
  {
    method: 'GET',
    url: `/api/threads/${encodeURIComponent(tA)}`,
    urlB: `/api/threads/${encodeURIComponent(tB)}`,
    op: 'read',
  },
  {
    method: 'GET',
    url: `/api/threads/${encodeURIComponent(tA)}/messages`,
    urlB: `/api/threads/${encodeURIComponent(tB)}/messages`,
    op: 'read',
  },
  {
    method: 'POST',
    url: `/api/threads/${encodeURIComponent(tA)}/read`,
    urlB: `/api/threads/${encodeURIComponent(tB)}/read`,
    body: { upTo: 'm1' },
    op: 'read',
  },
  {
    method: 'GET',
    url: `/api/threads/${encodeURIComponent(tA)}/notes`,
    urlB: `/api/threads/${encodeURIComponent(tB)}/notes`,
    op: 'read',
  },
  {
    method: 'POST',
    url: `/api/threads/${encodeURIComponent(tA)}/notes`,
    urlB: `/api/threads/${encodeURIComponent(tB)}/notes`,
    body: { body: 'Internal note' },
    op: 'send',
  },
  {
    method: 'PUT',
    url: `/api/threads/${encodeURIComponent(tA)}/assignee`,
    urlB: `/api/threads/${encodeURIComponent(tB)}/assignee`,
    body: { assigneeUid: null },
    op: 'send',
  },
  {
    method: 'PATCH',
    url: `/api/threads/${encodeURIComponent(tA)}/tags`,
    urlB: `/api/threads/${encodeURIComponent(tB)}/tags`,
    body: { stage: 'lead' },
    op: 'send',
  },
  {
    method: 'GET',
    url: `/api/accounts/${A}/inbox-settings`,
    urlB: `/api/accounts/${B}/inbox-settings`,
    op: 'read',
  },
  {
    method: 'GET',
    url: `/api/accounts/${A}/media-progress`,
    urlB: `/api/accounts/${B}/media-progress`,
    op: 'read',
  },
  {
    method: 'PATCH',
    url: `/api/accounts/${A}/inbox-settings`,
    body: { waitingAfterMinutes: 20 },
    op: 'admin',
  },
  {
    method: 'GET',
    url: `/api/accounts/${A}/waiting`,
    urlB: `/api/accounts/${B}/waiting`,
    op: 'read',
  },
  {
    method: 'POST',
    url: '/api/whatsapp/extract-event',
    body: { threadId: tA, accountId: A },
    bodyB: { threadId: tB, accountId: B },
    op: 'crm',
  },
  {
    method: 'POST',
    url: '/api/crm/ask',
    body: { phoneE164: PHONE_A, question: 'Cât a cheltuit clientul?' },
    bodyB: { phoneE164: PHONE_B, question: 'Cât a cheltuit clientul?' },
    op: 'crm',
  },
  {
    method: 'POST',
    url: '/api/crm/events',
    body: { accountId: A, phoneE164: PHONE_A, date: '2025-07-01' },
    bodyB: { accountId: B, phoneE164: PHONE_B, date: '2025-07-01' },
    op: 'crm',
  },
  {
    method: 'PATCH',
    url: `/api/crm/events/${eventA}`,
    urlB: `/api/crm/events/${eventB}`,
    body: { notes: 'patched' },
    op: 'crm',
  },
  {
    method: 'POST',
    url: `/api/crm/events/${eventA}/archive`,
    urlB: `/api/crm/events/${eventB}/archive`,
    op: 'crm',
  },
  {
    method: 'POST',
    url: `/api/crm/events/${eventA}/payments`,
    urlB: `/api/crm/events/${eventB}/payments`,
    body: { amount: 10, date: '2025-06-01', method: 'cash' },
    op: 'crm',
  },
  {
    method: 'GET',
    url: `/api/crm/performers?accountId=${A}`,
    urlB: `/api/crm/performers?accountId=${B}`,
    op: 'read',
  },
  {
    method: 'POST',
    url: '/api/crm/performers',
    body: { accountId: A, name: 'Ana' },
    bodyB: { accountId: B, name: 'Ana' },
    op: 'crm',
  },
  {
    method: 'PATCH',
    url: `/api/crm/performers/${performer.A}`,
    urlB: `/api/crm/performers/${performer.B}`,
    body: { travelBufferMinutes: 45 },
    op: 'crm',
  },
  {
    method: 'GET',
    url: `/api/crm/costumes?accountId=${A}`,
    urlB: `/api/crm/costumes?accountId=${B}`,
    op: 'read',
  },
  {
    method: 'POST',
    url: '/api/crm/costumes',
    body: { accountId: A, name: 'Rochie' },
    bodyB: { accountId: B, name: 'Rochie' },
    op: 'crm',
  },
  {
    method: 'PATCH',
    url: `/api/crm/costumes/${costume.A}`,
    urlB: `/api/crm/costumes/${costume.B}`,
    body: { count: 2 },
    op: 'crm',
  },
  {
    method: 'GET',
    url: `/api/crm/availability?accountId=${A}&character=Elsa&start=2026-12-12T15:00`,
    urlB: `/api/crm/availability?accountId=${B}&character=Elsa&start=2026-12-12T15:00`,
    op: 'read',
  },
  {
    method: 'GET',
    url: `/api/crm/dues?accountId=${A}`,
    urlB: `/api/crm/dues?accountId=${B}`,
    op: 'read',
  },
  {
    method: 'GET',
    url: `/api/threads/${encodeURIComponent(tA)}/scheduled`,
    urlB: `/api/threads/${encodeURIComponent(tB)}/scheduled`,
    op: 'read',
  },
  {
    method: 'POST',
    url: `/api/whatsapp/scheduled/${sentSend.A}/cancel`,
    urlB: `/api/whatsapp/scheduled/${sentSend.B}/cancel`,
    op: 'send',
  },
  {
    method: 'GET',
    url: `/api/message-templates?accountId=${A}`,
    urlB: `/api/message-templates?accountId=${B}`,
    op: 'read',
  },
  {
    method: 'POST',
    url: '/api/message-templates',
    body: { accountId: A, name: 'Salut', body: 'Bună {{nume_copil}}' },
    bodyB: { accountId: B, name: 'Salut', body: 'Bună {{nume_copil}}' },
    op: 'crm',
  },
  {
    method: 'PATCH',
    url: `/api/message-templates/${template.A}`,
    urlB: `/api/message-templates/${template.B}`,
    body: { name: 'Salutare' },
    op: 'crm',
  },
  {
    method: 'POST',
    url: `/api/message-templates/${template.A}/render`,
    urlB: `/api/message-templates/${template.B}/render`,
    body: {},
    op: 'read',
  },
  {
    method: 'GET',
    url: `/api/crm/events/${eventA}/reminders`,
    urlB: `/api/crm/events/${eventB}/reminders`,
    op: 'read',
  },
  {
    method: 'POST',
    url: `/api/crm/events/${eventA}/reminders`,
    urlB: `/api/crm/events/${eventB}/reminders`,
    op: 'crm',
  },
  {
    method: 'POST',
    url: `/api/crm/events/${eventA}/reminders/day_before/approve`,
    urlB: `/api/crm/events/${eventB}/reminders/day_before/approve`,
    op: 'send',
  },
  {
    method: 'POST',
    url: `/api/crm/events/${eventA}/reminders/day_before/cancel`,
    urlB: `/api/crm/events/${eventB}/reminders/day_before/cancel`,
    op: 'crm',
  },
  {
    method: 'GET',
    url: `/api/crm/calendar?accountId=${A}&from=2026-12-01T00:00&to=2026-12-08T00:00`,
    urlB: `/api/crm/calendar?accountId=${B}&from=2026-12-01T00:00&to=2026-12-08T00:00`,
    op: 'read',
  },
  {
    method: 'POST',
    url: `/api/crm/performers/${performer.A}/calendar-feed`,
    urlB: `/api/crm/performers/${performer.B}/calendar-feed`,
    op: 'crm',
  },
  {
    method: 'POST',
    url: `/api/crm/performers/${performer.A}/calendar-feed/revoke`,
    urlB: `/api/crm/performers/${performer.B}/calendar-feed/revoke`,
    op: 'crm',
  },
  {
    method: 'GET',
    url: `/api/crm/exports/payments?accountId=${A}&from=2026-12-01&to=2026-12-31`,
    urlB: `/api/crm/exports/payments?accountId=${B}&from=2026-12-01&to=2026-12-31`,
    op: 'read',
  },
  {
    method: 'GET',
    url: `/api/crm/reports/monthly?accountId=${A}&month=2026-12`,
    urlB: `/api/crm/reports/monthly?accountId=${B}&month=2026-12`,
    op: 'read',
  },
  { method: 'GET', url: '/api/crm/clients?q=ana', op: 'read' },
  {
    method: 'GET',
    url: `/api/crm/clients/${encodeURIComponent(PHONE_A)}`,
    urlB: `/api/crm/clients/${encodeURIComponent(PHONE_B)}`,
    op: 'read',
  },
  {
    method: 'GET',
    url: `/api/crm/clients/${encodeURIComponent(PHONE_A)}/events`,
    urlB: `/api/crm/clients/${encodeURIComponent(PHONE_B)}/events`,
    op: 'read',
  },
  {
    method: 'GET',
    url: `/api/stream?accountId=${A}`,
    urlB: `/api/stream?accountId=${B}`,
    op: 'read',
    streaming: true,
  },
  {
    method: 'POST',
    url: '/api/admin/api-keys',
    body: { name: 'n', scopes: ['read'] },
    op: 'admin',
  },
  { method: 'GET', url: '/api/admin/api-keys', op: 'admin' },
  { method: 'POST', url: `/api/admin/api-keys/${spareKeyId}/revoke`, op: 'admin' },
  {
    method: 'PUT',
    url: `/api/admin/users/other-${RUN}`,
    body: { role: 'employee', allowedAccounts: [] },
    op: 'admin',
  },
  { method: 'GET', url: `/api/admin/users/${uids.employee}`, op: 'admin' },
  {
    method: 'POST',
    url: '/api/webhooks',
    body: { url: 'http://127.0.0.1:9/x', accountIds: [A], eventTypes: ['thread.updated'] },
    op: 'admin',
  },
  { method: 'GET', url: '/api/webhooks', op: 'admin' },
  { method: 'POST', url: `/api/webhooks/${webhookId}/disable`, op: 'admin' },
  { method: 'GET', url: `/api/webhooks/${webhookId}/deliveries`, op: 'admin' },
  { method: 'POST', url: `/api/webhooks/deliveries/${'0'.repeat(32)}/replay`, op: 'admin' },
  {
    method: 'GET',
    url: `/api/threads/${encodeURIComponent(tA)}/messages/m1/media`,
    urlB: `/api/threads/${encodeURIComponent(tB)}/messages/m1/media`,
    op: 'read',
  },
  {
    method: 'POST',
    url: `/api/media?accountId=${A}`,
    urlB: `/api/media?accountId=${B}`,
    body: {},
    op: 'send',
  },
  {
    method: 'GET',
    url: `/api/search?accountId=${A}&q=ana`,
    urlB: `/api/search?accountId=${B}&q=ana`,
    op: 'read',
  },
  { method: 'POST', url: '/api/search/reindex', body: { accountId: A }, op: 'admin' },
  { method: 'GET', url: '/api/admin/failed-jobs', op: 'admin' },
  { method: 'GET', url: '/api/admin/failed-jobs/export?queue=outbox', op: 'admin' },
  { method: 'POST', url: '/api/admin/failed-jobs/redrive', body: { queue: 'outbox' }, op: 'admin' },
  { method: 'GET', url: '/metrics', op: 'admin' },
  { method: 'GET', url: '/admin/queues', op: 'admin' },
  { method: 'POST', url: `/api/dev/simulator/accounts/${A}/scan`, op: 'admin' },
  {
    method: 'POST',
    url: `/api/dev/simulator/accounts/${A}/inbound`,
    body: { from: PHONE_A, text: 'hi' },
    op: 'admin',
  },
  {
    method: 'POST',
    url: `/api/dev/simulator/accounts/${A}/history`,
    body: { threads: 1, messagesPerThread: 1 },
    op: 'admin',
  },
  {
    method: 'POST',
    url: `/api/dev/simulator/accounts/${A}/disconnect`,
    body: { reason: 428 },
    op: 'admin',
  },
];

function label(r: RouteCase) {
  return `${r.method} ${r.url.split('?')[0]}`;
}

describe('auth on every route', () => {
  it('when the route table is compared with the OpenAPI document, then it covers every documented operation', async () => {
    const doc = (await inject('GET', '/openapi.json', {})).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const normalise = (url: string) =>
      url
        .split('?')[0]!
        .replace(/\/wa-[ab]{6}(\/|$)/, '/{accountId}$1')
        .replace(/\/api\/threads\/[^/]+/, '/api/threads/{threadId}')
        .replace(/\/messages\/m1\/media$/, '/messages/{messageId}/media')
        .replace(/\/api\/crm\/events\/[^/]+/, '/api/crm/events/{eventId}')
        .replace(/\/reminders\/[a-z_]+\//, '/reminders/{kind}/')
        .replace(/\/api\/message-templates\/[^/]+/, '/api/message-templates/{templateId}')
        .replace(/\/api\/whatsapp\/scheduled\/[^/]+/, '/api/whatsapp/scheduled/{requestId}')
        .replace(/\/api\/crm\/clients\/[^/]+/, '/api/crm/clients/{phoneE164}')
        .replace(/\/api\/crm\/performers\/[^/]+/, '/api/crm/performers/{performerId}')
        .replace(/\/api\/crm\/costumes\/[^/]+/, '/api/crm/costumes/{costumeId}')
        .replace(/\/api\/crm\/exports\/[^/]+/, '/api/crm/exports/{kind}')
        .replace(/\/api\/admin\/api-keys\/[^/]+/, '/api/admin/api-keys/{keyId}')
        .replace(/\/api\/admin\/users\/[^/]+/, '/api/admin/users/{uid}')
        .replace(/\/api\/webhooks\/deliveries\/[^/]+/, '/api/webhooks/deliveries/{deliveryId}')
        .replace(/\/api\/webhooks\/wh_[^/]+/, '/api/webhooks/{webhookId}');
    const covered = new Set([
      ...routes().map((r) => `${r.method} ${normalise(r.url)}`),
      'GET /health',
      'GET /api/web-config',
      'GET /api/crm/performers/{performerId}/calendar.ics',
    ]);
    expect(documented.filter((d) => !covered.has(d))).toEqual([]);
  });

  for (const route of routes()) {
    it(`${label(route)}: when no credentials are sent, then 401 problem+json`, async () => {
      const res = await inject(route.method, route.url, {}, route.body);
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.headers['www-authenticate']).toMatch(/Bearer/);
    });

    it(`${label(route)}: when the token is garbage, expired or an unknown key, then 401`, async () => {
      for (const headers of [
        bearer('not-a-jwt'),
        bearer(expiredToken(employee.uid)),
        { 'x-api-key': 'wacrm_ak_0000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      ]) {
        const res = await inject(route.method, route.url, headers, route.body);
        expect(res.statusCode, JSON.stringify(headers)).toBe(401);
      }
    });

    if (route.op === 'admin') {
      it(`${label(route)}: when an employee or a user without a profile calls it, then 403 (wrong role)`, async () => {
        for (const who of [employee, noProfile]) {
          expect(
            (await inject(route.method, route.url, bearer(who.token), route.body)).statusCode,
          ).toBe(403);
        }
      });
    }

    it(`${label(route)}: when an API key lacks the "${route.op}" scope, then 403; with it, not 401/403`, async () => {
      for (const scope of ['read', 'send', 'crm', 'admin'] as const) {
        if (route.streaming === true && (scope === route.op || scope === 'admin')) continue;
        const res = await inject(
          route.method,
          route.url,
          { 'x-api-key': keys[scope]! },
          route.body,
        );
        if (scope === route.op || scope === 'admin') {
          if (route.streaming === true) continue;
          expect([401, 403], `${scope}: ${res.body}`).not.toContain(res.statusCode);
        } else {
          expect(res.statusCode, scope).toBe(403);
        }
      }
    });

    if (route.urlB !== undefined || route.bodyB !== undefined) {
      it(`${label(route)}: when the caller may not use account B, then 403 (wrong account)`, async () => {
        const url = route.urlB ?? route.url;
        const body = route.bodyB ?? route.body;
        const callers = [
          bearer(employee.token),
          { 'x-api-key': keys[route.op === 'admin' ? 'read' : route.op]! },
        ];
        for (const headers of callers) {
          expect((await inject(route.method, url, headers, body)).statusCode).toBe(403);
        }
      });
    }
  }

  it('when the bootstrap ADMIN_TOKEN or an admin user calls an admin route, then it is allowed', async () => {
    for (const headers of [admin, bearer(adminUser.token)]) {
      expect((await inject('GET', '/api/admin/api-keys', headers)).statusCode).toBe(200);
    }
    const me = (await inject('GET', '/api/me', bearer(employee.token))).json<unknown>();
    expect(me).toEqual({
      kind: 'user',
      id: employee.uid,
      role: 'employee',
      scopes: ['read', 'send', 'crm'],
      allowedAccounts: [A],
    });
  });

  it('when an employee lists accounts or the dashboard, then only allowed accounts appear', async () => {
    const list = (await inject('GET', '/api/whatsapp/accounts', bearer(employee.token))).json<{
      accounts: Array<{ id: string }>;
    }>();
    expect(list.accounts.map((a) => a.id)).toEqual([A]);
    const dash = (await inject('GET', '/api/status/dashboard', { 'x-api-key': keys.read! })).json<{
      accounts: { total: number; items: Array<{ id: string }> };
    }>();
    expect(dash.accounts.items.map((a) => a.id)).toEqual([A]);
    const all = (await inject('GET', '/api/whatsapp/accounts', admin)).json<{
      accounts: Array<{ id: string }>;
    }>();
    expect(all.accounts.map((a) => a.id)).toEqual(expect.arrayContaining([A, B]));
  });

  it('when an employee reads client events, then events of accounts it may not see are left out', async () => {
    const res = await inject(
      'GET',
      `/api/crm/clients/${encodeURIComponent(PHONE_A)}/events`,
      bearer(employee.token),
    );
    expect(res.statusCode).toBe(200);
    const items = res.json<{ items: Array<{ accountId: string | null }> }>().items;
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((e) => e.accountId === A || e.accountId === null)).toBe(true);
  });
});

describe('API keys and users', () => {
  it('when a key is created, then only its hash is stored; when revoked, then it stops working at once', async () => {
    const created = await inject('POST', '/api/admin/api-keys', admin, {
      name: 'tmp',
      scopes: ['read'],
      allowedAccounts: [A],
    });
    const { id, key } = created.json<{ id: string; key: string }>();
    const stored = (await collections(gw.fs.db).apiKeys().doc(id).get()).data()!;
    expect(JSON.stringify(stored)).not.toContain(key);
    expect(stored.hash).toMatch(/^[a-f0-9]{64}$/);

    expect((await inject('GET', '/api/me', { 'x-api-key': key })).statusCode).toBe(200);
    expect((await inject('GET', '/api/me', bearer(key))).statusCode).toBe(200);
    await expectEventually(async () => {
      const doc = (await collections(gw.fs.db).apiKeys().doc(id).get()).data()!;
      expect(doc.lastUsedAt).not.toBeNull();
    });
    const firstUse = (await collections(gw.fs.db).apiKeys().doc(id).get()).data()!.lastUsedAt;
    await inject('GET', '/api/me', { 'x-api-key': key });
    // At most one write a minute: the second call leaves lastUsedAt as it was.
    expect((await collections(gw.fs.db).apiKeys().doc(id).get()).data()!.lastUsedAt).toEqual(
      firstUse,
    );

    const revoked = await inject('POST', `/api/admin/api-keys/${id}/revoke`, admin);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json<{ revokedAt: string | null }>().revokedAt).not.toBeNull();
    const after = await inject('GET', '/api/me', { 'x-api-key': key });
    expect(after.statusCode).toBe(401);
    expect(after.json<{ detail: string }>().detail).toMatch(/revoked/);
  });

  it('when an admin sets a user role and accounts, then the user sees the new accounts at once', async () => {
    const u = await userToken(gw, 'employee', []);
    expect((await inject('GET', `/api/whatsapp/qr/${B}`, bearer(u.token))).statusCode).toBe(403);
    const set = await inject('PUT', `/api/admin/users/${u.uid}`, admin, {
      role: 'employee',
      allowedAccounts: [B],
    });
    expect(set.statusCode).toBe(200);
    expect((await inject('GET', `/api/whatsapp/qr/${B}`, bearer(u.token))).statusCode).toBe(200);
    const promote = await inject('PUT', `/api/admin/users/${u.uid}`, admin, { role: 'admin' });
    expect(promote.statusCode).toBe(200);
    expect((await inject('GET', '/api/admin/api-keys', bearer(u.token))).statusCode).toBe(200);
  });
});

describe('WhatsApp accounts and commands', () => {
  it('when an account is added, then it is stored connecting, announced and a connect command is queued', async () => {
    const sub = createRedisConnection({ url: gw.redis.url, name: 'announce-test' });
    const announced: string[] = [];
    sub.on('message', (_c: string, m: string) => announced.push(m));
    await sub.subscribe(AccountsChannel);
    const res = await inject('POST', '/api/whatsapp/add-account', admin, {
      name: 'WA-03',
      phone: '+40712345678',
    });
    expect(res.statusCode).toBe(201);
    const { accountId } = res.json<{ accountId: string }>();
    expect(accountId).toMatch(/^wa-[a-z0-9]{6}$/);
    const doc = (await collections(gw.fs.db).accounts().doc(accountId).get()).data()!;
    expect(doc).toMatchObject({ name: 'WA-03', phone: '+40712345678', status: 'connecting' });
    await expectEventually(() =>
      expect(announced).toContain(JSON.stringify({ type: 'account.added', accountId })),
    );
    await sub.quit();
    const queue = new Queue(waCommandsQueue(accountId).name, {
      connection: gw.redis.connection,
      prefix: gw.redis.prefix,
    });
    const jobs = await queue.getJobs(['waiting']);
    await queue.close();
    expect(jobs.map((j) => [j.name, (j.data as { accountId: string }).accountId])).toEqual([
      ['connect', accountId],
    ]);
  });

  it('when commands are posted, then each job lands in that account’s queue with its payload', async () => {
    const queue = new Queue(waCommandsQueue(A).name, {
      connection: gw.redis.connection,
      prefix: gw.redis.prefix,
    });
    await queue.drain(true);
    const calls: Array<[string, unknown, string]> = [
      [`/api/whatsapp/regenerate-qr/${A}`, undefined, 'regenerate-qr'],
      [`/api/whatsapp/backfill/${A}`, { threads: 5, messagesPerThread: 20 }, 'backfill'],
      [`/api/whatsapp/pairing-code/${A}`, { phone: '+40712345678' }, 'request-pairing-code'],
      [`/api/whatsapp/logout/${A}`, undefined, 'logout'],
    ];
    for (const [url, body, name] of calls) {
      const res = await inject('POST', url, admin, body);
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toMatchObject({ accountId: A, command: name, status: 'queued' });
    }
    const jobs = (await queue.getJobs(['waiting'])).sort((a, b) => a.timestamp - b.timestamp);
    expect(jobs.map((j) => j.name).sort()).toEqual([
      'backfill',
      'logout',
      'regenerate-qr',
      'request-pairing-code',
    ]);
    expect(jobs.find((j) => j.name === 'backfill')?.data).toMatchObject({
      accountId: A,
      threads: 5,
      messagesPerThread: 20,
      requestedBy: 'admin-token',
    });
    expect(jobs.find((j) => j.name === 'request-pairing-code')?.data).toMatchObject({
      phone: '+40712345678',
    });
    const seedsDefault = await inject('POST', `/api/whatsapp/backfill/${A}`, admin);
    expect(seedsDefault.statusCode).toBe(202);
    await queue.close();
  });

  it('when history media are counted, then the account and its media-progress show total, stored, pending, failed and expired', async () => {
    await collections(gw.fs.db).accounts().doc(B).set({ historyMediaTotal: 340 }, { merge: true });
    await historyMediaProgressRef(gw.fs.db, B).set({
      stored: 120,
      failed: 3,
      expired: 1,
      updatedAt: new Date(),
    });
    const res = await inject('GET', `/api/accounts/${B}/media-progress`, admin);
    expect(res.statusCode).toBe(200);
    const expected = { total: 340, stored: 120, pending: 216, failed: 3, expired: 1 };
    expect(res.json()).toEqual({ accountId: B, ...expected });
    const list = (await inject('GET', '/api/whatsapp/accounts', admin)).json<{
      accounts: Array<{ id: string; historyMedia: unknown }>;
    }>();
    expect(list.accounts.find((a) => a.id === B)?.historyMedia).toEqual(expected);
    // An account with no history media yet: all zero.
    expect(list.accounts.find((a) => a.id === A)?.historyMedia).toMatchObject({ total: 0 });
    expect((await inject('GET', '/api/accounts/wa-zzzzzz/media-progress', admin)).statusCode).toBe(
      404,
    );
    // Scrapes reuse the accounts read for a second: eventually the new figures.
    await expectEventually(async () => {
      const metrics = (await inject('GET', '/metrics', bearer(METRICS_TOKEN))).body;
      for (const [state, n] of Object.entries(expected)) {
        expect(metrics).toContain(
          `wacrm_history_media{account_id="${B}",state="${state}",service="api-gateway"} ${n}`,
        );
      }
    });
  });

  it('when a command names a missing account, then 404; a bad phone, then 400 naming phone', async () => {
    expect((await inject('POST', '/api/whatsapp/regenerate-qr/wa-nothere', admin)).statusCode).toBe(
      404,
    );
    const bad = await inject('POST', `/api/whatsapp/pairing-code/${A}`, admin, { phone: '0712' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ errors: Array<{ path: string }> }>().errors.map((e) => e.path)).toEqual([
      'phone',
    ]);
  });

  it('when the QR is read, then it comes raw and as a PNG data URL', async () => {
    const res = await inject('GET', `/api/whatsapp/qr/${A}`, admin);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ qr: string; qrDataUrl: string; status: string }>();
    expect(body.qr).toBe('2@abc,def,ghi');
    expect(body.qrDataUrl).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/=]{100,}$/);
    const png = Buffer.from(body.qrDataUrl.split(',')[1]!, 'base64');
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    const connected = (await inject('GET', `/api/whatsapp/qr/${B}`, admin)).json<{
      qr: null;
      qrDataUrl: null;
    }>();
    expect(connected).toMatchObject({ qr: null, qrDataUrl: null });
  });

  it('when the dashboard is read, then accounts are counted by status with queue depths', async () => {
    const res = await inject('GET', '/api/status/dashboard', admin);
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      accounts: { byStatus: Record<string, number> };
      queues: Record<string, unknown>;
    }>();
    expect(body.accounts.byStatus.qr_ready).toBe(1);
    expect(body.accounts.byStatus.connected).toBe(1);
    expect(Object.keys(body.queues)).toEqual(
      expect.arrayContaining(['wa-inbound', 'outbox', 'ai-requests', 'crm-events', 'webhooks']),
    );
  });
});

describe('threads and messages', () => {
  it('when threads share timestamps, then keyset pages walk them newest first with none lost or repeated', async () => {
    const acc = 'wa-pages1';
    await seedAccount(gw.fs.db, acc, accountDoc('Pages', 'connected'));
    const base = Date.parse('2025-03-01T00:00:00Z');
    const writes: Array<[string, Record<string, unknown>]> = [];
    for (let i = 0; i < 45; i++) {
      // Groups of 4 equal timestamps, as a history import writes them.
      writes.push([
        `threads/${acc}__t${String(i).padStart(2, '0')}`,
        threadDoc(acc, i, new Date(base + Math.floor(i / 4) * 60_000)),
      ]);
    }
    await writeAll(gw.fs.db, writes);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await inject(
        'GET',
        `/api/threads?accountId=${acc}&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
        admin,
      );
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<{
        items: Array<{ id: string; lastMessageAt: string }>;
        nextCursor: string | null;
      }>();
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    const expected = writes
      .map(([path, doc]) => ({
        id: path.split('/')[1]!,
        ts: (doc.lastMessageAt as Date).getTime(),
      }))
      .sort((a, b) => b.ts - a.ts || (a.id < b.id ? 1 : -1))
      .map((t) => t.id);
    expect(seen).toEqual(expected);

    const ranged = await inject(
      'GET',
      `/api/threads?accountId=${acc}&since=${new Date(base + 10 * 60_000).toISOString()}`,
      admin,
    );
    expect(ranged.json<{ items: unknown[] }>().items).toHaveLength(5);
    const bad = await inject('GET', `/api/threads?accountId=${acc}&cursor=bm90LWEtY3Vyc29y`, admin);
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ errors: Array<{ path: string }> }>().errors[0]?.path).toBe('cursor');
  });

  it('when messages are paged in either order, then every message appears once in tsClient order', async () => {
    const thread = `${A}__pages@s.whatsapp.net`;
    await collections(gw.fs.db)
      .threads()
      .doc(thread)
      .set(threadDoc(A, 99, new Date()));
    const base = Date.parse('2025-03-01T00:00:00Z');
    const writes: Array<[string, Record<string, unknown>]> = [];
    for (let i = 0; i < 30; i++) {
      const id = `MSG${String(i).padStart(2, '0')}`;
      writes.push([
        `threads/${thread}/messages/${id}`,
        messageDoc(A, thread, id, new Date(base + Math.floor(i / 3) * 1000)),
      ]);
    }
    await writeAll(gw.fs.db, writes);
    for (const order of ['asc', 'desc'] as const) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await inject(
          'GET',
          `/api/threads/${encodeURIComponent(thread)}/messages?order=${order}&limit=4${cursor ? `&cursor=${cursor}` : ''}`,
          bearer(employee.token),
        );
        expect(res.statusCode, res.body).toBe(200);
        const page = res.json<{ items: Array<{ id: string }>; nextCursor: string | null }>();
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor;
      } while (cursor !== null);
      const asc = writes.map(([p]) => p.split('/').at(-1)!);
      expect(seen).toEqual(order === 'asc' ? asc : [...asc].reverse());
    }
  });

  it('when a thread is marked read, then 202 and a mark-read job for ingest carries the mark and the reader', async () => {
    const url = `/api/threads/${encodeURIComponent(tA)}/read`;
    const byId = await inject('POST', url, bearer(employee.token), { upTo: 'm1' });
    expect(byId.statusCode, byId.body).toBe(202);
    expect(byId.json()).toEqual({ threadId: tA, upTo: 'm1' });
    const at = '2025-02-01T10:00:00.000Z';
    expect((await inject('POST', url, { 'x-api-key': keys.read! }, { upTo: at })).statusCode).toBe(
      202,
    );
    const queue = new Queue(WaInboundQueue.name, {
      connection: gw.redis.connection,
      prefix: gw.redis.prefix,
    });
    const jobs = (await queue.getJobs(['waiting', 'prioritized', 'delayed']))
      .filter((j) => j.name === 'mark-read' && (j.data as { threadId: string }).threadId === tA)
      .map((j) => j.data as unknown);
    await queue.close();
    expect(jobs).toEqual(
      expect.arrayContaining([
        { accountId: A, threadId: tA, upTo: 'm1', by: employee.uid },
        { accountId: A, threadId: tA, upTo: at, by: expect.stringMatching(/^ak_/) as unknown },
      ]),
    );
  });

  it('when a media download names a message id Firestore cannot take, then 400, never 5xx', async () => {
    for (const messageId of ['a/b', '__reserved__', 'constructor']) {
      const res = await inject(
        'GET',
        `/api/threads/${encodeURIComponent(tA)}/messages/${encodeURIComponent(messageId)}/media`,
        admin,
      );
      expect(res.statusCode, messageId).toBe(400);
    }
  });

  it('when a mark-read names a thread of another account, a bad id or a bad mark, then 403, 400 or 404', async () => {
    const read = (thread: string, body: unknown, who = bearer(employee.token)) =>
      inject('POST', `/api/threads/${encodeURIComponent(thread)}/read`, who, body);
    expect((await read(tB, { upTo: 'm1' })).statusCode).toBe(403);
    for (const [thread, body] of [
      ['__reserved__', { upTo: 'm1' }],
      [tA, { upTo: 'a/b' }],
      [tA, { upTo: 'tomorrow at noon' }],
      [tA, { upTo: 42 }],
      [tA, {}],
    ] as const) {
      const res = await read(thread, body);
      expect(res.statusCode, `${thread} ${JSON.stringify(body)}`).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    expect((await read('nope', { upTo: 'm1' }, admin)).statusCode).toBe(404);
  });

  it('when a thread does not exist or its id is reserved, then 404 or 400, never 5xx', async () => {
    expect((await inject('GET', '/api/threads/nope', admin)).statusCode).toBe(404);
    expect((await inject('GET', '/api/threads/__reserved__', admin)).statusCode).toBe(400);
  });
});

describe('CRM and AI routes', () => {
  it('when extract-event is called, then an extract-event job carries the request and its result comes back', async () => {
    const res = await inject(
      'POST',
      '/api/whatsapp/extract-event',
      { ...admin, 'idempotency-key': 'req-extract-0001' },
      {
        threadId: tA,
        accountId: A,
      },
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      action: 'create',
      reasons: [`thread ${tA}`],
      // The job id is the key scoped to its caller (issue 15 item 7), not the key itself.
      extractionId: expect.stringMatching(/^ex-ai-[0-9a-f]{40}$/) as unknown,
    });
  });

  it('when the AI worker does not answer in time, then 503 problem+json that says to retry', async () => {
    await aiWorker.pause();
    try {
      const res = await inject('POST', '/api/crm/ask', admin, {
        phoneE164: PHONE_A,
        question: 'ce?',
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      expect(res.json<{ detail: string }>().detail).toMatch(/did not answer within 3000 ms/);
    } finally {
      void aiWorker.resume();
    }
  });

  it('when an event save is retried with the same Idempotency-Key, then one event exists; another body with that key is 409', async () => {
    const body = { threadId: tA, date: '2025-10-04', characters: ['Spiderman'], amount: 650 };
    const key = { ...bearer(employee.token), 'idempotency-key': 'save-retry-0001' };
    const first = await inject('POST', '/api/crm/events', key, body);
    const retry = await inject('POST', '/api/crm/events', key, body);
    expect(first.statusCode, first.body).toBe(201);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const event = first.json<{ id: string; eventShortId: string }>();
    expect(retry.json<{ id: string; eventShortId: string }>()).toMatchObject(event);
    expect(first.json<Record<string, unknown>>()).not.toHaveProperty('bodyHash');
    const stored = await gw.fs.db
      .collection(Collections.evenimente)
      .where('date', '==', '2025-10-04')
      .get();
    expect(stored.docs.map((d) => d.id)).toEqual([event.id]);

    const conflict = await inject('POST', '/api/crm/events', key, { ...body, amount: 700 });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json<{ detail: string }>().detail).toMatch(/save-retry-0001/);
    // Without a key every save is a new event (the seeds: "saving again makes a second event").
    const unkeyed = await inject('POST', '/api/crm/events', bearer(employee.token), body);
    const again = await inject('POST', '/api/crm/events', bearer(employee.token), body);
    expect(unkeyed.json<{ id: string }>().id).not.toBe(again.json<{ id: string }>().id);
  });

  it('when events are created, patched and archived, then each call is a new or updated document, never a delete', async () => {
    const created = await inject('POST', '/api/crm/events', bearer(employee.token), {
      threadId: tA,
      date: '2025-09-01',
      characters: ['Elsa'],
      amount: 800,
      advance: 200,
    });
    expect(created.statusCode, created.body).toBe(201);
    const event = created.json<{
      id: string;
      phoneE164: string;
      createdBy: string;
      isArchived: boolean;
    }>();
    expect(event).toMatchObject({ phoneE164: PHONE_A, createdBy: employee.uid, isArchived: false });
    const patched = await inject('PATCH', `/api/crm/events/${event.id}`, bearer(employee.token), {
      guests: 20,
    });
    expect(patched.json<{ guests: number }>().guests).toBe(20);
    const archived = await inject(
      'POST',
      `/api/crm/events/${event.id}/archive`,
      bearer(employee.token),
    );
    expect(archived.json<{ isArchived: boolean }>().isArchived).toBe(true);
    expect((await gw.fs.db.collection(Collections.evenimente).doc(event.id).get()).exists).toBe(
      true,
    );
    expect((await inject('DELETE', `/api/crm/events/${event.id}`, admin)).statusCode).toBe(404);
    const bad = await inject('POST', '/api/crm/events', admin, {
      phoneE164: PHONE_A,
      date: '2025-13-45',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ errors: Array<{ path: string }> }>().errors[0]?.path).toBe('date');
  });
});

describe('simulator dev routes', () => {
  it('when WA_EMULATOR_URL is set, then scan (which declares no body) forwards the QR the account shows', async () => {
    const res = await inject('POST', `/api/dev/simulator/accounts/${A}/scan`, admin);
    expect(res.statusCode).toBe(202);
    expect(simulator.received.at(-1)).toEqual({
      path: `/accounts/${A}/scan`,
      body: { qr: '2@abc,def,ghi' },
    });
  });

  it('when scan (which declares no body) is sent without one but with Content-Type: application/json, as generated clients and proxies send it, then it is accepted', async () => {
    const res = await inject('POST', `/api/dev/simulator/accounts/${A}/scan`, {
      ...admin,
      'content-type': 'application/json',
    });
    expect(res.statusCode).toBe(202);
  });

  it('when WA_EMULATOR_URL is set, then bodies are validated and forwarded to the emulator', async () => {
    const res = await inject('POST', `/api/dev/simulator/accounts/${A}/inbound`, admin, {
      from: PHONE_A,
      text: 'Bună',
    });
    expect(res.statusCode).toBe(202);
    expect(simulator.received.at(-1)).toEqual({
      path: `/accounts/${A}/inbound`,
      body: { from: PHONE_A, text: 'Bună', kind: 'text' },
    });
    const bad = await inject('POST', `/api/dev/simulator/accounts/${A}/disconnect`, admin, {
      reason: 'x',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ errors: Array<{ path: string }> }>().errors[0]?.path).toBe('reason');
  });
});

describe('HTTP hygiene', () => {
  it('when a body is invalid, then 400 problem+json names each field', async () => {
    const res = await inject('POST', '/api/whatsapp/add-account', admin, { name: '', phone: 12 });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const body = res.json<{ code: string; errors: Array<{ path: string }>; detail: string }>();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.errors.map((e) => e.path).sort()).toEqual(['name', 'phone']);
    expect(body.detail).toMatch(/^body: /);
  });

  it('when a body exceeds the limit, then 413 problem+json', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/api/whatsapp/add-account',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json<{ code: string }>().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('when any answer is sent, then security headers are set and CORS is closed by default', async () => {
    const res = await inject('GET', '/health', { origin: 'https://evil.example' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('when /metrics is scraped with METRICS_TOKEN, then it answers Prometheus text with the gateway figures', async () => {
    const res = await inject('GET', '/metrics', bearer(METRICS_TOKEN));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    for (const name of [
      'wacrm_queue_jobs{',
      'wacrm_accounts{status="connected"',
      'wacrm_ingest_lag_seconds',
      'wacrm_http_request_duration_seconds_bucket',
      'wacrm_sse_clients',
    ]) {
      expect(res.body).toContain(name);
    }
    expect((await inject('GET', '/metrics', bearer(`${METRICS_TOKEN}x`))).statusCode).toBe(401);
  });

  it('when an admin opens bull-board, then it serves the UI and the queues API', async () => {
    const page = await inject('GET', '/admin/queues', admin);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const api = await inject('GET', '/admin/queues/api/queues', admin);
    expect(api.statusCode).toBe(200);
    expect(api.body).toContain('wa-inbound');
  });
});
