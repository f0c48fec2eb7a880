// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import '@wacrm/wa-emulator/preload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('pairing (real Baileys against the emulator)', () => {
  it('when a pairing code is requested and never entered, then the next socket shows a new QR (not logged_out) and a scan still pairs', async () => {
    const id = 'pair-abandoned-code';
    const session = await env.open(id);
    const firstQr = await env.qrOf(id);
    await session.requestPairingCode('+40712345678');
    await expectEventually(async () =>
      expect((await env.statuses(id)).some((s) => s.pairingCode !== null)).toBe(true),
    );
    const opens = env.opens.get(id)!;
    // The connection ends before anyone types the code (network drop, QR window over, restart).
    expect((await env.control(`/accounts/${id}/faults`, { kind: 'drop' })).status).toBe(202);
    await expectEventually(() => expect(env.opens.get(id)).toBeGreaterThan(opens));
    let qr = firstQr;
    await expectEventually(
      async () => {
        qr = await env.qrOf(id);
        expect(qr).not.toBe(firstQr);
      },
      { timeoutMs: 20_000 },
    );
    const seen = (await env.statuses(id)).map((s) => s.status);
    expect(seen).not.toContain('logged_out');
    expect((await env.authOf(id)).revoked).toBe(false);
    const scan = await env.control(`/accounts/${id}/scan`, { qr });
    expect(scan.status).toBe(202);
    await env.waitStatus(session, 'connected');
    expect(await env.authOf(id, true)).toMatchObject({ creds: true, revoked: false });
  });
});
