/**
 * `npm run bench:gateway`: the built wa-gateway with the simulated network, real Redis and the
 * Firestore emulator. (1) 300 paired accounts on one instance: seconds from process start to
 * all connected, and memory per account (RSS over an idle gateway, next to a bare Node process).
 * (2) The same accounts on 3 instances, one SIGKILLed: seconds until every account is owned and
 * connected again, next to the lease TTL (the floor a lease-based failover cannot beat).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startFirestoreEmulator, startRedisServer } from '@wacrm/emulators';
import { initFirebase } from '@wacrm/firestore';

const ACCOUNTS = Number(process.argv[2] ?? 300);
const FAILOVER_INSTANCES = 3;
const TTL_MS = Number(process.argv[3] ?? 15_000);
/** WA_MAX_STARTUP_CONCURRENCY of the gateways (the default is 5). */
const STARTUP_CONCURRENCY = process.argv[4] ?? '5';
const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const repoRoot = resolve(packageDir, '../..');

interface Proc {
  child: ChildProcess;
  port: number;
  url: string;
}

function spawnNode(args: string[], env: Record<string, string>, port = 0): Proc {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  return { child, port, url: `http://127.0.0.1:${port}` };
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function stop(proc: Proc, signal: NodeJS.Signals = 'SIGTERM') {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((r) => proc.child.once('exit', r));
  proc.child.kill(signal);
  await exited;
}

interface NetView {
  accounts: Array<{ accountId: string; connected: boolean; qr: string | null }>;
}
const json = async <T>(url: string, init?: RequestInit) =>
  (await (await fetch(url, init)).json()) as T;

const redis = await startRedisServer({});
const firestore = await startFirestoreEmulator({ port: 0 });
const firebase = initFirebase({
  projectId: 'bench-gateway',
  firestoreEmulatorHost: firestore.host,
});
const networkPort = await freePort();
const network = spawnNode(
  [join(packageDir, 'dist/simulator/network.main.js')],
  { WA_SIMULATOR_PORT: String(networkPort), LOG_LEVEL: 'warn', WA_SIMULATOR_QR_TTL_MS: '60000' },
  networkPort,
);
await waitUntil('network', async () => (await fetch(`${network.url}/health`)).ok);
const authStateKey = randomBytes(32).toString('hex');
const ids = Array.from({ length: ACCOUNTS }, (_, i) => `bench-${String(i).padStart(4, '0')}`);
const now = new Date();
for (let i = 0; i < ids.length; i += 400) {
  const batch = firebase.db.batch();
  for (const id of ids.slice(i, i + 400)) {
    batch.set(firebase.db.collection('accounts').doc(id), {
      name: id,
      status: 'connecting',
      createdAt: now,
    });
  }
  await batch.commit();
}

async function gateway(instanceId: string): Promise<Proc> {
  const port = await freePort();
  const proc = spawnNode(
    [join(packageDir, 'dist/main.js')],
    {
      INSTANCE_ID: instanceId,
      REDIS_URL: redis.url,
      FIREBASE_PROJECT_ID: 'bench-gateway',
      FIRESTORE_EMULATOR_HOST: firestore.host,
      WA_DRIVER: 'simulator',
      WA_SIMULATOR_URL: network.url,
      AUTH_STATE_KEY: authStateKey,
      WA_SPOOL_DIR: await mkdtemp(join(tmpdir(), 'bench-spool-')),
      WA_GATEWAY_HEALTH_PORT: String(port),
      WA_LEASE_TTL_MS: String(TTL_MS),
      WA_MAX_STARTUP_CONCURRENCY: STARTUP_CONCURRENCY,
      LOG_LEVEL: 'warn',
    },
    port,
  );
  await waitUntil(`${instanceId} health`, async () => (await fetch(`${proc.url}/sessions`)).ok);
  return proc;
}

const connectedCount = async () =>
  (await json<NetView>(`${network.url}/sockets`)).accounts.filter((a) => a.connected).length;

// Baselines: a bare Node process, and an idle gateway (connected to Redis + Firestore, no accounts).
const bare = spawnNode(['-e', 'setInterval(() => {}, 1000)'], {});
await new Promise((r) => setTimeout(r, 1_000));
const bareRss = await rssMb(bare.child.pid!);
await stop(bare);

// Pairing (not measured): one gateway takes every account, a "phone" scans each QR.
let g = await gateway('bench-pair');
await waitUntil('all paired', async () => {
  const view = await json<NetView>(`${network.url}/sockets`);
  await Promise.all(
    view.accounts
      .filter((a) => a.qr !== null)
      .map((a) => fetch(`${network.url}/accounts/${a.accountId}/scan`, { method: 'POST' })),
  );
  return (await connectedCount()) === ACCOUNTS;
});
await stop(g);

// (1) One instance, restored sessions: start → all connected, then memory.
const t0 = Date.now();
g = await gateway('bench-one');
await waitUntil('all connected', async () => (await connectedCount()) === ACCOUNTS);
const startSeconds = (Date.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, 3_000));
const rss300 = await rssMb(g.child.pid!);
await stop(g);
await waitUntil('sockets closed', async () => (await connectedCount()) === 0);
// The idle gateway: same process, no accounts in its project.
const idlePort = await freePort();
const idle = spawnNode(
  [join(packageDir, 'dist/main.js')],
  {
    INSTANCE_ID: 'bench-idle',
    REDIS_URL: redis.url,
    QUEUE_PREFIX: '{idle}',
    FIREBASE_PROJECT_ID: 'bench-empty',
    FIRESTORE_EMULATOR_HOST: firestore.host,
    WA_DRIVER: 'simulator',
    WA_SIMULATOR_URL: network.url,
    AUTH_STATE_KEY: authStateKey,
    WA_SPOOL_DIR: await mkdtemp(join(tmpdir(), 'bench-spool-')),
    WA_GATEWAY_HEALTH_PORT: String(idlePort),
    LOG_LEVEL: 'warn',
  },
  idlePort,
);
await waitUntil('idle health', async () => (await fetch(`${idle.url}/sessions`)).ok);
await new Promise((r) => setTimeout(r, 3_000));
const idleRss = await rssMb(idle.child.pid!);
await stop(idle);

// (2) Failover: 3 instances share the accounts; one is SIGKILLed.
const trio = await Promise.all(
  Array.from({ length: FAILOVER_INSTANCES }, (_, i) => gateway(`bench-fo-${i}`)),
);
await waitUntil('all connected on 3', async () => (await connectedCount()) === ACCOUNTS);
await waitUntil('fair share', async () => {
  const counts = await Promise.all(
    trio.map(
      async (p) => (await json<{ sessions: unknown[] }>(`${p.url}/sessions`)).sessions.length,
    ),
  );
  return counts.every((c) => c <= Math.ceil(ACCOUNTS / FAILOVER_INSTANCES) + 1);
});
const victim = trio[0]!;
const victimOwned = (await json<{ sessions: unknown[] }>(`${victim.url}/sessions`)).sessions.length;
const killedAt = Date.now();
await stop(victim, 'SIGKILL');
const survivors = trio.slice(1);
await waitUntil('all owned again', async () => {
  const owned = await Promise.all(
    survivors.map(
      async (p) => (await json<{ sessions: unknown[] }>(`${p.url}/sessions`)).sessions.length,
    ),
  );
  return owned.reduce((a, b) => a + b, 0) === ACCOUNTS;
});
const ownedSeconds = (Date.now() - killedAt) / 1000;
await waitUntil('all connected again', async () => (await connectedCount()) === ACCOUNTS);
const connectedSeconds = (Date.now() - killedAt) / 1000;
await Promise.all(survivors.map((p) => stop(p)));

const perAccountKb = ((rss300 - idleRss) * 1024) / ACCOUNTS;
const rows: Array<[string, string, string]> = [
  ['metric', 'wa-gateway', 'baseline'],
  [
    `RSS with ${ACCOUNTS} connected accounts`,
    `${rss300.toFixed(1)} MB`,
    `idle gateway ${idleRss.toFixed(1)} MB; bare node ${bareRss.toFixed(1)} MB`,
  ],
  ['memory per account', `${perAccountKb.toFixed(0)} KB`, `(RSS - idle gateway) / ${ACCOUNTS}`],
  [
    `start → all ${ACCOUNTS} connected (restored, no QR; start-up concurrency ${STARTUP_CONCURRENCY})`,
    `${startSeconds.toFixed(2)} s`,
    `${(ACCOUNTS / startSeconds).toFixed(0)} accounts/s`,
  ],
  [
    `failover: ${victimOwned} accounts of 1 of ${FAILOVER_INSTANCES} killed → all owned`,
    `${ownedSeconds.toFixed(2)} s`,
    `leases expire ${((TTL_MS * 2) / 3000).toFixed(1)}–${(TTL_MS / 1000).toFixed(1)} s after the kill (floor)`,
  ],
  [
    'failover → all connected',
    `${connectedSeconds.toFixed(2)} s`,
    `TTL + 5 s = ${(TTL_MS / 1000 + 5).toFixed(1)} s (target)`,
  ],
];
const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  |  '));

await stop(network);
await firebase.close();
await firestore.stop();
await redis.stop();
process.exit(0);
