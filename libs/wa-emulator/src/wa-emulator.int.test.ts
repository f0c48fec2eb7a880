// The preload swaps Baileys' certificate root for the emulator's test root in this process.
import './preload.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@wacrm/observability';
import { connectClient, MemoryAuth, type ClientRun } from './baileys-client.fixture.js';
import { STATE_FILE_NAME } from './emulator-state.store.js';
import { WaEmulator } from './wa-emulator.server.js';

interface SavedState {
  accounts: Record<string, { devices: Record<string, { preKeys: object }> }>;
}

const logger = createLogger({ service: 'wa-emulator', version: 'test', level: 'silent' });

let dataDir: string;
let emulator: WaEmulator;
const runs: ClientRun[] = [];

function connect(accountId: string, auth: MemoryAuth, keepAliveIntervalMs?: number): ClientRun {
  const run = connectClient(
    emulator.socketUrl(accountId),
    auth,
    keepAliveIntervalMs !== undefined ? { keepAliveIntervalMs } : {},
  );
  runs.push(run);
  return run;
}

async function control(path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${emulator.controlUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** Pairs a fresh client of `accountId` by QR and returns its auth once it has opened again. */
async function pair(accountId: string): Promise<{ auth: MemoryAuth; openMs: number }> {
  const auth = new MemoryAuth();
  const first = connect(accountId, auth);
  const qr = await first.qr;
  const scan = await control(`/accounts/${accountId}/scan`, { qr });
  expect(scan.status).toBe(202);
  expect(await first.closed).toBe(515);
  const second = connect(accountId, auth);
  const openMs = await second.opened;
  return { auth, openMs };
}

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wa-emulator-'));
  emulator = await WaEmulator.start({ logger, dataDir });
});

afterEach(async () => {
  await Promise.all(runs.splice(0).map((run) => run.socket.end(undefined)));
  await emulator.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('wa-emulator with real Baileys', () => {
  it('when the phone scans the QR, then the client restarts (515), logs in registered and opens quickly', async () => {
    const auth = new MemoryAuth();
    const first = connect('acc-qr', auth);
    const qr = await first.qr;
    expect(qr).toMatch(/^https:\/\/wa\.me\/settings\/linked_devices#/);
    expect(auth.creds.me).toBeUndefined();

    const scan = await control('/accounts/acc-qr/scan', { qr });
    expect(scan.status).toBe(202);
    expect(await first.closed).toBe(515);
    const account = emulator.accountViews().find((a) => a.accountId === 'acc-qr');
    expect(auth.creds.me?.id).toBe(`${account?.phone}:1@s.whatsapp.net`);
    expect(auth.creds.me?.lid).toBe(`${account?.lid}:1@lid`);
    expect(auth.creds.account?.deviceSignature?.length).toBe(64);

    const second = connect('acc-qr', auth);
    const openMs = await second.opened;
    console.info(`[wa-emulator] socket creation to 'open' after pairing: ${openMs} ms`);
    expect(openMs).toBeLessThan(5000);
    expect(second.qrs).toEqual([]);
    // The first login uploads Baileys' initial 812 pre-keys, which the emulator stores; the phone's
    // history bootstrap then takes one to open its Signal session.
    await expect
      .poll(() => emulator.accountViews().find((a) => a.accountId === 'acc-qr')?.devices[0])
      .toMatchObject({ deviceId: 1, connected: true, preKeys: 812 - 1 });
    await expect
      .poll(async () => {
        const text = await readFile(join(dataDir, STATE_FILE_NAME), 'utf8');
        const state = JSON.parse(text) as SavedState;
        return Object.keys(state.accounts['acc-qr']?.devices['1']?.preKeys ?? {}).length;
      })
      .toBe(812 - 1);
  });

  it('when a scan names a QR no client shows, then it is refused and nothing pairs', async () => {
    const auth = new MemoryAuth();
    const run = connect('acc-wrong', auth);
    const qr = await run.qr;
    const [prefix, fields] = qr.split('#');
    const forged = `${prefix}#not-a-ref,${fields!.split(',').slice(1).join(',')}`;
    const refused = await control('/accounts/acc-wrong/scan', { qr: forged });
    expect(refused.status).toBe(409);
    const otherAccount = await control('/accounts/acc-other/scan', { qr });
    expect(otherAccount.status).toBe(409);
    const invalid = await control('/accounts/acc-wrong/scan', { qr: 42 });
    expect(invalid.status).toBe(400);
    expect(auth.creds.me).toBeUndefined();
  });

  it('when both the emulator and the client restart, then the saved creds open again without a QR', async () => {
    const { auth } = await pair('acc-restart');
    await Promise.all(runs.splice(0).map((run) => run.socket.end(undefined)));
    await emulator.stop();

    emulator = await WaEmulator.start({ logger, dataDir });
    const again = connect('acc-restart', auth.reloaded());
    const openMs = await again.opened;
    console.info(`[wa-emulator] restart of emulator and client to 'open': ${openMs} ms`);
    expect(openMs).toBeLessThan(5000);
    expect(again.qrs).toEqual([]);
  });

  it('when creds the network never paired log in, then the login fails with 401', async () => {
    const { auth } = await pair('acc-known');
    const stranger = auth.reloaded();
    // Same account and device id, but another noise key: not the paired device.
    Object.assign(stranger.creds, { noiseKey: new MemoryAuth().creds.noiseKey });
    const run = connect('acc-known', stranger);
    expect(await run.closed).toBe(401);
  });

  it.each([401, 440, 500, 503, 515, 428, 408, 411])(
    'when the network closes the stream with %i, then Baileys reports that code',
    async (code) => {
      const { auth } = await pair(`acc-${code}`);
      const run = runs.at(-1)!;
      const res = await control(`/accounts/acc-${code}/disconnect`, { reason: code });
      expect(res.status).toBe(202);
      expect(await run.closed).toBe(code);
      const device = emulator.accountViews().find((a) => a.accountId === `acc-${code}`)?.devices;
      if ([401, 411, 500].includes(code)) {
        // WhatsApp forgot the device: its creds never log in again.
        expect(device).toEqual([]);
        expect(await connect(`acc-${code}`, auth).closed).toBe(401);
      } else {
        expect(device).toHaveLength(1);
        await connect(`acc-${code}`, auth).opened;
      }
    },
  );

  it('when a second client logs in as the same device, then the first is replaced (440)', async () => {
    const { auth } = await pair('acc-twice');
    const first = runs.at(-1)!;
    const replacedBefore = emulator.replacedSockets;
    const second = connect('acc-twice', auth.reloaded());
    await second.opened;
    expect(await first.closed).toBe(440);
    expect(emulator.replacedSockets).toBe(replacedBefore + 1);
  });

  it('when the TCP connection drops, then Baileys reports a closed connection (428)', async () => {
    await pair('acc-drop');
    const run = runs.at(-1)!;
    expect((await control('/accounts/acc-drop/faults', { kind: 'drop' })).status).toBe(202);
    expect(await run.closed).toBe(428);
  });

  it('when the server goes silent, then Baileys declares the connection lost (408)', async () => {
    const auth = (await pair('acc-silent')).auth;
    await Promise.all(runs.splice(0).map((run) => run.socket.end(undefined)));
    const run = connect('acc-silent', auth, 500);
    await run.opened;
    expect((await control('/accounts/acc-silent/faults', { kind: 'silence' })).status).toBe(202);
    // Baileys gives up once nothing arrived for keepAliveIntervalMs + 5 s.
    expect(await run.closed).toBe(408);
  }, 20_000);

  it('when a LID-addressed contact sends texts, then Baileys decrypts and emits them and the network gets receipts', async () => {
    await pair('acc-in');
    const run = runs.at(-1)!;
    const account = emulator.accountViews().find((a) => a.accountId === 'acc-in')!;
    const sentAt = Date.now();
    const first = await control('/accounts/acc-in/inbound', {
      from: '+40700000001',
      name: 'Ana',
      text: 'Salut! E liber sâmbătă la 11?',
    });
    expect(first.status).toBe(202);
    const [firstId] = (first.json as { messageIds: string[] }).messageIds;
    await expect.poll(() => run.messages.find((m) => m.key.id === firstId)).toBeDefined();
    const upsertMs = Date.now() - sentAt;
    console.info(
      `[wa-emulator] inbound text to messages.upsert on a fresh pairing: ${upsertMs} ms`,
    );
    // The phone's history bootstrap spares Baileys its 20-second wait for history.
    expect(upsertMs).toBeLessThan(5000);
    expect(run.historySets).toBeGreaterThanOrEqual(1);
    const received = run.messages.find((m) => m.key.id === firstId)!;
    expect(received.message?.conversation).toBe('Salut! E liber sâmbătă la 11?');
    expect(received.key.fromMe).toBe(false);
    expect(received.key.remoteJid).toMatch(/^2\d{14}@lid$/);
    expect(received.key.remoteJidAlt).toBe('40700000001@s.whatsapp.net');
    expect(received.pushName).toBe('Ana');

    // The session now exists: the next message is a plain `msg`, not a pre-key message.
    const second = await control('/accounts/acc-in/inbound', {
      from: '+40700000001',
      text: 'Și câte costă?',
    });
    const [secondId] = (second.json as { messageIds: string[] }).messageIds;
    await expect
      .poll(() => run.messages.find((m) => m.key.id === secondId)?.message?.conversation)
      .toBe('Și câte costă?');

    await expect
      .poll(async () => {
        const res = await fetch(`${emulator.controlUrl}/accounts/acc-in/receipts`);
        const body = (await res.json()) as { receipts: Array<{ messageId: string }> };
        return body.receipts.map((r) => r.messageId);
      })
      .toEqual(expect.arrayContaining([firstId, secondId]));
    expect(account.phone).not.toBe('40700000001');
  });

  it('when the account sends to a contact, then the contact decrypts the exact text and its receipts reach read', async () => {
    await pair('acc-out');
    const run = runs.at(-1)!;
    const inbound = await control('/accounts/acc-out/inbound', {
      from: '+40700000002',
      name: 'Dan',
      text: 'Bună ziua',
    });
    const [inboundId] = (inbound.json as { messageIds: string[] }).messageIds;
    await expect.poll(() => run.messages.find((m) => m.key.id === inboundId)).toBeDefined();
    const contactLid = run.messages.find((m) => m.key.id === inboundId)!.key.remoteJid!;

    // A reply on the session the contact opened (a `msg`).
    const reply = await run.socket.sendMessage(contactLid, {
      text: 'Da, sâmbătă la 11 e liber ✅',
    });
    const replyId = reply!.key.id!;
    await expect
      .poll(() => sentTexts('acc-out'))
      .toContainEqual({ messageId: replyId, text: 'Da, sâmbătă la 11 e liber ✅' });
    await expect
      .poll(() => run.statuses.get(replyId) ?? [])
      .toEqual(expect.arrayContaining([3, 4]));

    // Another account that never talked to the contact: usync, pre-key bundle, then a `pkmsg`.
    await pair('acc-out-2');
    const other = runs.at(-1)!;
    const first = await other.socket.sendMessage(contactLid, {
      text: 'Salut de la al doilea cont',
    });
    await expect
      .poll(() => sentTexts('acc-out-2'))
      .toContainEqual({ messageId: first!.key.id!, text: 'Salut de la al doilea cont' });
    await expect.poll(() => other.statuses.get(first!.key.id!) ?? []).toContain(4);
  });
});

async function sentTexts(
  accountId: string,
): Promise<Array<{ messageId: string; text: string | null }>> {
  const res = await fetch(`${emulator.controlUrl}/accounts/${accountId}/sent`);
  const body = (await res.json()) as {
    messages: Array<{ messageId: string; text: string | null }>;
  };
  return body.messages.map(({ messageId, text }) => ({ messageId, text }));
}
