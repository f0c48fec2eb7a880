// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { createHash } from 'node:crypto';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountStatus } from '@wacrm/contracts';
import { expectEventually, useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { EmulatorSessions } from '../test/emulator-session.js';

const firestore = useTestFirestore();
let redis: TestRedis;
let env: EmulatorSessions;

beforeAll(async () => {
  redis = await useTestRedis();
  env = await EmulatorSessions.start(firestore, redis);
});

afterAll(async () => {
  await env?.close();
  await redis?.cleanup();
  await firestore.close();
});

interface Outcome {
  status: AccountStatus;
  /** Creds still in the auth-state store (no new pairing needed). */
  credsKept: boolean;
  /** The session opened a new socket by itself after the close. */
  reconnects: boolean;
}

/**
 * What a stream error does to a paired account. The emulator forgets the device on 401, 411 and
 * 500, as WhatsApp does when it removes a companion: there the reconnect's login is refused (401)
 * and only that definitive answer discards the creds. A 405 (outdated WhatsApp Web version) with no
 * newer version known stops as `outdated_client` (session-version.int.test.ts covers the newer
 * version). The README's troubleshooting table says the same.
 */
const TABLE: Record<number, Outcome> = {
  401: { status: 'logged_out', credsKept: false, reconnects: false },
  403: { status: 'disconnected', credsKept: true, reconnects: false },
  405: { status: 'outdated_client', credsKept: true, reconnects: false },
  408: { status: 'connected', credsKept: true, reconnects: true },
  411: { status: 'logged_out', credsKept: false, reconnects: true },
  428: { status: 'connected', credsKept: true, reconnects: true },
  440: { status: 'disconnected', credsKept: true, reconnects: false },
  500: { status: 'logged_out', credsKept: false, reconnects: true },
  503: { status: 'connected', credsKept: true, reconnects: true },
  515: { status: 'connected', credsKept: true, reconnects: true },
};

/** Enough for several backoff rounds (base 100 ms, cap 800 ms). */
const SETTLE_MS = 2_000;

describe('stream errors from WhatsApp (real Baileys against the emulator)', () => {
  for (const [code, expected] of Object.entries(TABLE)) {
    it(`when a paired account gets stream error ${code}, then it is ${expected.status}, creds ${expected.credsKept ? 'kept' : 'discarded'}, ${expected.reconnects ? 'reconnecting' : 'not reconnecting'}`, async () => {
      const id = `close-${code}`;
      const session = await env.paired(id);
      const opensBefore = env.opens.get(id)!;
      const fault = await env.control(`/accounts/${id}/faults`, {
        kind: 'stream-error',
        code: Number(code),
      });
      expect(fault.status).toBe(202);
      // The close is seen, then the outcome settles.
      await expectEventually(async () => {
        const seen = (await env.statuses(id)).some((s) => s.disconnectCode === Number(code));
        expect(seen || (env.opens.get(id) ?? 0) > opensBefore).toBe(true);
      });
      await env.waitStatus(session, expected.status);
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      expect(session.status).toBe(expected.status);
      const auth = await env.authOf(id);
      expect(auth.creds).toBe(expected.credsKept);
      if (expected.credsKept) expect(auth.keys).toBeGreaterThan(0);
      expect((env.opens.get(id) ?? 0) > opensBefore).toBe(expected.reconnects);
      if (!expected.reconnects) {
        const opens = env.opens.get(id);
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        expect(env.opens.get(id)).toBe(opens);
      }
    });
  }

  it('when WebSocket errors without a code (Baileys: 500) go on for a while, then the creds are kept and the account connects again without a new QR', async () => {
    const id = 'close-ws-500';
    const proxy = await breakingProxy(new URL(env.emulator.socketUrl(id)).port);
    env.urls.set(id, `ws://127.0.0.1:${proxy.port}/ws?account=${id}`);
    try {
      const session = await env.paired(id);
      proxy.mode = 'bad-frame';
      expect((await env.control(`/accounts/${id}/faults`, { kind: 'drop' })).status).toBe(202);
      // Each new socket gets a frame no WebSocket may send; Baileys reports that error as 500.
      await expectEventually(
        async () => {
          const closes = (await env.statuses(id)).filter((s) => s.disconnectCode === 500);
          expect(proxy.broken).toBeGreaterThanOrEqual(3);
          expect(closes.length).toBeGreaterThanOrEqual(1);
        },
        { timeoutMs: 15_000 },
      );
      expect((await env.authOf(id)).creds).toBe(true);
      proxy.mode = 'forward';
      await env.waitStatus(session, 'connected');
      const qrs = (await env.statuses(id)).filter((s) => s.qr !== null);
      expect(qrs).toHaveLength(1);
      expect(await env.authOf(id)).toMatchObject({ creds: true, revoked: false });
    } finally {
      await proxy.close();
    }
  });
});

/**
 * A TCP proxy to the emulator that can instead accept each new WebSocket and then send a frame
 * with a reserved bit set: the client's WebSocket fails with an error that carries no code.
 */
async function breakingProxy(targetPort: string) {
  const sockets = new Set<Socket>();
  const state = { mode: 'forward' as 'forward' | 'bad-frame', broken: 0 };
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (state.mode === 'bad-frame') {
      client.once('data', (request: Buffer) => {
        const key = /sec-websocket-key: *(\S+)/i.exec(request.toString('latin1'))?.[1] ?? '';
        const accept = createHash('sha1')
          .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
          .digest('base64');
        client.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        state.broken += 1;
        client.write(Buffer.from([0xc2, 0x00]));
      });
      return;
    }
    const upstream = netConnect(Number(targetPort), '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => (sockets.delete(upstream), client.destroy()));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no proxy port');
  return {
    port: address.port,
    set mode(mode: 'forward' | 'bad-frame') {
      state.mode = mode;
    },
    get broken() {
      return state.broken;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
