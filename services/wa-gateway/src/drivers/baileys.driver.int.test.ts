import { initAuthCreds } from '@whiskeysockets/baileys';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { freePort } from '@wacrm/emulators';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { createLogger } from '@wacrm/observability';
import {
  buildGateway,
  createAccounts,
  newAuthStateKey,
  startGateway,
  type Proc,
} from '../../test/harness.js';
import { decideOnClose, type CloseDecision } from '../domain/reconnect-policy.js';
import { baileysDriver } from './baileys.driver.js';
import { disconnectCodeOf, type WaEvents } from './driver.port.js';

type Behaviour = 'close' | 'garbage' | 'silent';

/** A local stand-in for WhatsApp's WebSocket endpoint that misbehaves in one chosen way. */
async function fakeWhatsApp(behaviour: Behaviour) {
  const port = await freePort();
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  const connections: number[] = [];
  wss.on('connection', (ws: WebSocket) => {
    connections.push(Date.now());
    ws.on('message', () => {
      if (behaviour === 'close') ws.close(1011, 'server going away');
      // A frame that is not a Noise server hello: Baileys fails validating the connection.
      if (behaviour === 'garbage') ws.send(Buffer.from([0, 0, 5, 1, 2, 3, 4, 5]));
    });
  });
  await new Promise((r) => wss.once('listening', r));
  return {
    url: `ws://127.0.0.1:${port}/ws/chat`,
    connections,
    close: () => new Promise<void>((r) => wss.close(() => r())),
  };
}

const logger = createLogger({ service: 'test', version: '0', level: 'silent' });
const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Opens a real Baileys socket against `url` and returns the close's code and policy decision. */
async function closeOf(
  url: string,
): Promise<{ code: number | undefined; decision: CloseDecision }> {
  return new Promise((resolve) => {
    const conn = baileysDriver({ waWebSocketUrl: url, connectTimeoutMs: 1_500 }).open({
      accountId: 'acc-b',
      instanceId: 'test',
      logger,
      syncFullHistory: false,
      auth: { creds: initAuthCreds(), keys: { get: () => ({}), set: () => undefined } },
      onEvents: (events: WaEvents) => {
        const update = events['connection.update'];
        if (update?.connection === 'close') {
          const code = disconnectCodeOf(update.lastDisconnect?.error);
          void conn.end();
          resolve({
            code,
            decision: decideOnClose(
              { code, registered: false, attempt: 0, qrShown: false },
              { baseMs: 1_000, maxMs: 60_000, random: 0.5 },
            ),
          });
        }
        return Promise.resolve();
      },
    });
  });
}

describe('the baileys driver against a local WebSocket server (real Baileys)', () => {
  it('when the server closes the WebSocket, then Baileys reports 428 and the policy reconnects', async () => {
    const server = await fakeWhatsApp('close');
    servers.push(server);
    const { code, decision } = await closeOf(server.url);
    expect(code).toBe(428);
    expect(decision.action).toBe('reconnect');
  });

  it('when the server never answers the handshake, then Baileys reports 408 and the policy reconnects', async () => {
    const server = await fakeWhatsApp('silent');
    servers.push(server);
    const { code, decision } = await closeOf(server.url);
    expect(code).toBe(408);
    // No QR was shown, so this is a timeout, not expired QRs: reconnect, not needs_qr.
    expect(decision.action).toBe('reconnect');
  });

  it('when the server answers with a broken handshake, then the close has no code and the policy backs off', async () => {
    const server = await fakeWhatsApp('garbage');
    servers.push(server);
    const { code, decision } = await closeOf(server.url);
    expect(code).toBeUndefined();
    expect(decision).toMatchObject({ action: 'reconnect' });
    expect((decision as { delayMs: number }).delayMs).toBeGreaterThan(0);
  });

  it('when nothing listens on the address, then the policy reconnects with backoff', async () => {
    const { decision } = await closeOf(`ws://127.0.0.1:${await freePort()}/ws/chat`);
    expect(decision.action).toBe('reconnect');
  });
});

describe('a wa-gateway process with WA_DRIVER=baileys', () => {
  const firestore = useTestFirestore();
  let redis: TestRedis;
  let gateway: Proc | undefined;
  beforeAll(async () => {
    buildGateway();
    redis = await useTestRedis();
  });
  afterAll(async () => {
    await gateway?.stop('SIGKILL');
    await redis?.cleanup();
    await firestore.close();
  });

  it('when WhatsApp keeps closing the socket, then the gateway reconnects with growing backoff and reports connecting', async () => {
    const server = await fakeWhatsApp('close');
    servers.push(server);
    await createAccounts(firestore.db, ['acc-real']);
    gateway = await startGateway({
      instanceId: 'gw-baileys',
      redisUrl: redis.url,
      prefix: redis.prefix,
      firestoreEnv: firestore.env,
      authStateKey: newAuthStateKey(),
      extra: {
        WA_DRIVER: 'baileys',
        WA_WEBSOCKET_URL: server.url,
        WA_RECONNECT_BASE_MS: '200',
        WA_RECONNECT_MAX_MS: '1600',
      },
    });
    await expectEventually(() => expect(server.connections.length).toBeGreaterThanOrEqual(5), {
      timeoutMs: 30_000,
    });
    const gaps = server.connections.slice(1).map((t, i) => t - server.connections[i]!);
    // Equal-jitter exponential backoff: attempt n waits between base·2^n/2 and base·2^n.
    expect(gaps[0]!).toBeGreaterThanOrEqual(90);
    expect(gaps[3]!).toBeGreaterThanOrEqual(700);
    const closes = gateway.lines.filter((l) => l.msg === 'socket closed');
    expect(closes.every((l) => l.code === 428)).toBe(true);
    await expectEventually(async () => {
      const account = await firestore.db.collection('accounts').doc('acc-real').get();
      expect(account.get('status')).toBe('connecting');
      expect(account.get('lastError')).toBe('connection closed (428)');
    });
  });
});
