import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Firestore } from 'firebase-admin/firestore';
import { freePort } from '@wacrm/emulators';
import { collections, newAccountDoc } from '@wacrm/firestore';
import {
  expectEventually,
  spawnNodeProcess,
  withBuildLock,
  type NodeProcess,
} from '@wacrm/testing';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(packageDir, '../..');

let built = false;
/** Builds the libraries and the gateway once per test file: tests run the real dist entry points. */
export function buildGateway(): void {
  if (built) return;
  // Test files run in parallel workers: one build at a time, so no process reads a half-written dist.
  withBuildLock(buildAll);
  built = true;
}

function buildAll(): void {
  for (const project of [
    'libs/contracts',
    'libs/config',
    'libs/observability',
    'libs/queue',
    'libs/firestore',
    'libs/net',
    'libs/wa-emulator',
    'services/wa-gateway',
  ]) {
    execFileSync('npx', ['tsc', '-p', join(repoRoot, project, 'tsconfig.build.json')], {
      cwd: repoRoot,
      stdio: 'pipe',
    });
  }
}

export type Proc = NodeProcess;

function spawnNode(entry: string, env: Record<string, string>, port: number): Proc {
  return spawnNodeProcess({
    name: entry,
    entry: join(packageDir, entry),
    cwd: repoRoot,
    env,
    port,
  });
}

async function waitHealthy(proc: Proc, path: string, timeoutMs = 30_000): Promise<void> {
  await expectEventually(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`process exited ${proc.child.exitCode}`);
      const res = await fetch(`${proc.url}${path}`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** The WhatsApp network emulator (libs/wa-emulator) as its own process, as `npm start` runs it. */
export interface Emulator {
  proc: Proc;
  /** Control API. */
  url: string;
  /** State: paired devices, keys, contacts' sessions; the media CDN's certificate. */
  dataDir: string;
  /** Port of the media CDN (HTTPS) on 127.0.0.1. */
  mediaPort: number;
}

export async function startEmulator(
  options: {
    deliveredMs?: number;
    readMs?: number;
    dataDir?: string;
    port?: number;
    mediaPort?: number;
  } = {},
): Promise<Emulator> {
  const port = options.port ?? (await freePort());
  const mediaPort = options.mediaPort ?? (await freePort());
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'wa-emulator-')));
  const proc = spawnNodeProcess({
    name: 'wa-emulator',
    entry: join(repoRoot, 'libs/wa-emulator/dist/wa-emulator.main.js'),
    cwd: repoRoot,
    env: {
      WA_EMULATOR_PORT: String(port),
      WA_EMULATOR_MEDIA_PORT: String(mediaPort),
      WA_EMULATOR_DATA_DIR: dataDir,
      WA_EMULATOR_DELIVERED_MS: String(options.deliveredMs ?? 100),
      WA_EMULATOR_READ_MS: String(options.readMs ?? 200),
      LOG_LEVEL: 'info',
    },
    port,
  });
  await waitHealthy(proc, '/health');
  return { proc, url: proc.url, dataDir, mediaPort };
}

/**
 * What a wa-gateway process needs to run real Baileys against the emulator, exactly as the
 * launcher sets it: the socket URL template, the preload that swaps Baileys' certificate root,
 * the media CDN's certificate, and its address for every media host (history chunks included).
 */
export function emulatorGatewayEnv(emulator: Emulator, client?: string): Record<string, string> {
  // `client` labels the instance's sockets on the emulator, so a test sees who holds each account.
  const label = client !== undefined ? `&client=${encodeURIComponent(client)}` : '';
  return {
    WA_DRIVER: 'baileys',
    WA_WEBSOCKET_URL: `ws://127.0.0.1:${emulator.proc.port}/ws?account={accountId}${label}`,
    NODE_OPTIONS: `--import ${pathToFileURL(join(repoRoot, 'libs/wa-emulator/dist/preload.js')).href}`,
    NODE_EXTRA_CA_CERTS: join(emulator.dataDir, 'wa-emulator-media-ca.pem'),
    WA_MEDIA_HOST_OVERRIDE: `127.0.0.1:${emulator.mediaPort}`,
    WHATSAPP_WEB_VERSION_URL: `${emulator.url}/sw.js`,
  };
}

export interface EmulatedAccount {
  accountId: string;
  phone: string;
  lid: string;
  /** `client`: the label of the connected socket (the gateway instance, see emulatorGatewayEnv). */
  devices: Array<{ deviceId: number; jid: string; connected: boolean; client: string | null }>;
  awaitingScan: boolean;
}

export async function emulatorAccounts(emulator: Emulator): Promise<EmulatedAccount[]> {
  return (await emulatorView(emulator)).accounts;
}

/** The emulator's accounts and how many open sockets a newer login of their device replaced (440). */
export async function emulatorView(
  emulator: Emulator,
): Promise<{ accounts: EmulatedAccount[]; replacedSockets: number }> {
  const res = await fetch(`${emulator.url}/accounts`);
  return (await res.json()) as { accounts: EmulatedAccount[]; replacedSockets: number };
}

/** Every account's phone scans the QR it shows in Firestore, as people scan screens. */
export async function scanAllShown(
  emulator: Emulator,
  db: Firestore,
  ids: string[],
  timeoutMs = 60_000,
): Promise<void> {
  const pending = new Set(ids);
  await expectEventually(
    async () => {
      const docs = await Promise.all(
        [...pending].map((id) => collections(db).accounts().doc(id).get()),
      );
      for (const doc of docs) {
        const qr = doc.data()?.qr ?? null;
        if (qr === null) continue;
        const res = await fetch(`${emulator.url}/accounts/${doc.id}/scan`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ qr }),
        });
        if (res.status === 202) pending.delete(doc.id);
      }
      if (pending.size > 0) throw new Error(`${pending.size} accounts not scanned yet`);
    },
    { timeoutMs, intervalMs: 300 },
  );
}

/** The phone scans the QR the account shows in Firestore, as a person scans the screen. */
export async function scanShownQr(
  emulator: Emulator,
  db: Firestore,
  accountId: string,
  timeoutMs = 60_000,
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
    { timeoutMs, intervalMs: 200 },
  );
}

/** Logged in on the emulator and `connected` in Firestore. */
export async function waitEmulatorConnected(
  emulator: Emulator,
  db: Firestore,
  ids: string[],
  timeoutMs = 60_000,
): Promise<void> {
  await expectEventually(
    async () => {
      const accounts = await emulatorAccounts(emulator);
      const online = new Set(
        accounts.filter((a) => a.devices.some((d) => d.connected)).map((a) => a.accountId),
      );
      const missing = ids.filter((id) => !online.has(id));
      if (missing.length > 0) throw new Error(`not logged in: ${missing.slice(0, 5).join(',')}`);
      for (const id of ids) {
        const status = (await collections(db).accounts().doc(id).get()).data()?.status;
        if (status !== 'connected') throw new Error(`${id} is ${status}`);
      }
    },
    { timeoutMs, intervalMs: 200 },
  );
}

export interface GatewayOptions {
  instanceId: string;
  redisUrl: string;
  prefix: string;
  firestoreEnv: Record<string, string>;
  /**
   * Real Baileys against the WhatsApp network emulator. Without it the gateway runs as deployed
   * (Baileys to WhatsApp's address, or wherever `extra` points WA_WEBSOCKET_URL).
   */
  emulator?: Emulator;
  authStateKey: string;
  spoolDir?: string;
  extra?: Record<string, string>;
}

export async function startGateway(o: GatewayOptions): Promise<Proc> {
  const port = await freePort();
  const spoolDir = o.spoolDir ?? (await mkdtemp(join(tmpdir(), 'wa-spool-')));
  const proc = spawnNode(
    'dist/main.js',
    {
      ...o.firestoreEnv,
      INSTANCE_ID: o.instanceId,
      REDIS_URL: o.redisUrl,
      QUEUE_PREFIX: o.prefix,
      ...(o.emulator !== undefined ? emulatorGatewayEnv(o.emulator, o.instanceId) : {}),
      AUTH_STATE_KEY: o.authStateKey,
      WA_SPOOL_DIR: spoolDir,
      WA_GATEWAY_HEALTH_PORT: String(port),
      WA_LEASE_TTL_MS: '6000',
      WA_DISCOVERY_INTERVAL_MS: '1000',
      WA_RECONNECT_BASE_MS: '200',
      WA_RECONNECT_MAX_MS: '2000',
      LOG_LEVEL: 'info',
      ...o.extra,
    },
    port,
  );
  await waitHealthy(proc, '/sessions');
  return proc;
}

export function newAuthStateKey(): string {
  return randomBytes(32).toString('base64');
}

/** An account as the api-gateway creates it. */
export async function createAccounts(db: Firestore, ids: string[]): Promise<void> {
  const now = new Date();
  for (let i = 0; i < ids.length; i += 400) {
    const batch = db.batch();
    for (const id of ids.slice(i, i + 400)) {
      batch.set(db.collection('accounts').doc(id), newAccountDoc(`Account ${id}`, null, now));
    }
    await batch.commit();
  }
}

/** POST to the emulator's control API. */
export async function post(emulator: Proc, path: string, body: unknown = {}) {
  const res = await fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export interface SessionsView {
  instanceId: string;
  sessions: Array<{ accountId: string; status: string; connected: boolean; token: number }>;
}

export async function sessionsOf(gateway: Proc): Promise<SessionsView> {
  const res = await fetch(`${gateway.url}/sessions`);
  return (await res.json()) as SessionsView;
}
