/**
 * `npm run bench:gateway`: one built wa-gateway process running real Baileys sessions against the
 * WhatsApp network emulator (libs/wa-emulator, its own process, so its CPU is reported apart),
 * with real Redis and the Firestore emulator. Measures, beside baselines from the same run:
 * - seconds to pair 30 accounts (each phone scans the QR the account shows in Firestore);
 * - RSS per connected account at 30 and at 100 accounts, over the same gateway with 0 accounts;
 * - gateway restarts (SIGTERM, SIGKILL, SIGTERM, …): seconds from each restart to 30 connected
 *   (sessions restored from Firestore, no scan) and re-pairs (an account showing a QR, logged out,
 *   or paired as a new device: each would need its phone to scan again; target 0);
 * - decrypted inbound messages per second, and CPU per message of the gateway and the emulator;
 * - Redis connections of the gateway (0, 30 and 100 accounts).
 * Usage: node gateway.bench.js [accounts=100] [messages=3000] [restarts=3]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { freePort, startFirestoreEmulator, startRedisServer } from '@wacrm/emulators';
import { initFirebase, newAccountDoc } from '@wacrm/firestore';

const TOTAL = Number(process.argv[2] ?? 100);
const FIRST = Math.min(30, TOTAL);
const MESSAGES = Number(process.argv[3] ?? 3000);
const RESTARTS = Math.max(1, Number(process.argv[4] ?? 3));
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const repoRoot = resolve(packageDir, '../..');
const PREFIX = '{bench}';

interface Proc {
  child: ChildProcess;
  port: number;
  url: string;
}

function spawnNode(args: string[], env: Record<string, string>, port = 0): Proc {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    // eslint-disable-next-line no-restricted-properties -- a child needs PATH to find its tools
    env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  return { child, port, url: `http://127.0.0.1:${port}` };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** CPU seconds (user + system) a process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function stop(proc: Proc, signal: NodeJS.Signals = 'SIGTERM') {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((r) => proc.child.once('exit', r));
  proc.child.kill(signal);
  await exited;
}

const json = async <T>(url: string, init?: RequestInit) =>
  (await (await fetch(url, init)).json()) as T;
const settle = () => new Promise((r) => setTimeout(r, 5_000));

const redis = await startRedisServer({});
const probe = new Redis(redis.url, { maxRetriesPerRequest: null });
const firestore = await startFirestoreEmulator({ port: 0 });
const firebase = initFirebase({
  projectId: 'bench-gateway',
  firestoreEmulatorHost: firestore.host,
});

// The emulator, as the launcher runs it.
const emulatorPort = await freePort();
const mediaPort = await freePort();
const emulatorDir = await mkdtemp(join(tmpdir(), 'bench-wa-emulator-'));
const emulator = spawnNode(
  [join(repoRoot, 'libs/wa-emulator/dist/wa-emulator.main.js')],
  {
    WA_EMULATOR_PORT: String(emulatorPort),
    WA_EMULATOR_MEDIA_PORT: String(mediaPort),
    WA_EMULATOR_DATA_DIR: emulatorDir,
    LOG_LEVEL: 'warn',
  },
  emulatorPort,
);
await waitUntil('emulator', async () => (await fetch(`${emulator.url}/health`)).ok);

interface EmulatorView {
  accounts: Array<{
    accountId: string;
    devices: Array<{ deviceId: number; connected: boolean }>;
    awaitingScan: boolean;
  }>;
}
const connectedOf = async (ids: string[]) => {
  const wanted = new Set(ids);
  const view = await json<EmulatorView>(`${emulator.url}/accounts`);
  return view.accounts.filter((a) => wanted.has(a.accountId) && a.devices.some((d) => d.connected))
    .length;
};

const authStateKey = randomBytes(32).toString('base64');
const spoolDir = await mkdtemp(join(tmpdir(), 'bench-spool-'));
async function gateway(instanceId: string, projectId = 'bench-gateway'): Promise<Proc> {
  const port = await freePort();
  const proc = spawnNode(
    [join(packageDir, 'dist/main.js')],
    {
      INSTANCE_ID: instanceId,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: projectId === 'bench-gateway' ? PREFIX : '{idle}',
      FIREBASE_PROJECT_ID: projectId,
      FIRESTORE_EMULATOR_HOST: firestore.host,
      WA_DRIVER: 'baileys',
      WA_WEBSOCKET_URL: `ws://127.0.0.1:${emulatorPort}/ws?account={accountId}`,
      NODE_OPTIONS: `--import ${pathToFileURL(join(repoRoot, 'libs/wa-emulator/dist/preload.js')).href}`,
      NODE_EXTRA_CA_CERTS: join(emulatorDir, 'wa-emulator-media-ca.pem'),
      WA_MEDIA_HOST_OVERRIDE: `127.0.0.1:${mediaPort}`,
      WHATSAPP_WEB_VERSION_URL: `${emulator.url}/sw.js`,
      AUTH_STATE_KEY: authStateKey,
      WA_SPOOL_DIR: spoolDir,
      WA_GATEWAY_HEALTH_PORT: String(port),
      WA_DISCOVERY_INTERVAL_MS: '1000',
      LOG_LEVEL: 'warn',
    },
    port,
  );
  await waitUntil(`${instanceId} health`, async () => (await fetch(`${proc.url}/sessions`)).ok);
  return proc;
}

/** The gateway's Redis connections (CLIENT LIST), told apart by their local port's owner. */
async function redisClients(): Promise<number> {
  const list = (await probe.client('LIST')) as string;
  return list.split('\n').filter((l) => l.includes('addr=')).length - 1; // minus this probe
}

async function createAccounts(ids: string[]) {
  const batch = firebase.db.batch();
  for (const id of ids) {
    batch.set(firebase.db.collection('accounts').doc(id), newAccountDoc(id, null, new Date()));
  }
  await batch.commit();
}

/** Every phone scans the QR its account shows in Firestore; resolves when all are connected. */
async function pair(ids: string[]) {
  const pending = new Set(ids);
  await waitUntil(`${ids.length} paired`, async () => {
    for (const id of [...pending]) {
      const qr = ((await firebase.db.collection('accounts').doc(id).get()).get('qr') ?? null) as
        string | null;
      if (qr === null) continue;
      const res = await fetch(`${emulator.url}/accounts/${id}/scan`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ qr }),
      });
      if (res.status === 202) pending.delete(id);
    }
    return pending.size === 0 && (await connectedOf(ids)) === ids.length;
  });
}

const ids = Array.from({ length: TOTAL }, (_, i) => `bench-${String(i).padStart(4, '0')}`);
const first = ids.slice(0, FIRST);

// Baselines: a bare Node process, and the gateway with 0 accounts (Redis, Firestore, preload).
const bare = spawnNode(['-e', 'setInterval(() => {}, 1000)'], {});
await new Promise((r) => setTimeout(r, 1_000));
const bareRss = await rssMb(bare.child.pid!);
await stop(bare);
const clientsBefore = await redisClients();
const idle = await gateway('bench-idle', 'bench-empty');
await settle();
const idleRss = await rssMb(idle.child.pid!);
const idleClients = (await redisClients()) - clientsBefore;
await stop(idle);

// (1) Pair 30 accounts on one gateway.
await createAccounts(first);
let t0 = performance.now();
let g = await gateway('bench-1');
await pair(first);
const pairSeconds = (performance.now() - t0) / 1000;
await settle();
const rss30 = await rssMb(g.child.pid!);
const clients30 = (await redisClients()) - clientsBefore;

// (2) Restarts: stop the gateway (SIGTERM, then SIGKILL, alternating: a crash leaves its leases
// to expire), start it again under the same instance id, until all 30 are connected again with no
// scan. A re-pair is an account that shows a QR or is logged out meanwhile, or whose phone gains
// a device: each would need a person to scan again.
const devicesOf = async (accounts: string[]) => {
  const wanted = new Set(accounts);
  const view = await json<EmulatorView>(`${emulator.url}/accounts`);
  return new Map(
    view.accounts
      .filter((a) => wanted.has(a.accountId))
      .map((a) => [a.accountId, a.devices.map((d) => d.deviceId).join(',')]),
  );
};
const lostPairing = async (accounts: string[]) => {
  const refs = accounts.map((id) => firebase.db.collection('accounts').doc(id));
  const docs = await firebase.db.getAll(...refs);
  const lost = ['qr_ready', 'needs_qr', 'logged_out'];
  return docs.filter((d) => lost.includes(String(d.get('status'))) || d.get('qr') != null);
};
const pairedDevices = await devicesOf(first);
const restarts: Array<{ signal: NodeJS.Signals; seconds: number; repairs: number }> = [];
for (let r = 0; r < RESTARTS; r++) {
  const signal: NodeJS.Signals = r % 2 === 0 ? 'SIGTERM' : 'SIGKILL';
  await stop(g, signal);
  await waitUntil('sockets closed', async () => (await connectedOf(first)) === 0);
  t0 = performance.now();
  g = await gateway('bench-1');
  const repaired = new Set<string>();
  await waitUntil(`${FIRST} reconnected after restart ${r + 1}`, async () => {
    for (const doc of await lostPairing(first)) repaired.add(doc.id);
    const view = await json<EmulatorView>(`${emulator.url}/accounts`);
    for (const a of view.accounts)
      if (a.awaitingScan && first.includes(a.accountId)) repaired.add(a.accountId);
    return (await connectedOf(first)) === FIRST;
  });
  const seconds = (performance.now() - t0) / 1000;
  for (const [id, devices] of await devicesOf(first)) {
    if (devices !== pairedDevices.get(id)) repaired.add(id);
  }
  restarts.push({ signal, seconds, repairs: repaired.size });
  await settle();
}
const restartSeconds = restarts[0]!.seconds;

// (3) Inbound: contacts write to the 30 accounts through the emulator; the gateway decrypts each
// and puts it on wa-inbound. Timed until every message is one ingest-messages job.
const inbound = new Queue('wa-inbound', { connection: probe, prefix: PREFIX });
const countMessages = async (wanted: Set<string>) => {
  const jobs = await inbound.getJobs(['waiting']);
  let n = 0;
  for (const j of jobs) {
    if (j.name !== 'ingest-messages') continue;
    const id = (j.data as { messages: Array<{ key: { id: string } }> }).messages[0]?.key.id;
    if (id !== undefined && wanted.has(id)) n += 1;
  }
  return n;
};
const gwCpu0 = await cpuSeconds(g.child.pid!);
const emuCpu0 = await cpuSeconds(emulator.child.pid!);
t0 = performance.now();
const sentIds = new Set<string>();
let next = 0;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (next < MESSAGES) {
      const i = next++;
      const res = await fetch(`${emulator.url}/accounts/${first[i % FIRST]}/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          from: `+4072${String(i % 200).padStart(7, '0')}`,
          text: `Bună ziua, mesajul ${i} pentru rezervare`,
        }),
      });
      if (res.status !== 202) throw new Error(`inbound answered ${res.status}`);
      sentIds.add(((await res.json()) as { messageIds: string[] }).messageIds[0]!);
    }
  }),
);
const postedSeconds = (performance.now() - t0) / 1000;
await waitUntil(
  `${MESSAGES} messages on wa-inbound`,
  async () => (await countMessages(sentIds)) === MESSAGES,
);
const inboundSeconds = (performance.now() - t0) / 1000;
const gwCpuPerMsgMs = (((await cpuSeconds(g.child.pid!)) - gwCpu0) * 1000) / MESSAGES;
const emuCpuPerMsgMs = (((await cpuSeconds(emulator.child.pid!)) - emuCpu0) * 1000) / MESSAGES;

// (4) The rest, up to 100 accounts, paired on the same gateway.
const rest = ids.slice(FIRST);
let rssAll = rss30;
let clientsAll = clients30;
let pairRestSeconds = 0;
if (rest.length > 0) {
  await createAccounts(rest);
  t0 = performance.now();
  await pair(rest);
  pairRestSeconds = (performance.now() - t0) / 1000;
  await waitUntil('all connected', async () => (await connectedOf(ids)) === TOTAL);
  await settle();
  rssAll = await rssMb(g.child.pid!);
  clientsAll = (await redisClients()) - clientsBefore;
}
const emulatorRss = await rssMb(emulator.child.pid!);
await stop(g);

const perAccount = (rss: number, n: number) => (rss - idleRss) / n;
const rows: Array<[string, string, string]> = [
  ['metric (real Baileys, one wa-gateway)', 'wa-gateway', 'baseline (same run)'],
  ['RSS with 0 accounts', `${idleRss.toFixed(1)} MB`, `bare node ${bareRss.toFixed(1)} MB`],
  [
    `RSS with ${FIRST} connected`,
    `${rss30.toFixed(1)} MB`,
    `${perAccount(rss30, FIRST).toFixed(2)} MB per account over 0 accounts`,
  ],
  [
    `RSS with ${TOTAL} connected`,
    `${rssAll.toFixed(1)} MB`,
    `${perAccount(rssAll, TOTAL).toFixed(2)} MB per account over 0 accounts (target <= 20)`,
  ],
  [
    `pair ${FIRST} accounts (gateway start -> all connected)`,
    `${pairSeconds.toFixed(1)} s`,
    `${rest.length} more on the running gateway: ${pairRestSeconds.toFixed(1)} s`,
  ],
  ...restarts.map((r, i): [string, string, string] => [
    `restart ${i + 1} (${r.signal}) -> ${FIRST} connected (restored, no scan)`,
    `${r.seconds.toFixed(1)} s, ${r.repairs} re-pairs`,
    i === 0
      ? `pairing them took ${pairSeconds.toFixed(1)} s`
      : `first restart ${restartSeconds.toFixed(1)} s`,
  ]),
  [
    `re-pairs over ${RESTARTS} restarts x ${FIRST} accounts`,
    `${restarts.reduce((n, r) => n + r.repairs, 0)}`,
    'target 0',
  ],
  [
    `inbound: ${MESSAGES} messages to ${FIRST} accounts, decrypted and on wa-inbound`,
    `${(MESSAGES / inboundSeconds).toFixed(0)} msg/s`,
    `emulator accepted them at ${(MESSAGES / postedSeconds).toFixed(0)} msg/s`,
  ],
  [
    'CPU per inbound message',
    `${gwCpuPerMsgMs.toFixed(2)} ms gateway`,
    `${emuCpuPerMsgMs.toFixed(2)} ms emulator (encrypting, not charged to the gateway)`,
  ],
  [
    'Redis connections of the gateway',
    `${clients30} at ${FIRST}, ${clientsAll} at ${TOTAL}`,
    `${idleClients} with 0 accounts`,
  ],
  ['emulator RSS at the end', `${emulatorRss.toFixed(1)} MB`, `(apart from the gateway)`],
];
const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  |  '));

await inbound.close();
probe.disconnect();
await stop(emulator);
await firebase.close();
await firestore.stop();
await redis.stop();
process.exit(0);
