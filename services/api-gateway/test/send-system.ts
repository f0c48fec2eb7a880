import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inject } from 'vitest';
import type { Firestore } from 'firebase-admin/firestore';
import type { MessageDoc, OutboxDoc, SimulatorSentList } from '@wacrm/contracts';
import { freePort } from '@wacrm/emulators';
import { collections, initFirebase, newAccountDoc, type Firebase } from '@wacrm/firestore';
import {
  expectEventually,
  spawnNodeProcess,
  withBuildLock,
  type NodeProcess,
} from '@wacrm/testing';

/**
 * The send path as real processes: the WhatsApp network emulator (libs/wa-emulator), wa-gateway(s)
 * running real Baileys against it, ingest and outbox-sender run from their build output, as
 * `npm start` runs them. The api-gateway runs in
 * the test process (useGateway) so tests can reach its app and logs.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

let built = false;
/** Builds the libraries and the three services once per test file, one build at a time. */
export function buildSendPath(): void {
  if (built) return;
  // The same lock as the wa-gateway harness: both build the shared libraries' dist.
  withBuildLock(() => {
    for (const project of [
      'libs/contracts',
      'libs/config',
      'libs/observability',
      'libs/queue',
      'libs/firestore',
      'libs/net',
      'libs/wa-emulator',
      'services/wa-gateway',
      'services/ingest',
      'services/outbox-sender',
    ]) {
      execFileSync('npx', ['tsc', '-p', join(repoRoot, project, 'tsconfig.build.json')], {
        cwd: repoRoot,
        stdio: 'pipe',
      });
    }
  });
  built = true;
}

export type Proc = NodeProcess;

function spawnService(name: string, entry: string, env: Record<string, string>, port = 0): Proc {
  return spawnNodeProcess({ name, entry: join(repoRoot, entry), cwd: repoRoot, env, port });
}

async function waitHealthy(proc: Proc, path: string): Promise<void> {
  await expectEventually(
    async () => {
      if (proc.child.exitCode !== null)
        throw new Error(`${proc.name} exited ${proc.child.exitCode}`);
      const res = await fetch(`${proc.url}${path}`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

/** Waits until a process has logged a line matching `match` (it logs when it is consuming). */
async function waitLogged(proc: Proc, match: RegExp): Promise<void> {
  await expectEventually(
    () => {
      if (proc.child.exitCode !== null)
        throw new Error(`${proc.name} exited ${proc.child.exitCode}`);
      if (!proc.lines.some((l) => typeof l.msg === 'string' && match.test(l.msg))) {
        throw new Error(`${proc.name} has not logged ${String(match)} yet`);
      }
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

export interface SystemTarget {
  redisUrl: string;
  prefix: string;
  firestoreEnv: Record<string, string>;
}

/** The WhatsApp network emulator as its own process, as `npm start` runs it. */
export interface Emulator {
  proc: Proc;
  /** Control API. */
  url: string;
  /** State and the media CDN's certificate. */
  dataDir: string;
  /** Media CDN (HTTPS) on 127.0.0.1. */
  mediaPort: number;
}

export async function startEmulator(): Promise<Emulator> {
  const port = await freePort();
  const mediaPort = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'wa-emulator-'));
  const proc = spawnService(
    'wa-emulator',
    'libs/wa-emulator/dist/wa-emulator.main.js',
    {
      WA_EMULATOR_PORT: String(port),
      WA_EMULATOR_MEDIA_PORT: String(mediaPort),
      WA_EMULATOR_DATA_DIR: dataDir,
      WA_EMULATOR_DELIVERED_MS: '100',
      WA_EMULATOR_READ_MS: '200',
      LOG_LEVEL: 'warn',
    },
    port,
  );
  await waitHealthy(proc, '/health');
  return { proc, url: proc.url, dataDir, mediaPort };
}

export async function startWaGateway(
  t: SystemTarget,
  o: {
    instanceId: string;
    /** Real Baileys against the WhatsApp network emulator. */
    emulator: Emulator;
    authStateKey: string;
    leaseTtlMs: number;
    /** Internal hosts media may be fetched from (OUTBOUND_ALLOW_HOSTS); none by default. */
    outboundAllowHosts?: string;
  },
): Promise<Proc> {
  const port = await freePort();
  const proc = spawnService(
    o.instanceId,
    'services/wa-gateway/dist/main.js',
    {
      ...t.firestoreEnv,
      INSTANCE_ID: o.instanceId,
      REDIS_URL: t.redisUrl,
      QUEUE_PREFIX: t.prefix,
      // Real Baileys against the emulator, exactly as the launcher configures it.
      WA_DRIVER: 'baileys',
      WA_WEBSOCKET_URL: `ws://127.0.0.1:${o.emulator.proc.port}/ws?account={accountId}`,
      NODE_OPTIONS: `--import ${pathToFileURL(join(repoRoot, 'libs/wa-emulator/dist/preload.js')).href}`,
      NODE_EXTRA_CA_CERTS: join(o.emulator.dataDir, 'wa-emulator-media-ca.pem'),
      WA_MEDIA_HOST_OVERRIDE: `127.0.0.1:${o.emulator.mediaPort}`,
      AUTH_STATE_KEY: o.authStateKey,
      WA_SPOOL_DIR: await mkdtemp(join(tmpdir(), 'wa-spool-')),
      WA_GATEWAY_HEALTH_PORT: String(port),
      WA_LEASE_TTL_MS: String(o.leaseTtlMs),
      WA_DISCOVERY_INTERVAL_MS: '500',
      WA_RECONNECT_BASE_MS: '200',
      WA_RECONNECT_MAX_MS: '2000',
      LOG_LEVEL: 'info',
      ...(o.outboundAllowHosts !== undefined ? { OUTBOUND_ALLOW_HOSTS: o.outboundAllowHosts } : {}),
    },
    port,
  );
  await waitHealthy(proc, '/sessions');
  return proc;
}

export async function startIngest(t: SystemTarget): Promise<Proc> {
  const proc = spawnService('ingest', 'services/ingest/dist/main.js', {
    ...t.firestoreEnv,
    REDIS_URL: t.redisUrl,
    QUEUE_PREFIX: t.prefix,
    LOG_LEVEL: 'info',
  });
  await waitLogged(proc, /ingest consuming/);
  return proc;
}

export async function startOutboxSender(
  t: SystemTarget,
  extra: Record<string, string> = {},
): Promise<Proc> {
  const proc = spawnService('outbox-sender', 'services/outbox-sender/dist/main.js', {
    ...t.firestoreEnv,
    REDIS_URL: t.redisUrl,
    QUEUE_PREFIX: t.prefix,
    // Paced, but tight enough that a test's handful of sends to one recipient go out at once.
    OUTBOX_RATE_PER_MINUTE: '600',
    OUTBOX_BURST: '10',
    OUTBOX_MIN_RECIPIENT_GAP_MS: '0',
    OUTBOX_JITTER_MS: '0',
    OUTBOX_WARMUP_DAYS: '0',
    OUTBOX_RELAY_AFTER_MS: '2000',
    OUTBOX_RELAY_INTERVAL_MS: '500',
    LOG_LEVEL: 'info',
    ...extra,
  });
  await waitLogged(proc, /outbox-sender started/);
  return proc;
}

export function newAuthStateKey(): string {
  return randomBytes(32).toString('base64');
}

/** The Auth app useGateway expects when it is handed shared resources. */
export function authAppForTests(): Firebase {
  const deps = inject('deps');
  return initFirebase({
    projectId: 'demo-wacrm',
    firestoreEmulatorHost: deps.firestoreEmulatorHost,
    ...(deps.authEmulatorHost !== '' ? { authEmulatorHost: deps.authEmulatorHost } : {}),
    appName: `auth-${randomUUID()}`,
  });
}

export async function createAccount(db: Firestore, accountId: string): Promise<void> {
  await collections(db)
    .accounts()
    .doc(accountId)
    .set(newAccountDoc(`Account ${accountId}`, null, new Date()));
}

interface EmulatedAccount {
  accountId: string;
  devices: Array<{ deviceId: number; connected: boolean }>;
}

async function loggedIn(emulator: Emulator, accountId: string): Promise<boolean> {
  const res = await fetch(`${emulator.url}/accounts`);
  const { accounts } = (await res.json()) as { accounts: EmulatedAccount[] };
  const account = accounts.find((a) => a.accountId === accountId);
  return account?.devices.some((d) => d.connected) ?? false;
}

/**
 * The phone scans the QR the account shows (accounts/{id}.qr, as the web app displays it), then
 * waits for `connected`.
 */
export async function pairEmulatedAccount(
  emulator: Emulator,
  db: Firestore,
  accountId: string,
): Promise<void> {
  await expectEventually(
    async () => {
      const qr = (await collections(db).accounts().doc(accountId).get()).data()?.qr ?? null;
      if (qr === null) throw new Error(`${accountId} shows no QR yet`);
      const res = await fetch(`${emulator.url}/accounts/${accountId}/scan`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ qr }),
      });
      if (res.status !== 202) throw new Error(`scan answered ${res.status}: ${await res.text()}`);
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  await waitEmulatedConnected(emulator, db, accountId);
}

/**
 * Logged in on the emulator and `connected` in Firestore. Returns the owning instance (the
 * account's ownerInstanceId, written by the gateway that holds its lease).
 */
export async function waitEmulatedConnected(
  emulator: Emulator,
  db: Firestore,
  accountId: string,
  timeoutMs = 60_000,
): Promise<string> {
  return expectEventually(
    async () => {
      if (!(await loggedIn(emulator, accountId))) throw new Error('not logged in');
      const doc = (await collections(db).accounts().doc(accountId).get()).data();
      if (doc?.status !== 'connected') throw new Error(`account status ${doc?.status}`);
      if (doc.ownerInstanceId === null) throw new Error('no owner');
      return doc.ownerInstanceId;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** What the emulated WhatsApp server received from the account's clients (the contact decrypted it). */
export async function sentOnEmulator(
  emulator: Emulator,
  accountId: string,
): Promise<SimulatorSentList['messages']> {
  const res = await fetch(`${emulator.url}/accounts/${accountId}/sent`);
  if (!res.ok) throw new Error(`GET sent: HTTP ${res.status}`);
  return ((await res.json()) as SimulatorSentList).messages;
}

export async function outboxDoc(db: Firestore, requestId: string): Promise<OutboxDoc | undefined> {
  return (await collections(db).outbox().doc(requestId).get()).data();
}

export async function threadMessages(db: Firestore, threadId: string): Promise<MessageDoc[]> {
  return (await collections(db).messages(threadId).get()).docs.map((d) => d.data());
}
