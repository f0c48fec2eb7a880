import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, startRedisServer, type RedisServerHandle } from '@wacrm/emulators';
import { collections, initFirebase, type Firebase } from '@wacrm/firestore';
import { OpenApiTrafficMismatch } from '@wacrm/testing';
import { ROOT } from '../launcher-process.js';
import { systemApi, type SystemApi } from '../system-api.js';

/**
 * The whole system as real processes from their build output, each restartable on the same
 * ports and directories, so a chaos test can SIGKILL any of them and start it again as a
 * supervisor would: the Firestore emulator (the embedded store, with its write-ahead log), the
 * WhatsApp network emulator, wa-gateway (real Baileys), ingest, outbox-sender and api-gateway.
 * Redis is started by the test itself (startRedisServer, append-only, on a fixed port).
 */
export interface Service {
  readonly name: string;
  readonly port: number;
  /** The running child, if any. */
  child(): ChildProcess | undefined;
  /** Starts the process and waits until it is ready. */
  start(): Promise<void>;
  /** SIGKILL; resolves once the process is gone, with true when it died of that signal. */
  kill(): Promise<boolean>;
  /** SIGTERM and wait (SIGKILL after 15 s). */
  stop(): Promise<void>;
  /** The last lines the process printed (stdout and stderr), for failure messages. */
  tail(): string;
  /** Every log line printed by every run of this service. */
  lines(): string[];
}

interface ServiceSpec {
  name: string;
  /** Every run's output is appended here (kept when a test fails, for the post-mortem). */
  logFile: string;
  args: string[];
  env: Record<string, string>;
  port: number;
  /** Ready once this holds; `lines` are what the current run printed so far. */
  ready: (lines: string[]) => Promise<boolean>;
}

function defineService(spec: ServiceSpec): Service {
  let child: ChildProcess | undefined;
  const all: string[] = [];
  let tail = '';
  let log: WriteStream | undefined;
  const svc: Service = {
    name: spec.name,
    port: spec.port,
    child: () => child,
    async start() {
      const mark = all.length;
      const c = spawn(process.execPath, spec.args, {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...spec.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      log ??= createWriteStream(spec.logFile, { flags: 'a' });
      log.write(`--- ${new Date().toISOString()} start pid ${c.pid}\n`);
      let buffer = '';
      const onData = (chunk: string): void => {
        log?.write(chunk);
        tail = (tail + chunk).slice(-6_000);
        buffer += chunk;
        const parts = buffer.split('\n');
        buffer = parts.pop() ?? '';
        all.push(...parts);
      };
      c.stdout.setEncoding('utf8').on('data', onData);
      c.stderr.setEncoding('utf8').on('data', onData);
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (c.exitCode !== null || c.signalCode !== null) {
          throw new Error(`${spec.name} exited (${c.exitCode ?? c.signalCode}):\n${tail}`);
        }
        if (await spec.ready(all.slice(mark)).catch(() => false)) return;
        if (Date.now() > deadline) throw new Error(`${spec.name} not ready in 60 s:\n${tail}`);
        await delay(100);
      }
    },
    async kill() {
      const c = child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return false;
      const exited = once(c, 'exit');
      c.kill('SIGKILL');
      await exited;
      log?.write(`--- ${new Date().toISOString()} SIGKILLed pid ${c.pid}\n`);
      return c.signalCode === 'SIGKILL';
    },
    async stop() {
      const c = child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
      const exited = once(c, 'exit');
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
    tail: () => tail,
    lines: () => all,
  };
  process.once('exit', () => child?.kill('SIGKILL'));
  return svc;
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.ok;
}

function logged(match: RegExp): (lines: string[]) => Promise<boolean> {
  return (lines) => Promise.resolve(lines.some((l) => match.test(l)));
}

export interface SystemOptions {
  dataDir: string;
  redisUrl: string;
  projectId: string;
  adminToken: string;
  authStateKey: string;
  /** Extra settings per service name. */
  extra?: Partial<Record<string, Record<string, string>>>;
}

export interface System {
  store: Service;
  emulator: Service;
  gateway: Service;
  ingest: Service;
  sender: Service;
  api: Service;
  storeHost: string;
  emulatorUrl: string;
  apiUrl: string;
  /** Starts every service in dependency order. */
  startAll(): Promise<void>;
  /** Stops every service (reverse order). */
  stopAll(): Promise<void>;
}

export async function defineSystem(o: SystemOptions): Promise<System> {
  const storePort = await freePort();
  const storeControlPort = await freePort();
  const emulatorPort = await freePort();
  const mediaPort = await freePort();
  const gatewayPort = await freePort();
  const apiPort = await freePort();
  const storeHost = `127.0.0.1:${storePort}`;
  const emulatorDir = join(o.dataDir, 'wa-emulator');
  await mkdir(emulatorDir, { recursive: true });
  const logDir = join(o.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = (name: string): string => join(logDir, `${name}.log`);
  const common = {
    REDIS_URL: o.redisUrl,
    FIREBASE_PROJECT_ID: o.projectId,
    FIRESTORE_EMULATOR_HOST: storeHost,
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    NODE_ENV: 'test',
  };
  const extra = (name: string): Record<string, string> => o.extra?.[name] ?? {};
  const node = (entry: string): string[] => ['--enable-source-maps', join(ROOT, entry)];

  const store = defineService({
    name: 'store',
    logFile: logFile('store'),
    args: [
      join(ROOT, 'libs/emulators/dist/firestore-emulator.main.js'),
      '--port',
      String(storePort),
      '--control-port',
      String(storeControlPort),
      '--snapshot',
      join(o.dataDir, 'firestore.json'),
      '--snapshot-interval-ms',
      '5000',
    ],
    env: {},
    port: storePort,
    ready: () => httpOk(`http://127.0.0.1:${storeControlPort}/health`),
  });
  const emulator = defineService({
    name: 'wa-emulator',
    logFile: logFile('wa-emulator'),
    args: node('libs/wa-emulator/dist/wa-emulator.main.js'),
    env: {
      WA_EMULATOR_PORT: String(emulatorPort),
      WA_EMULATOR_MEDIA_PORT: String(mediaPort),
      WA_EMULATOR_DATA_DIR: emulatorDir,
      WA_EMULATOR_DELIVERED_MS: '100',
      WA_EMULATOR_READ_MS: '200',
      LOG_LEVEL: 'info',
    },
    port: emulatorPort,
    ready: () => httpOk(`http://127.0.0.1:${emulatorPort}/health`),
  });
  const gateway = defineService({
    name: 'wa-gateway',
    logFile: logFile('wa-gateway'),
    args: node('services/wa-gateway/dist/main.js'),
    env: {
      ...common,
      // A fixed identity, as in compose or a StatefulSet: the restarted process is the same
      // instance and replays its own spool.
      INSTANCE_ID: 'gw-chaos',
      WA_DRIVER: 'baileys',
      WA_WEBSOCKET_URL: `ws://127.0.0.1:${emulatorPort}/ws?account={accountId}`,
      NODE_OPTIONS: `--import ${pathToFileURL(join(ROOT, 'libs/wa-emulator/dist/preload.js')).href}`,
      NODE_EXTRA_CA_CERTS: join(emulatorDir, 'wa-emulator-media-ca.pem'),
      WA_MEDIA_HOST_OVERRIDE: `127.0.0.1:${mediaPort}`,
      WHATSAPP_WEB_VERSION_URL: `http://127.0.0.1:${emulatorPort}/sw.js`,
      AUTH_STATE_KEY: o.authStateKey,
      WA_SPOOL_DIR: join(o.dataDir, 'wa-spool'),
      WA_GATEWAY_HEALTH_PORT: String(gatewayPort),
      WA_LEASE_TTL_MS: '4000',
      WA_DISCOVERY_INTERVAL_MS: '500',
      WA_RECONNECT_BASE_MS: '200',
      WA_RECONNECT_MAX_MS: '2000',
      ...extra('wa-gateway'),
    },
    port: gatewayPort,
    ready: () => httpOk(`http://127.0.0.1:${gatewayPort}/sessions`),
  });
  const ingest = defineService({
    name: 'ingest',
    logFile: logFile('ingest'),
    args: node('services/ingest/dist/main.js'),
    env: {
      ...common,
      INSTANCE_ID: 'ingest-chaos',
      // A killed worker's jobs are taken over after seconds, not the production 30 s.
      INGEST_JOB_LOCK_MS: '3000',
      INGEST_STALLED_INTERVAL_MS: '1000',
      INGEST_ACCOUNT_LOCK_TTL_MS: '3000',
      ...extra('ingest'),
    },
    port: 0,
    ready: logged(/ingest consuming/),
  });
  const sender = defineService({
    name: 'outbox-sender',
    logFile: logFile('outbox-sender'),
    args: node('services/outbox-sender/dist/main.js'),
    env: {
      ...common,
      INSTANCE_ID: 'outbox-chaos',
      OUTBOX_RATE_PER_MINUTE: '600',
      OUTBOX_BURST: '10',
      OUTBOX_MIN_RECIPIENT_GAP_MS: '0',
      OUTBOX_JITTER_MS: '0',
      OUTBOX_WARMUP_DAYS: '0',
      OUTBOX_RELAY_AFTER_MS: '3000',
      OUTBOX_RELAY_INTERVAL_MS: '1000',
      ...extra('outbox-sender'),
    },
    port: 0,
    ready: logged(/outbox-sender started/),
  });
  const api = defineService({
    name: 'api-gateway',
    logFile: logFile('api-gateway'),
    args: node('services/api-gateway/dist/main.js'),
    env: {
      ...common,
      INSTANCE_ID: 'api-chaos',
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: o.adminToken,
      WA_EMULATOR_URL: `http://127.0.0.1:${emulatorPort}`,
      RATE_LIMIT_MAX: '100000',
      ...extra('api-gateway'),
    },
    port: apiPort,
    ready: () => httpOk(`http://127.0.0.1:${apiPort}/health`),
  });
  const order = [store, emulator, gateway, ingest, sender, api];
  return {
    store,
    emulator,
    gateway,
    ingest,
    sender,
    api,
    storeHost,
    emulatorUrl: `http://127.0.0.1:${emulatorPort}`,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    async startAll() {
      for (const svc of order) await svc.start();
    },
    async stopAll() {
      for (const svc of [...order].reverse()) await svc.stop();
    },
  };
}

/** One chaos run: its directory, its own Redis (append-only, on a port it keeps), the system. */
export interface ChaosRun {
  dataDir: string;
  redis: RedisServerHandle;
  system: System;
  fb: Firebase;
  adminToken: string;
  /**
   * The API as an admin, through the generated client: every exchange is checked against the
   * served document, under faults too (a 503 while the store is down must be a documented one).
   */
  api: SystemApi;
  /** The WhatsApp network emulator's control API (POST when a body is given). */
  emulator(path: string, body?: unknown): Promise<HttpAnswer>;
  /** Adds accounts through the API and scans the QR each shows; resolves once all are connected. */
  pairAccounts(count: number, name: string): Promise<string[]>;
  /** Stops everything; a failed run keeps its directory (every process's log under logs/). */
  finish(passed: boolean): Promise<void>;
}

export interface HttpAnswer {
  status: number;
  json: Record<string, unknown>;
}

export async function call(
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  try {
    return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: res.status, json: { text } };
  }
}

/**
 * A call made while processes are being killed: no answer (refused, reset, timed out) is
 * undefined, to be retried; an answer the document does not describe still fails the test.
 */
export async function underFaults<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof OpenApiTrafficMismatch) throw error;
    return undefined;
  }
}

/** Retries `fn` until it returns a value (the system is being killed under it). */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms (last error: ${String(last)})`);
    }
    await delay(intervalMs);
  }
}

export async function startChaosRun(name: string): Promise<ChaosRun> {
  const dataDir = await mkdtemp(join(tmpdir(), `wacrm-${name}-`));
  const redis = await startRedisServer({
    dir: join(dataDir, 'redis'),
    appendOnly: true,
    port: await freePort(),
  });
  const adminToken = randomBytes(24).toString('hex');
  const projectId = `demo-${name}`;
  const system = await defineSystem({
    dataDir,
    redisUrl: redis.url,
    projectId,
    adminToken,
    authStateKey: randomBytes(32).toString('hex'),
  });
  await system.startAll();
  const fb = initFirebase({ projectId, firestoreEmulatorHost: system.storeHost });
  const api = await systemApi(system.apiUrl, adminToken);
  const emulator = (path: string, body?: unknown) =>
    call(`${system.emulatorUrl}${path}`, body === undefined ? 'GET' : 'POST', body);
  return {
    dataDir,
    redis,
    system,
    fb,
    adminToken,
    api,
    emulator,
    async pairAccounts(count, label) {
      const ids: string[] = [];
      for (let a = 0; a < count; a++) {
        const added = await api.POST('/api/whatsapp/add-account', {
          body: { name: `${label} ${a}` },
        });
        if (added.response.status !== 201) {
          throw new Error(`add-account: ${added.response.status} ${JSON.stringify(added.error)}`);
        }
        ids.push(added.data!.accountId);
      }
      for (const accountId of ids) {
        await until(
          `${accountId} scanned`,
          async () => {
            const qr = (await collections(fb.db).accounts().doc(accountId).get()).data()?.qr;
            if (typeof qr !== 'string') return undefined;
            const r = await emulator(`/accounts/${accountId}/scan`, { qr });
            return r.status === 202 ? true : undefined;
          },
          60_000,
        );
      }
      await until(
        'every account connected',
        async () => {
          const docs = await Promise.all(
            ids.map((id) => collections(fb.db).accounts().doc(id).get()),
          );
          return docs.every((d) => d.data()?.status === 'connected') ? true : undefined;
        },
        60_000,
      );
      return ids;
    },
    async finish(passed) {
      system.store.child()?.kill('SIGCONT');
      await system.stopAll().catch(() => undefined);
      await redis.stop().catch(() => undefined);
      await fb.close().catch(() => undefined);
      if (passed) await rm(dataDir, { recursive: true, force: true });
      else console.log(`chaos run kept in ${dataDir} (logs/)`);
    },
  };
}
