// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { DEFAULT_CONNECTION_CONFIG } from '@whiskeysockets/baileys';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@wacrm/observability';
import { parseOutboundPolicy } from '@wacrm/net';
import { useTestFirestore, useTestRedis, type TestRedis } from '@wacrm/testing';
import { versionFetchPolicy, WaWebVersionSource } from './data-access/wa-web-version.js';
import { EmulatorSessions } from '../test/emulator-session.js';

const firestore = useTestFirestore();
let redis: TestRedis;
let env: EmulatorSessions;
let connection: Redis;

/** Baileys' bundled WhatsApp Web revision; the emulator's current one is newer, so it is outdated. */
const BUNDLED = DEFAULT_CONNECTION_CONFIG.version[2];
const CURRENT = BUNDLED + 1;

beforeAll(async () => {
  redis = await useTestRedis();
  env = await EmulatorSessions.start(firestore, redis);
  env.emulator.currentClientRevision = CURRENT;
  connection = new Redis(redis.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  connection?.disconnect();
  await env?.close();
  await redis?.cleanup();
  await firestore.close();
});

function source(options: { url?: string; override?: string } = {}) {
  return new WaWebVersionSource({
    url: options.url ?? `${env.emulator.controlUrl}/sw.js`,
    ...(options.override !== undefined ? { override: options.override } : {}),
    // The emulator is on loopback: trusted here, as OUTBOUND_ALLOW_HOSTS would in a local run.
    policy: parseOutboundPolicy(['127.0.0.1']),
    redis: connection,
    prefix: redis.prefix,
    logger: createLogger({ service: 'wa-gateway', version: 'test', level: 'silent' }),
    timeoutMs: 2_000,
  });
}

const SETTLE_MS = 2_000;

describe('WhatsApp Web version (real Baileys against the emulator)', () => {
  it('when WhatsApp refuses the bundled version (405) and no newer one is known, then the account is outdated_client and stops reconnecting', async () => {
    const id = 'version-outdated';
    const session = await env.open(id);
    await env.waitStatus(session, 'outdated_client');
    const opens = env.opens.get(id);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    expect(env.opens.get(id)).toBe(opens);
    expect(session.status).toBe('outdated_client');
    const last = (await env.statuses(id)).at(-1);
    expect(last).toMatchObject({ status: 'outdated_client', disconnectCode: 405 });
  });

  it('when WhatsApp refuses the version and publishes a newer one, then the session reads it, connects with it and keeps it for later', async () => {
    const id = 'version-fetched';
    const session = await env.paired(id, { webVersion: source() });
    expect(session.status).toBe('connected');
    const cached = JSON.parse((await connection.get(`${redis.prefix}:wa:web-version`))!) as {
      version: number[];
    };
    expect(cached.version).toEqual([2, 3000, CURRENT]);
  });

  it('when the current version cannot be read, then the last one read (Redis) is used', async () => {
    const id = 'version-cached';
    const unreachable = source({ url: `${env.emulator.controlUrl}/no-such-page` });
    expect(await unreachable.refresh()).toEqual([2, 3000, CURRENT]);
    const session = await env.paired(id, { webVersion: unreachable });
    expect(session.status).toBe('connected');
  });

  it('when WHATSAPP_WEB_VERSION is set, then it is announced without any fetch', async () => {
    const id = 'version-override';
    const pinned = source({ url: 'http://127.0.0.1:9/sw.js', override: `2.3000.${CURRENT}` });
    expect(pinned.current).toEqual([2, 3000, CURRENT]);
    const session = await env.paired(id, { webVersion: pinned });
    expect(session.status).toBe('connected');
    expect(env.opens.get(id)).toBe(2); // the pairing socket and the one after 515, no 405
  });
  it('when the version URL is the emulator on loopback (npm start) and no host is allowed, then the version is read from it: the configured URL is trusted, nothing else on loopback is', async () => {
    const url = `${env.emulator.controlUrl}/sw.js`;
    const policy = versionFetchPolicy(url, []);
    env.emulator.currentClientRevision = null;
    try {
      const embedded = new WaWebVersionSource({
        url,
        policy,
        redis: connection,
        prefix: `${redis.prefix}:embedded`,
        logger: createLogger({ service: 'wa-gateway', version: 'test', level: 'silent' }),
        timeoutMs: 2_000,
      });
      // An emulator that pins no version announces the one Baileys bundles, which it accepts.
      expect(await embedded.refresh()).toEqual([2, 3000, BUNDLED]);
    } finally {
      env.emulator.currentClientRevision = CURRENT;
    }
    expect(policy.allow).toEqual(['127.0.0.1']);
    expect(versionFetchPolicy('https://web.whatsapp.com/sw.js', ['10.0.0.0/8']).allow).toEqual([
      '10.0.0.0/8',
      'web.whatsapp.com',
    ]);
  });
});
