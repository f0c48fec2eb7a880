import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@wacrm/emulators';
import { eventually, startLauncher, type LauncherProcess } from './launcher-process.js';
import { addScannedAccount, connected, ok, systemApi, type SystemApi } from './system-api.js';

// Issue 13: `npm start` runs real Baileys in wa-gateway against the WhatsApp network emulator,
// whose pairings live under DATA_DIR: stopped and started again, every account reconnects
// with a new connection and no scan (the simulated network used to forget them: 401, creds wiped).
let dataDir: string;
let env: Record<string, string>;
let launcher: LauncherProcess | undefined;
let base: string;
let token: string;
let api: SystemApi;
let emulatorUrl: string;
const accountIds: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wacrm-e2e-wa-'));
  const emulatorPort = await freePort();
  emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  env = {
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    WA_EMULATOR_PORT: String(emulatorPort),
    FIREBASE_PROJECT_ID: 'demo-e2e-wa',
    REDIS_URL: '',
    FIRESTORE_EMULATOR_HOST: '',
    ADMIN_TOKEN: '',
  };
});

afterAll(async () => {
  await launcher?.interrupt();
  await rm(dataDir, { recursive: true, force: true });
});

let storedPhoto: { media: { threadId: string; messageId: string }; bytes: Buffer } | undefined;

/** A stored message's file (or its thumbnail) through the API. */
function downloadMedia(media: { threadId: string; messageId: string }, thumbnail = false) {
  return api.GET('/api/threads/{threadId}/messages/{messageId}/media', {
    params: { path: media, ...(thumbnail ? { query: { thumbnail: '1' as const } } : {}) },
    parseAs: 'arrayBuffer',
  });
}

/** A real PNG of random pixels (sharp can thumbnail it), built without an image library. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows = Buffer.concat(
    Array.from({ length: height }, () => Buffer.concat([Buffer.from([0]), randomBytes(width * 3)])),
  );
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

interface EmulatedAccount {
  accountId: string;
  devices: Array<{ deviceId: number; connected: boolean }>;
  awaitingScan: boolean;
}

async function emulated(): Promise<EmulatedAccount[]> {
  const res = await fetch(`${emulatorUrl}/accounts`);
  return ((await res.json()) as { accounts: EmulatedAccount[] }).accounts;
}

async function statuses(): Promise<Map<string, string>> {
  const { accounts } = ok(await api.GET('/api/whatsapp/accounts'));
  return new Map(accounts.map((a) => [a.id, a.status]));
}

describe('npm start with the WhatsApp network emulator', () => {
  it('when two accounts are paired by QR, then both are connected through real Baileys', async () => {
    launcher = startLauncher(env);
    base = await launcher.ready;
    token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    expect(launcher.output()).toMatch(
      /WhatsApp: real Baileys against the WhatsApp network emulator/,
    );
    api = await systemApi(base, token);
    for (const name of ['WA-01', 'WA-02']) accountIds.push(await addScannedAccount(api, name));
    await connected(api, accountIds);
  }, 180_000);

  it('when a contact sends a photo, then npm start keeps it (media-worker, S3 store in DATA_DIR) and the API serves it', async () => {
    const photo = png(96, 64);
    const sent = await fetch(`${emulatorUrl}/accounts/${accountIds[0]}/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        from: '+40722555001',
        kind: 'image',
        media: { mimetype: 'image/png', dataBase64: photo.toString('base64'), caption: 'Sala' },
      }),
    });
    expect(sent.status).toBe(202);
    const sha = createHash('sha256').update(photo).digest('hex');
    const message = await eventually('the photo stored', async () => {
      const threads = ok(
        await api.GET('/api/threads', { params: { query: { accountId: accountIds[0]! } } }),
      );
      for (const t of threads.items) {
        const page = ok(
          await api.GET('/api/threads/{threadId}/messages', {
            params: { path: { threadId: t.id } },
          }),
        );
        const m = page.items.find((i) => i.media?.sha256 === sha);
        if (m?.media?.status === 'stored') return m;
      }
      return undefined;
    });
    expect(message.media).toMatchObject({ mime: 'image/png', thumbnail: { width: 96 } });
    const media = { threadId: message.threadId, messageId: message.id };
    const full = await downloadMedia(media);
    expect(full.response.status).toBe(200);
    expect(full.response.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(ok(full)).equals(photo)).toBe(true);
    const thumb = await downloadMedia(media, true);
    expect(thumb.response.status).toBe(200);
    expect(thumb.response.headers.get('content-type')).toBe('image/jpeg');
    // The object store keeps its files under DATA_DIR.
    expect((await readdir(join(dataDir, 's3'))).length).toBeGreaterThan(0);
    storedPhoto = { media, bytes: photo };
  }, 120_000);

  it('when npm start is stopped and started again, then every account is connected by a new connection with no scan', async () => {
    expect(await launcher!.interrupt()).toBe(0);
    launcher = startLauncher(env);
    const t0 = Date.now();
    base = await launcher.ready;
    api = await systemApi(base, token);
    // The emulator is a new process: a connected device is a new connection.
    await eventually('every account logged in again', async () => {
      const accounts = await emulated();
      const online = accountIds.filter((id) =>
        accounts.find((a) => a.accountId === id)?.devices.some((d) => d.connected),
      );
      const s = await statuses();
      return online.length === accountIds.length &&
        accountIds.every((id) => s.get(id) === 'connected')
        ? true
        : undefined;
    });
    console.log(
      `npm start again -> ${accountIds.length} accounts connected: ${Date.now() - t0} ms`,
    );
    for (const account of await emulated()) {
      // The devices linked by the first scans, and nobody waiting for another one.
      expect(account.devices.map((d) => d.deviceId)).toEqual([1]);
      expect(account.awaitingScan).toBe(false);
    }
    for (const accountId of accountIds) {
      const qr = ok(
        await api.GET('/api/whatsapp/qr/{accountId}', { params: { path: { accountId } } }),
      );
      expect(qr.qr).toBeNull();
    }
    const restored = launcher.output().match(/Session restored from Firestore/g) ?? [];
    expect(restored.length).toBeGreaterThanOrEqual(accountIds.length);
    expect(launcher.output()).not.toMatch(/"status":"(needs_qr|logged_out)"/);
    // Stored media survives the restart.
    const again = await downloadMedia(storedPhoto!.media);
    expect(again.response.status).toBe(200);
    expect(Buffer.from(ok(again)).equals(storedPhoto!.bytes)).toBe(true);
  }, 180_000);
});
