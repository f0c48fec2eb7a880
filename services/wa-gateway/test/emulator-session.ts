import { randomBytes } from 'node:crypto';
import { Agent as HttpsAgent } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { Agent as UndiciAgent } from 'undici';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { WaInboundQueue, type AccountStateJob, type AccountStatus } from '@wacrm/contracts';
import { createLogger, type Logger } from '@wacrm/observability';
import { openQueue, type ContractQueue } from '@wacrm/queue';
import { expectEventually, type TestFirestore, type TestRedis } from '@wacrm/testing';
import { WaEmulator, type WaEmulatorOptions } from '@wacrm/wa-emulator';
import { FirestoreAuthStateStore } from '../src/data-access/auth-state.store.js';
import { InboundPublisher } from '../src/data-access/inbound-publisher.js';
import { LeaseStore } from '../src/data-access/lease.store.js';
import { sentMessageReader } from '../src/data-access/sent-messages.js';
import { Spool } from '../src/data-access/spool.js';
import { AccountSession, type SessionDeps } from '../src/domain/account-session.js';
import { AuthCipher } from '../src/domain/auth-cipher.js';
import { baileysDriver, type BaileysDriverOptions } from '../src/drivers/baileys.driver.js';
import { buildIngestDeps } from '../../ingest/src/ingest.composition.js';
import type { OpenOptions, WaDriver } from '../src/drivers/driver.port.js';

/**
 * Test-only: real AccountSessions with the real Baileys driver against an in-process WhatsApp
 * network emulator, real leases and wa-inbound publisher (Redis) and the Firestore auth-state
 * store. The test process must import `@wacrm/wa-emulator/preload` before anything else.
 */
export class EmulatorSessions {
  readonly logger: Logger = createLogger({
    service: 'wa-gateway',
    version: 'test',
    level: 'silent',
  });
  readonly sessions: AccountSession[] = [];
  /** Sockets opened per account (every reconnect opens one). */
  readonly opens = new Map<string, number>();
  readonly inbound: ContractQueue<typeof WaInboundQueue>;
  readonly leases: LeaseStore;
  readonly store: FirestoreAuthStateStore;
  readonly publisher: InboundPublisher;
  /** Driver options a test sets before it opens a session (e.g. a shorter keys hold). */
  driverOptions: Pick<BaileysDriverOptions, 'keysHoldMaxMs'> = {};
  /** Where each account's socket goes; a test may point one at a proxy. */
  readonly urls = new Map<string, string>();

  private constructor(
    readonly emulator: WaEmulator,
    private readonly dirs: string[],
    readonly firestore: TestFirestore,
    readonly redis: TestRedis,
    private readonly producer: Redis,
    private readonly spool: Spool,
    readonly instanceId: string,
  ) {
    this.inbound = openQueue(WaInboundQueue, { connection: producer, prefix: redis.prefix });
    this.leases = new LeaseStore(producer, redis.prefix, instanceId, 30_000);
    this.store = new FirestoreAuthStateStore(
      firestore.db,
      new AuthCipher(randomBytes(32)),
      instanceId,
    );
    this.publisher = new InboundPublisher(this.inbound, producer, spool, this.logger);
  }

  static async start(
    firestore: TestFirestore,
    redis: TestRedis,
    emulatorOptions: Partial<Omit<WaEmulatorOptions, 'logger' | 'dataDir'>> = {},
  ): Promise<EmulatorSessions> {
    const dataDir = await mkdtemp(join(tmpdir(), 'wa-emu-session-'));
    const spoolDir = await mkdtemp(join(tmpdir(), 'wa-spool-'));
    const logger = createLogger({ service: 'wa-emulator', version: 'test', level: 'silent' });
    const emulator = await WaEmulator.start({ ...emulatorOptions, logger, dataDir });
    const producer = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    await producer.ping();
    const instanceId = `gw-${randomBytes(3).toString('hex')}`;
    const spool = new Spool({ dir: spoolDir, instanceId, orphanAfterMs: 60_000 });
    await spool.open();
    return new EmulatorSessions(
      emulator,
      [dataDir, spoolDir],
      firestore,
      redis,
      producer,
      spool,
      instanceId,
    );
  }

  /** The real Baileys driver, one socket URL per account, counting the sockets it opens. */
  private driver(): WaDriver {
    return {
      name: 'baileys',
      open: (options: OpenOptions) => {
        this.opens.set(options.accountId, (this.opens.get(options.accountId) ?? 0) + 1);
        const url = this.urls.get(options.accountId) ?? this.emulator.socketUrl(options.accountId);
        return baileysDriver({
          waWebSocketUrl: url,
          connectTimeoutMs: 10_000,
          media: this.mediaOptions(),
          ...this.driverOptions,
        }).open(options);
      },
    };
  }

  /**
   * The emulator's media CDN through Baileys' own options: uploads with `fetchAgent`, downloads
   * (history chunks come from https://mmg.whatsapp.net) with a dispatcher that dials the CDN.
   */
  private mediaOptions() {
    const ca = this.emulator.mediaCertPem;
    const host = this.emulator.mediaHost;
    const port = Number(host.slice(host.lastIndexOf(':') + 1));
    this.dispatcher ??= new UndiciAgent({
      connect: (opts, callback) => {
        const socket = tlsConnect({
          host: '127.0.0.1',
          port,
          ca,
          servername: opts.hostname === '127.0.0.1' ? undefined : opts.hostname,
          ALPNProtocols: ['http/1.1'],
        });
        socket.once('secureConnect', () => callback(null, socket));
        socket.once('error', (error: Error) => callback(error, null));
      },
    });
    return { fetchAgent: new HttpsAgent({ ca }), options: { dispatcher: this.dispatcher } };
  }

  private dispatcher: UndiciAgent | undefined;

  deps(overrides: Partial<SessionDeps> = {}): SessionDeps {
    return {
      driver: this.driver(),
      store: this.store,
      leases: this.leases,
      publisher: this.publisher,
      statusWriter: null,
      instanceId: this.instanceId,
      logger: this.logger,
      syncFullHistory: false,
      backoffBaseMs: 100,
      backoffMaxMs: 800,
      fetchMedia: () => Promise.reject(new Error('no media fetches in these tests')),
      historyAnchors: () => Promise.resolve([]),
      sentMessage: sentMessageReader(this.firestore.db),
      ...overrides,
    };
  }

  /** Acquires the account's lease and starts a session for it. */
  async open(accountId: string, overrides: Partial<SessionDeps> = {}): Promise<AccountSession> {
    const lease = await this.leases.acquire(accountId);
    if (!lease) throw new Error(`lease of ${accountId} is held elsewhere`);
    const session = new AccountSession(accountId, lease, this.deps(overrides), () => undefined);
    this.sessions.push(session);
    await session.start();
    return session;
  }

  /** Every account-status job published for the account, in order. */
  async statuses(accountId: string): Promise<AccountStateJob[]> {
    const jobs = await this.inbound.queue.getJobs(['waiting', 'delayed', 'completed', 'failed']);
    return jobs
      .filter((j) => j.name === 'update-account')
      .map((j) => j.data as AccountStateJob)
      .filter((d) => d.accountId === accountId)
      .sort((a, b) => a.observedAt.localeCompare(b.observedAt));
  }

  async waitStatus(session: AccountSession, status: AccountStatus, timeoutMs = 20_000) {
    await expectEventually(() => expect(session.status).toBe(status), { timeoutMs });
  }

  /** The QR the session last published. */
  async qrOf(accountId: string): Promise<string> {
    let qr: string | null = null;
    await expectEventually(
      async () => {
        const withQr = (await this.statuses(accountId)).filter((s) => s.qr !== null);
        qr = withQr.at(-1)?.qr ?? null;
        expect(qr).not.toBeNull();
      },
      { timeoutMs: 20_000 },
    );
    return qr!;
  }

  async control(path: string, body: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${this.emulator.controlUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  }

  /** Starts a session for a fresh account and pairs it by QR; resolves once it is connected. */
  async paired(accountId: string, overrides: Partial<SessionDeps> = {}): Promise<AccountSession> {
    const session = await this.open(accountId, overrides);
    const qr = await this.qrOf(accountId);
    const scan = await this.control(`/accounts/${accountId}/scan`, { qr });
    expect(scan.status).toBe(202);
    await this.waitStatus(session, 'connected');
    await this.authOf(accountId, true);
    return session;
  }

  /**
   * What the auth-state store holds for the account: creds present, revoked, key count. With
   * `untilCreds`, waits until the creds have been written.
   */
  async authOf(
    accountId: string,
    untilCreds = false,
  ): Promise<{ creds: boolean; revoked: boolean; keys: number }> {
    let result = { creds: false, revoked: false, keys: 0 };
    const read = async () => {
      const stored = await this.store.load(accountId);
      result = { creds: stored.creds !== null, revoked: stored.revoked, keys: stored.keys.size };
    };
    if (untilCreds)
      await expectEventually(async () => (await read(), expect(result.creds).toBe(true)));
    else await read();
    return result;
  }

  private ingestConnection: Redis | undefined;

  /** A real ingest's dependencies (its own Redis connection), to follow a message into Firestore. */
  ingestDeps(): ReturnType<typeof buildIngestDeps> {
    this.ingestConnection ??= new Redis(this.redis.url, { maxRetriesPerRequest: null });
    return buildIngestDeps({
      db: this.firestore.db,
      redis: this.ingestConnection,
      publisher: this.ingestConnection,
      prefix: this.redis.prefix,
      logger: this.logger,
      maxWrites: 450,
      lockTtlMs: 10_000,
      lockWaitMs: 10_000,
    });
  }

  async close(): Promise<void> {
    this.ingestConnection?.disconnect();
    await Promise.all(this.sessions.splice(0).map((s) => s.stop(true)));
    this.publisher.stop();
    await this.inbound.queue.close();
    await this.emulator.stop();
    await this.dispatcher?.close();
    await this.spool.close();
    this.producer.disconnect();
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}
