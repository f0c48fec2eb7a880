/**
 * `npm run bench:api`: req/s and p50/p99 latency of the thread and message lists, side by
 * side with two baselines measured in the same run: a bare Fastify route and the gateway's
 * `/api/me` (auth, rate limit, metrics, no Firestore). Real Redis and the Firestore emulator
 * (in-process, so it shares the CPU with the gateway).
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { ApiGatewayEnv, parseConfig } from '@wacrm/config';
import { startFirestoreEmulator, startRedisServer } from '@wacrm/emulators';
import { initFirebase } from '@wacrm/firestore';
import { createLogger } from '@wacrm/observability';
import type { MessageDoc, ThreadDoc } from '@wacrm/contracts';
import { startGateway } from '../src/gateway.js';
import { writeSearchIndex } from '../test/search-seed.js';

// eslint-disable-next-line no-restricted-properties -- firebase-admin reads it from the environment
process.env.METADATA_SERVER_DETECTION = 'none';

const DURATION_S = Number(process.argv[2] ?? 10);
const CONNECTIONS = 10;
const ACCOUNT = 'wa-bench01';
const THREADS = 1000;
const MESSAGES = 2000;
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
/** Search: messages over a year in the same account's threads, searched at a fixed rate. */
const SEARCH_MESSAGES = Number(process.env.BENCH_SEARCH_MESSAGES ?? 100_000);
const SEARCH_RATE = 20;
const SEARCH_DURATION_S = Math.max(DURATION_S, 15);
const VOCABULARY = Array.from({ length: 3000 }, (_, i) => `cuv${i.toString(36)}`);
const COMMON = ['bună', 'mulțumesc', 'sâmbătă', 'petrecere', 'tort', 'preț', 'adresa', 'ora'];

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function measure(
  name: string,
  url: string,
  headers: Record<string, string> = {},
  connections = CONNECTIONS,
): Promise<Row> {
  // A short warm-up so JIT and connection pools do not count against the first target.
  await autocannon({ url, connections, duration: 1, headers });
  const result = await autocannon({ url, connections, duration: DURATION_S, headers });
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}

/** Fixed arrival rate (not closed loop): the latency a steady 20 req/s sees. */
async function measureRate(
  name: string,
  base: string,
  paths: string[],
  headers: Record<string, string>,
): Promise<Row> {
  const requests = paths.map((path) => ({ method: 'GET' as const, path }));
  const options = { url: base, connections: 10, overallRate: SEARCH_RATE, headers, requests };
  await autocannon({ ...options, duration: 2 });
  const result = await autocannon({ ...options, duration: SEARCH_DURATION_S });
  return {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}

/** A deterministic pseudo-random source, so every run seeds the same text. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648;
  };
}

/**
 * SEARCH_MESSAGES messages spread over the bench's threads and the past year, a text of 6–14
 * words each (common words, a Zipf-like tail, "Ștefan" in three spellings in 1 %), with their
 * index as ingest keeps it.
 */
async function seedSearch(
  db: ReturnType<typeof initFirebase>['db'],
  threads: Array<[string, ThreadDoc]>,
  now: number,
): Promise<{ indexDocs: number; seconds: number }> {
  const started = Date.now();
  const random = lcg(20);
  const messages: MessageDoc[] = [];
  const names = ['Ștefan', 'Ştefan', 'stefan'];
  for (let i = 0; i < SEARCH_MESSAGES; i++) {
    const [threadId, thread] = threads[i % threads.length]!;
    const words: string[] = [];
    const n = 6 + Math.floor(random() * 9);
    for (let w = 0; w < n; w++) {
      const r = random();
      words.push(
        r < 0.3
          ? COMMON[Math.floor(random() * COMMON.length)]!
          : VOCABULARY[Math.floor(VOCABULARY.length * Math.pow(random(), 3))]!,
      );
    }
    if (i % 100 === 7) words.splice(2, 0, names[i % 3]!);
    const ts = new Date(now - Math.floor(random() * 365 * 86_400_000));
    const id = `S${String(i).padStart(7, '0')}`;
    messages.push({
      accountId: ACCOUNT,
      threadId,
      direction: i % 3 === 0 ? 'outbound' : 'inbound',
      body: words.join(' '),
      type: 'text',
      media: null,
      tsClient: ts,
      tsServer: null,
      status: 'received',
      waKey: { id, remoteJid: thread.clientJid, fromMe: i % 3 === 0, participant: null },
      requestId: null,
      source: 'history',
      participant: null,
      senderName: null,
      quotedMessageId: null,
      deleted: false,
      editedBody: null,
      reactions: {},
      location: null,
      createdAt: ts,
      updatedAt: ts,
    });
  }
  for (let i = 0; i < messages.length; i += 2000) {
    const slice = messages.slice(i, i + 2000);
    await Promise.all(
      [0, 500, 1000, 1500].map(async (from) => {
        const batch = db.batch();
        for (const m of slice.slice(from, from + 500)) {
          batch.set(db.doc(`threads/${m.threadId}/messages/${m.waKey.id}`), m);
        }
        await batch.commit();
      }),
    );
  }
  const indexDocs = await writeSearchIndex(db, ACCOUNT, threads, messages);
  return { indexDocs, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const redis = await startRedisServer({});
  const firestore = await startFirestoreEmulator({ port: 0 });
  const firebase = initFirebase({ projectId: 'bench-api', firestoreEmulatorHost: firestore.host });
  const logger = createLogger({ service: 'api-gateway', version: 'bench', level: 'warn' });

  const now = Date.now();
  const base = {
    accountId: ACCOUNT,
    isGroup: false,
    lastMessageText: 'Bună ziua',
    lastMessageDirection: 'inbound',
    unreadCount: 0,
    messageCount: 1,
    createdAt: new Date(now),
    updatedAt: new Date(now),
  };
  const threadId = (i: number) => `${ACCOUNT}__4070${String(i).padStart(7, '0')}@s.whatsapp.net`;
  const threads: Array<[string, ThreadDoc]> = [];
  for (let i = 0; i < THREADS; i += 400) {
    const batch = firebase.db.batch();
    for (let j = i; j < Math.min(i + 400, THREADS); j++) {
      const doc = {
        ...base,
        lastMessageDirection: 'inbound' as const,
        clientJid: `4070${String(j).padStart(7, '0')}@s.whatsapp.net`,
        phoneE164: `+4070${String(j).padStart(7, '0')}`,
        displayName: `Client ${j}`,
        lastMessageAt: new Date(now - j * 1000),
      };
      threads.push([threadId(j), doc]);
      batch.set(firebase.db.doc(`threads/${threadId(j)}`), doc);
    }
    await batch.commit();
  }
  const busy = threadId(0);
  for (let i = 0; i < MESSAGES; i += 400) {
    const batch = firebase.db.batch();
    for (let j = i; j < Math.min(i + 400, MESSAGES); j++) {
      const id = `MSG${String(j).padStart(6, '0')}`;
      const ts = new Date(now - j * 1000);
      batch.set(firebase.db.doc(`threads/${busy}/messages/${id}`), {
        accountId: ACCOUNT,
        threadId: busy,
        direction: j % 2 === 0 ? 'inbound' : 'outbound',
        body: `mesajul ${j}`,
        type: 'text',
        media: null,
        tsClient: ts,
        tsServer: null,
        status: 'received',
        waKey: {
          id,
          remoteJid: '40700000000@s.whatsapp.net',
          fromMe: j % 2 === 1,
          participant: null,
        },
        requestId: null,
        source: 'history',
        participant: null,
        senderName: null,
        quotedMessageId: null,
        deleted: false,
        editedBody: null,
        reactions: {},
        location: null,
        createdAt: ts,
        updatedAt: ts,
      });
    }
    await batch.commit();
  }

  const seeded = await seedSearch(firebase.db, threads, now);
  process.stdout.write(
    `seeded ${SEARCH_MESSAGES} messages for search and ${seeded.indexDocs} index documents in ${seeded.seconds.toFixed(0)} s\n`,
  );

  const config = parseConfig('api-gateway', ApiGatewayEnv, {
    REDIS_URL: redis.url,
    FIRESTORE_EMULATOR_HOST: firestore.host,
    ADMIN_TOKEN,
    RATE_LIMIT_MAX: '1000000',
    LOG_LEVEL: 'warn',
  });
  const gateway = await startGateway({
    config,
    logger,
    instanceId: 'bench',
    version: 'bench',
    db: firebase.db,
    auth: firebase.auth,
  });
  await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  const address = gateway.app.server.address();
  const gw = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;

  const bare = Fastify();
  bare.get('/bare', () => Promise.resolve({ ok: true }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const bareAddress = bare.server.address();
  const bareUrl = `http://127.0.0.1:${typeof bareAddress === 'object' && bareAddress !== null ? bareAddress.port : 0}/bare`;

  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const rows: Row[] = [];
  rows.push(await measure('baseline: bare Fastify route', bareUrl));
  rows.push(await measure('baseline: gateway GET /api/me', `${gw}/api/me`, auth));
  const threadsUrl = `${gw}/api/threads?accountId=${ACCOUNT}&limit=50`;
  const messagesUrl = `${gw}/api/threads/${encodeURIComponent(busy)}/messages?limit=50`;
  rows.push(await measure('GET /api/threads (50 of 1000)', threadsUrl, auth));
  rows.push(await measure('GET /api/threads/:id/messages (50 of 2000)', messagesUrl, auth));
  rows.push(await measure('  same, 1 connection: threads', threadsUrl, auth, 1));
  rows.push(await measure('  same, 1 connection: messages', messagesUrl, auth, 1));
  const q = (query: string) => `/api/search?accountId=${ACCOUNT}&${query}`;
  const searchPaths = [
    q('q=stefan'),
    q(`q=${encodeURIComponent('Ștefan')}`),
    q(`q=${encodeURIComponent('bună tort')}`),
    q('q=petrecere&direction=inbound'),
    q(`q=${VOCABULARY[40]!}`),
    q(`q=${encodeURIComponent('ştefan sâmbătă')}`),
    q('q=client+12'),
    q('q=0700000123'),
  ];
  rows.push(
    await measureRate(
      `GET /api/search (${SEARCH_RATE}/s, ${SEARCH_MESSAGES / 1000}k msgs)`,
      gw,
      searchPaths,
      auth,
    ),
  );
  rows.push(
    await measureRate(
      `GET /api/threads at ${SEARCH_RATE}/s (same run)`,
      gw,
      [`/api/threads?accountId=${ACCOUNT}&limit=50`],
      auth,
    ),
  );

  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (n: number, digits = 0) => n.toFixed(digits).padStart(10);
  process.stdout.write(
    `\napi-gateway bench: ${CONNECTIONS} connections, ${DURATION_S} s per target, Node ${process.version}\n`,
  );
  process.stdout.write(
    `${pad('target', 46)}${'req/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'errors'.padStart(10)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${pad(r.name, 46)}${num(r.rps)}${num(r.p50, 1)}${num(r.p99, 1)}${num(r.errors)}\n`,
    );
  }
  const [, , threadList, messages] = rows;
  const search = rows[rows.length - 2]!;
  const threadsAtRate = rows[rows.length - 1]!;
  process.stdout.write(
    `api: threads p50 ${threadList!.p50} ms, p99 ${threadList!.p99} ms at ${Math.round(threadList!.rps)} req/s; messages p50 ${messages!.p50} ms, p99 ${messages!.p99} ms at ${Math.round(messages!.rps)} req/s\n`,
  );
  process.stdout.write(
    `search: p50 ${search.p50} ms, p99 ${search.p99} ms at ${SEARCH_RATE} req/s over ${SEARCH_MESSAGES} messages (target p99 <= 100 ms, ${search.errors} errors); thread list at the same rate p50 ${threadsAtRate.p50} ms, p99 ${threadsAtRate.p99} ms\n`,
  );

  await bare.close();
  await gateway.close();
  // Requests autocannon abandoned at the deadline may still have a Firestore read in flight.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await firebase.close();
  await firestore.stop();
  await redis.stop();
}

await main();
