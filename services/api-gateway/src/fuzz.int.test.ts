import type { Worker } from 'bullmq';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AiRequestsQueue } from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { startWorker } from '@wacrm/queue';
import {
  admin,
  bearer,
  useGateway,
  type TestGateway,
  validateTraffic,
} from '../test/gateway.fixture.js';
import { accountDoc, seedAccount, startSimulatorStandIn, threadDoc } from '../test/seed.js';

const A = 'wa-fuzz01';
const THREAD = `${A}__40700000001@s.whatsapp.net`;
const PHONE = '+40700000001';

/** Deterministic PRNG (mulberry32), so a failing case can be replayed from its index. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY_STRINGS = [
  '',
  ' ',
  'a'.repeat(5000),
  '💥🇷🇴'.repeat(400),
  'ă'.repeat(700),
  '\u202eevil',
  '\ud800',
  '\u0000',
  'zero\u200bwidth',
  "' OR '1'='1",
  '"; DROP TABLE accounts; --',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/a}',
  '../../../../etc/passwd',
  '%2e%2e%2f%2e%2e%2f',
  '__proto__',
  'constructor',
  '{"$gt":""}',
  '__name__',
  '.',
  '..',
  '__x__',
  'null',
  'NaN',
  '+4070000000100000000000',
  '2025-02-30',
  '9999-99-99T99:99:99Z',
  'wa-aaaaaa/../wa-bbbbbb',
  A,
];
const NASTY_VALUES: unknown[] = [
  ...NASTY_STRINGS,
  -1,
  0,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 1,
  null,
  true,
  false,
  [],
  {},
  [[[[]]]],
  { __proto__: { polluted: 1 } },
  JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}}}'),
  Array.from({ length: 2000 }, (_, i) => i),
];

function deep(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? '['.repeat(depth) + ']'.repeat(depth)
    : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

const RAW_BODIES = [
  '{',
  '{"name":',
  '[]',
  '"string"',
  '123',
  'true',
  'null',
  '\u0000',
  '\ufeff{"name":"x"}',
  '{"name":"x",}',
  "{'name':'x'}",
  '{"name":"x"}{"name":"y"}',
  deep(20_000, 'array'),
  deep(20_000, 'object'),
  deep(500, 'object'),
  JSON.stringify({ name: 'x'.repeat(1_200_000) }),
  JSON.stringify(Array.from({ length: 100_000 }, () => ({}))),
];

interface Target {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  path: string;
  body?: Record<string, unknown>;
}

let gw: TestGateway;
let simulator: Awaited<ReturnType<typeof startSimulatorStandIn>>;
let aiWorker: Worker;

beforeAll(async () => {
  simulator = await startSimulatorStandIn();
  gw = await useGateway({
    WA_EMULATOR_URL: simulator.url,
    AI_REQUEST_TIMEOUT_MS: '5000',
  });
  validateTraffic(gw);
  await seedAccount(gw.fs.db, A, accountDoc('Fuzz', 'qr_ready', { qr: 'qr-string' }));
  await collections(gw.fs.db)
    .threads()
    .doc(THREAD)
    .set(threadDoc(A, 1, new Date(), PHONE));
  // Stand-in for ai-extractor, so a request that happens to be valid is answered, not timed out.
  aiWorker = startWorker(
    AiRequestsQueue,
    {
      'extract-event': (p) =>
        Promise.resolve({
          action: 'none',
          draftEvent: null,
          confidence: 0,
          reasons: [],
          sourceMessageIds: [],
          extractionId: p.requestId,
        }),
      'ask-client': () => Promise.resolve({ answer: 'n/a', intent: 'unknown', sources: [] }),
    },
    { connection: gw.redis.connection, prefix: gw.redis.prefix, logger: gw.logs.logger },
  );
}, 120_000);

afterAll(async () => {
  await aiWorker?.close();
  await gw?.dispose();
  await simulator?.close();
});

/** Every documented route with a valid body to mutate, plus the operational ones. */
async function targets(): Promise<Target[]> {
  const doc = (await gw.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
    paths: Record<string, Record<string, unknown>>;
  }>();
  const bodies: Record<string, Record<string, unknown>> = {
    '/api/whatsapp/add-account': { name: 'WA-fuzz', phone: '+40712345678' },
    '/api/whatsapp/backfill/{accountId}': { threads: 5, messagesPerThread: 10 },
    '/api/whatsapp/pairing-code/{accountId}': { phone: '+40712345678' },
    '/api/whatsapp/extract-event': { threadId: THREAD, accountId: A, dryRun: true },
    '/api/threads/{threadId}/read': { upTo: '2025-06-01T10:00:00.000Z' },
    '/api/crm/ask': { phoneE164: PHONE, question: 'Cât a cheltuit?' },
    '/api/crm/events': { accountId: A, phoneE164: PHONE, date: '2025-06-01', amount: 100 },
    '/api/crm/events/{eventId}': { notes: 'x', guests: 3 },
    '/api/admin/api-keys': { name: 'k', scopes: ['read'], allowedAccounts: [A] },
    '/api/admin/users/{uid}': { role: 'employee', allowedAccounts: [A] },
    '/api/webhooks': {
      url: 'http://127.0.0.1:9/x',
      accountIds: [A],
      eventTypes: ['message.created'],
    },
    '/api/dev/simulator/accounts/{accountId}/inbound': { from: PHONE, text: 'hi' },
    '/api/dev/simulator/accounts/{accountId}/history': { threads: 1, messagesPerThread: 1 },
    '/api/dev/simulator/accounts/{accountId}/disconnect': { reason: 428 },
  };
  const list: Target[] = [{ method: 'GET', path: '/admin/queues' }];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item)) {
      const body = bodies[path];
      list.push({
        method: method.toUpperCase() as Target['method'],
        path,
        ...(body !== undefined ? { body } : {}),
      });
    }
  }
  return list;
}

/** A lone surrogate cannot be URI-encoded; send the raw invalid UTF-8 bytes instead. */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80';
  }
}

function fill(path: string, value: string): string {
  return path.replace(/\{[^{}]+\}/g, () => encode(value));
}

it('when ≥ 1,000 malformed requests hit every route, then none answers 5xx and the process stays up', async () => {
  const random = prng(20_251_122);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const all = await targets();
  const valid: Record<string, string> = {
    accountId: A,
    threadId: THREAD,
    phoneE164: PHONE,
    eventId: 'ev-none',
    keyId: 'ak_0000000000',
    uid: 'fuzz-user',
    webhookId: 'wh_000000000000',
    deliveryId: '0'.repeat(32),
  };
  const validPath = (path: string) =>
    path.replace(/\{([^{}]+)\}/g, (_m, name: string) => encodeURIComponent(valid[name] ?? 'x'));
  const failures: string[] = [];
  let count = 0;

  const send = async (label: string, options: InjectOptions) => {
    count += 1;
    let timer: NodeJS.Timeout | undefined;
    const res = await Promise.race([
      gw.app.inject(options),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 15_000))),
    ]).finally(() => clearTimeout(timer));
    if (res === undefined) {
      failures.push(`${label}: no answer within 15 s`);
      return;
    }
    if (res.statusCode >= 500)
      failures.push(`${label}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    else if (
      res.statusCode >= 400 &&
      !String(res.headers['content-type']).includes('application/problem+json')
    ) {
      failures.push(`${label}: ${res.statusCode} without problem+json`);
    }
  };

  for (const target of all) {
    // SSE: a valid request streams forever, so only malformed ones are sent to it.
    const isStream = target.path === '/api/stream';
    const url = validPath(target.path);
    const withBody = target.method !== 'GET';
    // 1. Raw, broken JSON and oversized or deeply nested bodies.
    if (withBody) {
      for (const raw of RAW_BODIES) {
        await send(`${target.method} ${target.path} raw`, {
          method: target.method,
          url,
          headers: { ...admin, 'content-type': 'application/json' },
          payload: raw,
        });
      }
      for (const contentType of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=utf-16',
      ]) {
        await send(`${target.method} ${target.path} ${contentType}`, {
          method: target.method,
          url,
          headers: { ...admin, 'content-type': contentType },
          payload: 'name=x&phone=y',
        });
      }
    }
    // 2. Each body field replaced by wrong types, unicode and injection strings; unknown fields.
    if (target.body !== undefined) {
      for (const field of [...Object.keys(target.body), '__proto__', 'extra']) {
        for (let i = 0; i < 6; i++) {
          const payload = { ...target.body, [field]: pick(NASTY_VALUES) };
          await send(`${target.method} ${target.path} ${field}`, {
            method: target.method,
            url,
            headers: { ...admin, 'content-type': 'application/json' },
            payload: JSON.stringify(payload),
          });
        }
      }
      for (const value of [null, [], 'x', 42]) {
        await send(`${target.method} ${target.path} top-level`, {
          method: target.method,
          url,
          headers: { ...admin, 'content-type': 'application/json' },
          payload: JSON.stringify(value),
        });
      }
    }
    // 3. Path parameters and query strings full of nonsense.
    if (target.path.includes('{')) {
      for (let i = 0; i < 12; i++) {
        const weird = fill(target.path, String(pick(NASTY_STRINGS)) || '%00');
        await send(`${target.method} ${target.path} path`, {
          method: target.method,
          url: weird,
          headers: withBody ? { ...admin, 'content-type': 'application/json' } : admin,
          ...(withBody ? { payload: JSON.stringify(target.body ?? {}) } : {}),
        });
      }
    }
    if (target.method === 'GET') {
      const queries = [
        'limit=-1',
        'limit=abc',
        'limit=1e9',
        'cursor=%%%',
        'cursor=eyJhIjoxfQ',
        'since=yesterday',
        'until=2025-13-01T00:00:00Z',
        `accountId=${encode(String(pick(NASTY_STRINGS)))}`,
        'accountId=a&accountId=b',
        'accountId[]=x',
        'order=sideways',
        'lastEventId=1-x',
        `accountId=${A}&since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z`,
        '__proto__[polluted]=1',
      ];
      // SSE: only queries that must be refused (a valid one would stream until closed).
      const streamQueries = [
        'lastEventId=1-x',
        'lastEventId=../x',
        'accountId=..%2Fx',
        `accountId=${'a'.repeat(100)}`,
        'accountId=%ED%A0%80',
      ];
      for (const q of isStream ? streamQueries : queries) {
        await send(`GET ${target.path}?${q}`, {
          method: 'GET',
          url: `${url}?${q}`,
          headers: admin,
        });
      }
    }
    // 4. Broken credentials and headers.
    const headerSets: Array<Record<string, string>> = [
      bearer('x'.repeat(8000)),
      bearer('a.b.c'),
      { authorization: 'Basic YWRtaW46YWRtaW4=' },
      { 'x-api-key': "' OR 1=1 --" },
      { 'x-api-key': `wacrm_ak_0000000000_${'A'.repeat(43)}` },
      { ...admin, 'last-event-id': '../../x' },
      { ...admin, 'idempotency-key': 'tiny' },
    ];
    for (const headers of headerSets) {
      if (
        isStream &&
        headers.authorization === admin.authorization &&
        !('last-event-id' in headers)
      )
        continue;
      await send(`${target.method} ${target.path} headers`, {
        method: target.method,
        url,
        headers: withBody ? { ...headers, 'content-type': 'application/json' } : headers,
        ...(withBody ? { payload: '{"bad":' } : {}),
      });
    }
  }

  const health = await gw.app.inject({ method: 'GET', url: '/health' });
  expect(health.statusCode).toBe(200);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(failures.slice(0, 50)).toEqual([]);
  expect(count).toBeGreaterThanOrEqual(1000);
  console.log(`fuzz: ${count} requests, ${failures.length} 5xx`);
}, 600_000);
