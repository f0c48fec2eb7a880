import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  waCommandsQueue,
  WaInboundQueue,
  waMessageIdFor,
  type IdentityMappingsJob,
  type IngestMessagesJob,
  type MessageUpdatesJob,
  type ReceiptsJob,
  type SendResultJob,
} from '@wacrm/contracts';
import { collections } from '@wacrm/firestore';
import { enqueue, openQueue } from '@wacrm/queue';
import {
  expectEventually,
  spawnNodeProcess,
  useTestFirestore,
  useTestRedis,
  type TestRedis,
} from '@wacrm/testing';
import {
  buildGateway,
  createAccounts,
  emulatorAccounts,
  emulatorGatewayEnv,
  newAuthStateKey,
  scanShownQr,
  startEmulator,
  startGateway,
  waitEmulatorConnected,
  type Emulator,
  type Proc,
} from '../test/harness.js';

// Issue 13: real wa-gateway processes with real Baileys sockets against the WhatsApp network
// emulator (its own process), as `npm start` runs them. Nothing here talks to a simulator.

interface InboundJobs {
  'ingest-messages': IngestMessagesJob;
  'map-identities': IdentityMappingsJob;
  'update-messages': MessageUpdatesJob;
  'apply-receipts': ReceiptsJob;
  'record-send-result': SendResultJob;
}

const ACCOUNT = 'acc-real-1';
const firestore = useTestFirestore();
let redis: TestRedis;
let emulator: Emulator;
let inbound: Queue;
const authStateKey = newAuthStateKey();
const started: Proc[] = [];

async function gateway(instanceId: string): Promise<Proc> {
  const g = await startGateway({
    instanceId,
    redisUrl: redis.url,
    prefix: redis.prefix,
    firestoreEnv: firestore.env,
    emulator,
    authStateKey,
  });
  started.push(g);
  return g;
}

async function inboundJobs<N extends keyof InboundJobs>(name: N): Promise<Array<InboundJobs[N]>> {
  const jobs = await inbound.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
  return jobs.filter((j) => j.name === name).map((j) => j.data as InboundJobs[N]);
}

const logged = (proc: Proc, msg: string) => proc.lines.filter((l) => l.msg === msg);

beforeAll(async () => {
  buildGateway();
  redis = await useTestRedis();
  emulator = await startEmulator();
  inbound = new Queue(WaInboundQueue.name, { connection: redis.connection, prefix: redis.prefix });
  await createAccounts(firestore.db, [ACCOUNT]);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(started.map((p) => p.stop('SIGKILL')));
  await emulator?.proc.stop();
  await inbound?.close();
  await redis?.cleanup();
  await firestore.close();
});

describe('wa-gateway with real Baileys against the WhatsApp network emulator', () => {
  let gw: Proc;

  it('when the QR the account shows is scanned, then the account is connected', async () => {
    gw = await gateway('gw-real-0');
    const t0 = Date.now();
    await scanShownQr(emulator, firestore.db, ACCOUNT);
    await waitEmulatorConnected(emulator, firestore.db, [ACCOUNT]);
    console.log(`QR scan -> connected: ${Date.now() - t0} ms`);
    expect(logged(gw, 'wa-gateway started')[0]).toMatchObject({
      driver: 'baileys',
      whatsappRoot: 'test',
    });
    const [account] = await emulatorAccounts(emulator);
    expect(account?.devices).toEqual([expect.objectContaining({ deviceId: 1, connected: true })]);
  }, 120_000);

  it('when the gateway is restarted 3 times, then it reconnects each time from the encrypted keys in Firestore with no new scan', async () => {
    const stored = (await collections(firestore.db).accounts().doc(ACCOUNT).get()).data();
    expect(stored?.status).toBe('connected');
    for (let restart = 1; restart <= 3; restart += 1) {
      await gw.stop('SIGTERM');
      const t0 = Date.now();
      gw = await gateway(`gw-real-${restart}`);
      await expectEventually(
        () => {
          expect(logged(gw, 'connected')).toHaveLength(1);
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      console.log(`restart ${restart}: process start -> connected ${Date.now() - t0} ms`);
      expect(logged(gw, 'Session restored from Firestore')).toHaveLength(1);
      // No QR was shown: the account never left the paired state.
      expect(gw.lines.filter((l) => l.msg === 'qr_ready' || l.status === 'qr_ready')).toEqual([]);
      await waitEmulatorConnected(emulator, firestore.db, [ACCOUNT]);
      const [account] = await emulatorAccounts(emulator);
      expect(account?.awaitingScan).toBe(false);
      // The same linked device each time, not a new pairing.
      expect(account?.devices.map((d) => d.deviceId)).toEqual([1]);
    }
    const doc = (await collections(firestore.db).accounts().doc(ACCOUNT).get()).data();
    expect(doc).toMatchObject({ status: 'connected', qr: null });
  }, 300_000);

  it('when a LID-addressed contact writes, then wa-inbound gets the decrypted text and the phone number behind the LID', async () => {
    const res = await fetch(`${emulator.url}/accounts/${ACCOUNT}/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+40722333444', name: 'Ana', text: 'Bună, vreau Elsa' }),
    });
    expect(res.status).toBe(202);
    const [id] = ((await res.json()) as { messageIds: string[] }).messageIds;
    await expectEventually(
      async () => {
        const message = (await inboundJobs('ingest-messages'))
          .flatMap((j) => j.messages)
          .find((m) => m.key.id === id);
        expect(message?.key.remoteJid).toMatch(/@lid$/);
        expect(message).toMatchObject({
          key: { fromMe: false },
          pushName: 'Ana',
          message: { conversation: 'Bună, vreau Elsa' },
          undecryptable: false,
        });
        const mappings = (await inboundJobs('map-identities')).flatMap((j) => j.mappings);
        expect(mappings).toContainEqual({
          lid: message!.key.remoteJid,
          pn: '40722333444@s.whatsapp.net',
        });
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }, 60_000);

  it('when a send command runs, then the contact decrypts the exact text and the statuses reach read', async () => {
    const commands = openQueue(waCommandsQueue(ACCOUNT), {
      connection: redis.connection,
      prefix: redis.prefix,
    });
    const requestId = 'req-real-0001';
    const text = 'Confirmăm rezervarea: sâmbătă, 12:00 🎈';
    await enqueue(commands, 'send-message', {
      requestId,
      accountId: ACCOUNT,
      to: '+40722333444',
      waMessageId: waMessageIdFor(requestId),
      text,
    });
    await expectEventually(
      async () => {
        const sent = (await (await fetch(`${emulator.url}/accounts/${ACCOUNT}/sent`)).json()) as {
          messages: Array<{ messageId: string; text: string | null; resends: number }>;
        };
        expect(sent.messages).toContainEqual(
          expect.objectContaining({ messageId: waMessageIdFor(requestId), text, resends: 0 }),
        );
        expect(await inboundJobs('record-send-result')).toContainEqual(
          expect.objectContaining({ requestId, outcome: 'sent' }),
        );
        // Delivery (3) then read (4), from the contact's receipts, as Baileys reports them.
        const statuses = (await inboundJobs('update-messages'))
          .flatMap((j) => j.updates)
          .filter((u) => u.key.id === waMessageIdFor(requestId))
          .map((u) => u.status);
        expect(statuses).toContain(4);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await commands.queue.close();
  }, 60_000);
});

describe('the production configuration of wa-gateway', () => {
  /** The settings every service gets in Kubernetes (deploy/k8s/config.yaml), as env. */
  async function productionEnv(): Promise<Record<string, string>> {
    const text = await readFile(
      join(import.meta.dirname, '../../../deploy/k8s/config.yaml'),
      'utf8',
    );
    const data = text.slice(text.indexOf('\ndata:') + 6);
    const env: Record<string, string> = {};
    for (const line of data.split('\n')) {
      const m = /^ {2}([A-Z_]+): '?([^']*)'?$/.exec(line);
      if (m) env[m[1]!] = m[2]!;
    }
    delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
    return env;
  }

  it('when started as deployed (no preload), then Baileys keeps WhatsApp certificate root', async () => {
    const env = await productionEnv();
    expect(env).toMatchObject({ NODE_ENV: 'production', WA_DRIVER: 'baileys' });
    expect(Object.keys(env)).not.toContain('NODE_OPTIONS');
    const g = await startGateway({
      instanceId: 'gw-prod-shape',
      redisUrl: redis.url,
      prefix: `${redis.prefix}-prod`,
      // Only the store differs from a deployment: the test's Firestore emulator, allowed here.
      firestoreEnv: { ...firestore.env, ALLOW_EMULATORS_IN_PRODUCTION: 'true' },
      authStateKey,
      extra: { ...env, WA_DISCOVERY_INTERVAL_MS: '60000' },
    });
    started.push(g);
    await expectEventually(
      () => {
        expect(logged(g, 'wa-gateway started')[0]).toMatchObject({
          driver: 'baileys',
          whatsappRoot: 'whatsapp',
        });
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await g.stop('SIGTERM');
  }, 60_000);

  it('when the emulator preload is loaded with NODE_ENV=production, then start-up is refused', async () => {
    const env = await productionEnv();
    const g = spawnNodeProcess({
      name: 'gw-prod-preload',
      entry: join(import.meta.dirname, '../dist/main.js'),
      cwd: join(import.meta.dirname, '../../..'),
      env: {
        ...firestore.env,
        ...env,
        ALLOW_EMULATORS_IN_PRODUCTION: 'true',
        INSTANCE_ID: 'gw-prod-preload',
        REDIS_URL: redis.url,
        QUEUE_PREFIX: `${redis.prefix}-prod2`,
        AUTH_STATE_KEY: authStateKey,
        WA_GATEWAY_HEALTH_PORT: '0',
        NODE_OPTIONS: emulatorGatewayEnv(emulator).NODE_OPTIONS!,
      },
    });
    started.push(g);
    expect(await g.exited).toBe(78);
    expect(g.lines.map((l) => l.msg)).toContain(
      'the WhatsApp network emulator preload is loaded (NODE_OPTIONS); refused with NODE_ENV=production',
    );
  }, 60_000);
});
