/**
 * `npm run bench:api`: req/s and p50/p99 latency of the thread and message lists, side by
 * side with two baselines measured in the same run: a bare Fastify route and the gateway's
 * `/api/me` (auth, rate limit, metrics, no Firestore). Processes as `npm start` runs them on
 * embedded defaults: redis-server, the Firestore emulator from its build output with its snapshot
 * and write-ahead log, the api-gateway from its build output; this process seeds and generates
 * load (each process's output in a directory under BENCH_API_LOG_DIR, default the temp dir;
 * BENCH_API_CPU_PROF=<dir> makes the store and the gateway write V8 CPU profiles there,
 * BENCH_API_STORE_NODE_ARGS gives the store's node options, e.g. --trace-gc).
 *
 * Then search over BENCH_SEARCH_MESSAGES (100,000) messages, indexed by ingest's own planner and
 * writer, at a fixed arrival rate (open loop: request i leaves at t0 + i/rate whether or not
 * earlier ones were answered), beside the thread list at the same rate: p50/p99 and CPU ms per
 * request summed over the gateway, the store and Redis (/proc), the load generator apart.
 */
import { Agent, request as httpRequest } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { freePort, startRedisServer } from '@wacrm/emulators';
import { initFirebase } from '@wacrm/firestore';
import type { MessageDoc, ThreadDoc } from '@wacrm/contracts';
import { writeSearchIndex } from '../test/search-seed.js';
// Ingest's own planner and writer, as the seed uses them: the live index cost per message.
import { applySearchPlan } from '../../ingest/src/data-access/search-index.js';
import { emptySearchPlan, planMessage } from '../../ingest/src/domain/search-plan.js';
import { BenchProcesses, cpuMsOf, httpOk, ownCpuMs, percentile } from './processes.js';

// eslint-disable-next-line no-restricted-properties -- firebase-admin reads it from the environment
process.env.METADATA_SERVER_DETECTION = 'none';

// eslint-disable-next-line no-restricted-properties -- the bench's own knobs
const env = process.env;
const DURATION_S = Number(process.argv[2] ?? 10);
const CONNECTIONS = 10;
const ACCOUNT = 'wa-bench01';
const THREADS = 1000;
const MESSAGES = 2000;
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
/** Search: messages over a year in the same account's threads, searched at a fixed rate. */
const SEARCH_MESSAGES = Number(env.BENCH_SEARCH_MESSAGES ?? 100_000);
const SEARCH_RATE = 20;
const SEARCH_DURATION_S = Math.max(DURATION_S, 15);
const LOG_DIR = await mkdtemp(join(env.BENCH_API_LOG_DIR ?? tmpdir(), 'bench-api-logs-'));
const group = new BenchProcesses(LOG_DIR, env.BENCH_API_CPU_PROF);
let redisStop: (() => Promise<void>) | undefined;
/** The processes a request costs (their CPU summed per request); set once they run. */
const served: Array<{ name: string; pid: () => number | undefined }> = [];

/** CPU ms so far of each serving process, and of this one (the load generator). */
async function cpuNow(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const { name, pid } of served) out.set(name, await cpuMsOf(pid()));
  out.set('load generator', ownCpuMs());
  return out;
}

interface CpuSplit {
  /** CPU ms per request summed over the serving processes. */
  perRequest: number;
  /** `gateway 9.1, firestore 6.0, redis 0.4; load generator 1.2` */
  split: string;
}

function cpuPer(a: Map<string, number>, b: Map<string, number>, requests: number): CpuSplit {
  const per = (name: string) => ((b.get(name) ?? 0) - (a.get(name) ?? 0)) / requests;
  const perRequest = served.reduce((sum, { name }) => sum + per(name), 0);
  const split = `${served.map(({ name }) => `${name} ${per(name).toFixed(1)}`).join(', ')}; load generator ${per('load generator').toFixed(1)}`;
  return { perRequest, split };
}
/** Words of a party-booking chat, most common first (written with their diacritics). */
const WORDS = (
  'bună ziua mulțumesc da nu pentru sâmbătă duminică petrecere tort preț ofertă adresa ora ' +
  'copii invitați botez nuntă aniversare meniu sală rezervare confirm avans factură plată ' +
  'transfer cont mâine astăzi săptămâna viitoare luna iunie iulie august septembrie ' +
  'locație grădină terasă decor baloane flori fotograf muzică formație animator clovn ' +
  'vată zahăr înghețată fructe băuturi apă suc cafea șampanie vin bere aperitiv desert ' +
  'prăjituri candy bar număr persoane adulți minim maxim ore început sfârșit întrebare ' +
  'răspuns mesaj telefon sunați vă rog aștept detalii poze video contract semnat trimis ' +
  'primit bine perfect super frumos mulțumim familia noastră fetița băiatul mireasa mirele ' +
  'nașii părinții bunicii sector București Cluj Iași Timișoara Brașov Constanța parcare ' +
  'intrare etaj lift acces întârziere anulare modificare schimbare stabilit disponibil ocupat'
).split(' ');
const FIRST = [
  'Ștefan',
  'Maria',
  'Ion',
  'Elena',
  'Andrei',
  'Ioana',
  'Mihai',
  'Ana',
  'Radu',
  'Oana',
];
const LAST = ['Popescu', 'Ionescu', 'Țurcanu', 'Dumitrescu', 'Stănescu', 'Munteanu', 'Pîrvu'];
const NAMES = ['Ștefan', 'Ştefan', 'stefan', 'Țurcanu', 'Ţurcanu', 'Ioana', 'Mădălina', 'Andrei'];

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

interface RateRow {
  name: string;
  requests: number;
  p50: number;
  p99: number;
  max: number;
  cpuMsPerRequest: number;
  cpuSplit: string;
  errors: number;
}

function get(agent: Agent, base: URL, path: string, headers: Record<string, string>) {
  return new Promise<number>((resolve) => {
    const req = httpRequest(
      { agent, host: base.hostname, port: base.port, path, headers },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * Open loop at SEARCH_RATE: request i leaves at t0 + i/rate (paths in turn), latency counted
 * from when it was due, so a slow answer cannot hold the next ones back and hide itself.
 */
async function measureRate(
  name: string,
  base: string,
  paths: string[],
  headers: Record<string, string>,
  seconds = SEARCH_DURATION_S,
): Promise<RateRow> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const url = new URL(base);
  const run = async (total: number) => {
    const latencies: number[] = [];
    let errors = 0;
    const inFlight: Array<Promise<void>> = [];
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / SEARCH_RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(
        get(agent, url, paths[i % paths.length]!, headers).then((status) => {
          latencies.push(performance.now() - due);
          if (status !== 200) errors += 1;
        }),
      );
    }
    await Promise.all(inFlight);
    return { latencies: latencies.sort((a, b) => a - b), errors };
  };
  await run(2 * SEARCH_RATE); // warm-up
  const before = await cpuNow();
  const total = seconds * SEARCH_RATE;
  const { latencies, errors } = await run(total);
  const cpu = cpuPer(before, await cpuNow(), total);
  agent.destroy();
  return {
    name,
    requests: total,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? NaN,
    cpuMsPerRequest: cpu.perRequest,
    cpuSplit: cpu.split,
    errors,
  };
}

/**
 * A deterministic pseudo-random source (mulberry32), so every run seeds the same text. (The LCG
 * used before multiplied past 2^53 in floating point and cycled after ~10,000 draws, so the
 * 100,000 messages were a few hundred texts repeated.)
 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
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
): Promise<{
  commits: number;
  messageSeconds: number;
  indexSeconds: number;
  messages: MessageDoc[];
}> {
  const started = Date.now();
  const random = prng(20);
  const messages: MessageDoc[] = [];
  for (let i = 0; i < SEARCH_MESSAGES; i++) {
    const [threadId, thread] = threads[i % threads.length]!;
    const words: string[] = [];
    const n = 6 + Math.floor(random() * 9);
    for (let w = 0; w < n; w++) {
      const r = random();
      // Zipf-like: a few words in most messages, a long tail; some numbers (sums, hours).
      words.push(
        r < 0.1
          ? String(Math.floor(random() * 5000))
          : WORDS[Math.floor(WORDS.length * Math.pow(random(), 2))]!,
      );
    }
    if (i % 50 === 7) words.splice(2, 0, NAMES[Math.floor(i / 50) % NAMES.length]!);
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
  // Messages in batches of 500, four commits in flight; then the index, a few weeks at a time.
  let lastReport = Date.now();
  const progress = (what: string, done: number) => {
    if (Date.now() - lastReport < 10_000 && done < messages.length) return;
    lastReport = Date.now();
    process.stdout.write(
      `  ${what}: ${done} of ${messages.length} after ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
    );
  };
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
    progress('messages stored', i + slice.length);
  }
  const indexed = Date.now();
  const commits = await writeSearchIndex(db, ACCOUNT, threads, messages, (done) =>
    progress('messages indexed', done),
  );
  return {
    commits,
    messageSeconds: (indexed - started) / 1000,
    indexSeconds: (Date.now() - indexed) / 1000,
    messages,
  };
}

const LIVE_MESSAGES = 200;

/**
 * The index as ingest keeps it for a message arriving alone (a send, a live message): each of
 * the last LIVE_MESSAGES seeded messages indexed again as a new message of its own (new ids, the
 * same words and week), one plan and commit each. Documents written per message and CPU ms of
 * the writer (this process, as ingest) and the store.
 */
async function indexLive(
  db: ReturnType<typeof initFirebase>['db'],
  messages: MessageDoc[],
): Promise<{ writesPerMessage: number; writerMs: number; storeMs: number }> {
  let writes = 0;
  const before = await cpuNow();
  for (const m of messages) {
    const plan = emptySearchPlan();
    planMessage(plan, { ...m, waKey: { ...m.waKey, id: `L${m.waKey.id}` } });
    writes += plan.periods.size;
    await applySearchPlan(db, ACCOUNT, plan, new Date());
  }
  const after = await cpuNow();
  const per = (name: string) =>
    ((after.get(name) ?? 0) - (before.get(name) ?? 0)) / messages.length;
  return {
    writesPerMessage: writes / messages.length,
    writerMs: per('load generator'),
    storeMs: per('firestore'),
  };
}

async function main(): Promise<void> {
  const redis = await startRedisServer({});
  redisStop = () => redis.stop();
  // The store as the launcher runs it: its own process, snapshot and write-ahead log on disk.
  const fsPort = await freePort();
  const fsControl = `http://127.0.0.1:${await freePort()}`;
  // BENCH_API_STORE_NODE_ARGS, e.g. --trace-gc: the store's pauses in its log.
  const storeNode = (env.BENCH_API_STORE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const store = group.start(
    'firestore',
    'libs/emulators/dist/firestore-emulator.main.js',
    {},
    [
      '--port',
      String(fsPort),
      '--control-port',
      new URL(fsControl).port,
      '--snapshot',
      join(LOG_DIR, 'firestore.json'),
    ],
    storeNode,
  );
  await group.until('the Firestore emulator', httpOk(`${fsControl}/health`));
  const firestoreHost = `127.0.0.1:${fsPort}`;
  const firebase = initFirebase({ projectId: 'bench-api', firestoreEmulatorHost: firestoreHost });

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
        displayName: `${FIRST[j % FIRST.length]!} ${LAST[Math.floor(j / FIRST.length) % LAST.length]!}`,
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
    `seeded ${SEARCH_MESSAGES} messages in ${seeded.messageSeconds.toFixed(0)} s and indexed them through ingest's writer in ${seeded.indexSeconds.toFixed(0)} s (${seeded.commits} batch commits)\n`,
  );

  // The seed folded into the snapshot now, as the store's timer would soon: not during a measure.
  const folded = Date.now();
  const snapshot = await fetch(`${fsControl}/snapshot`, { method: 'POST' });
  if (!snapshot.ok) throw new Error(`snapshot: HTTP ${snapshot.status}`);
  process.stdout.write(
    `store snapshot written in ${((Date.now() - folded) / 1000).toFixed(0)} s\n`,
  );

  const gwPort = await freePort();
  const gateway = group.start('api-gateway', 'services/api-gateway/dist/main.js', {
    REDIS_URL: redis.url,
    FIREBASE_PROJECT_ID: 'bench-api',
    FIRESTORE_EMULATOR_HOST: firestoreHost,
    PORT: String(gwPort),
    ADMIN_TOKEN,
    // One client at up to thousands of req/s; the per-client limit is not what is measured.
    RATE_LIMIT_MAX: '1000000',
    LOG_LEVEL: 'warn',
  });
  const gw = `http://127.0.0.1:${gwPort}`;
  await group.until('the api-gateway', httpOk(`${gw}/health`));
  served.push(
    { name: 'gateway', pid: () => gateway.child.pid },
    { name: 'firestore', pid: () => store.child.pid },
    { name: 'redis', pid: () => redis.pid },
  );

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
  const q = (query: string) =>
    `/api/search?accountId=${ACCOUNT}&q=${encodeURIComponent(query.split('&')[0]!)}${query.includes('&') ? query.slice(query.indexOf('&')) : ''}`;
  // What operators type: names with and without diacritics, words of a booking, phone fragments.
  const searchPaths = [
    q('stefan'),
    q('Ștefan'),
    q('ştefan sâmbătă'),
    q('sambata tort'),
    q('preț meniu'),
    q('pret&direction=inbound'),
    q('mulțumesc'),
    q('factura avans'),
    q('turcanu'),
    q('botez&hasMedia=false'),
    q('mădălina'),
    q('0700000123'),
    q('+40 700 000 4'),
    q('0700000'),
    q('ionescu maria'),
    q('înghețată'),
  ];
  const rated: RateRow[] = [];
  rated.push(
    await measureRate(`GET /api/search (${SEARCH_MESSAGES / 1000}k msgs)`, gw, searchPaths, auth),
  );
  rated.push(
    await measureRate('GET /api/threads (50 of 1000)', gw, [threadsUrl.slice(gw.length)], auth),
  );

  // Where a search's CPU goes: each query alone, one request at a time.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const perQuery: Array<{ path: string; cpu: CpuSplit }> = [];
  for (const path of [...searchPaths, threadsUrl.slice(gw.length)]) {
    await get(agent, new URL(gw), path, auth);
    const before = await cpuNow();
    for (let i = 0; i < 20; i++) await get(agent, new URL(gw), path, auth);
    perQuery.push({ path, cpu: cpuPer(before, await cpuNow(), 20) });
  }
  agent.destroy();
  // After the searches: these entries point at messages that are not stored.
  const live = await indexLive(firebase.db, seeded.messages.slice(-LIVE_MESSAGES));
  const liveLine = `live index (ingest's writer, one message a commit, ${LIVE_MESSAGES} messages into the ${SEARCH_MESSAGES / 1000}k index): ${live.writesPerMessage.toFixed(2)} index writes and ${(live.writerMs + live.storeMs).toFixed(1)} CPU ms per message (writer ${live.writerMs.toFixed(1)}, store ${live.storeMs.toFixed(1)})\n`;

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
  process.stdout.write(
    `\nopen loop at ${SEARCH_RATE} req/s, ${SEARCH_DURATION_S} s each, latency from when a request was due\n`,
  );
  process.stdout.write(
    `${pad('target', 46)}${'requests'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'max ms'.padStart(10)}${'CPU ms/req'.padStart(12)}${'errors'.padStart(10)}\n`,
  );
  for (const r of rated) {
    process.stdout.write(
      `${pad(r.name, 46)}${num(r.requests)}${num(r.p50, 1)}${num(r.p99, 1)}${num(r.max, 1)}${num(r.cpuMsPerRequest, 2).padStart(12)}${num(r.errors)}\n`,
    );
    process.stdout.write(`  CPU ms/req by process: ${r.cpuSplit}\n`);
  }
  process.stdout.write(
    `\nCPU ms per request, one at a time (gateway + store + Redis; the split after the path)\n`,
  );
  for (const { path, cpu } of perQuery) {
    process.stdout.write(
      `${num(cpu.perRequest, 1)}  ${decodeURIComponent(path)}  (${cpu.split})\n`,
    );
  }
  const [, , threadList, messages] = rows;
  const [search, threadsAtRate] = rated as [RateRow, RateRow];
  const load = loadavg().map((l) => l.toFixed(1));
  process.stdout.write(
    `api: threads p50 ${threadList!.p50} ms, p99 ${threadList!.p99} ms at ${Math.round(threadList!.rps)} req/s; messages p50 ${messages!.p50} ms, p99 ${messages!.p99} ms at ${Math.round(messages!.rps)} req/s\n`,
  );
  process.stdout.write(
    `search: p50 ${search.p50.toFixed(1)} ms, p99 ${search.p99.toFixed(1)} ms, ${search.cpuMsPerRequest.toFixed(2)} CPU ms/req at ${SEARCH_RATE} req/s over ${SEARCH_MESSAGES} messages (target p99 <= 100 ms: ${search.p99 <= 100 ? 'met' : 'NOT met'}, ${search.errors} errors); thread list at the same rate p50 ${threadsAtRate.p50.toFixed(1)} ms, p99 ${threadsAtRate.p99.toFixed(1)} ms, ${threadsAtRate.cpuMsPerRequest.toFixed(2)} CPU ms/req; CPU per request summed over gateway, store and Redis, each its own process; load average ${load.join(' ')} (2 cores shared)\n`,
  );

  process.stdout.write(liveLine);

  process.stdout.write(`every process's output: ${LOG_DIR}\n`);

  await bare.close();
  await firebase.close();
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await group.stopAll();
  await redisStop?.();
}
