import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@wacrm/emulators';
import { startLauncher, type LauncherProcess } from './launcher-process.js';

// Issue 13: `npm start` runs real Baileys in wa-gateway against the WhatsApp network emulator,
// whose pairings live under DATA_DIR: stopped and started again, every account reconnects
// with a new connection and no scan (the simulated network used to forget them: 401, creds wiped).
let dataDir: string;
let env: Record<string, string>;
let launcher: LauncherProcess | undefined;
let base: string;
let token: string;
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

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return (await response.json()) as T;
}

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const value = await check().catch((e: unknown) => ((last = e), undefined));
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms (last: ${String(last)})`);
}

interface MediaMessage {
  id: string;
  threadId: string;
  media: { status: string | null; sha256: string | null } | null;
}
let storedPhoto: { path: string; bytes: Buffer } | undefined;

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
  const r = await api<{ accounts: Array<{ id: string; status: string }> }>(
    'GET',
    '/api/whatsapp/accounts',
  );
  return new Map(r.accounts.map((a) => [a.id, a.status]));
}

describe('npm start with the WhatsApp network emulator', () => {
  it('when two accounts are paired by QR, then both are connected through real Baileys', async () => {
    launcher = startLauncher(env);
    base = await launcher.ready;
    token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    expect(launcher.output()).toMatch(
      /WhatsApp: real Baileys against the WhatsApp network emulator/,
    );
    for (const name of ['WA-01', 'WA-02']) {
      const added = await api<{ accountId: string }>('POST', '/api/whatsapp/add-account', { name });
      accountIds.push(added.accountId);
      await eventually('a QR', async () => {
        const r = await api<{ qr: string | null }>('GET', `/api/whatsapp/qr/${added.accountId}`);
        return r.qr ?? undefined;
      });
      const scan = await fetch(`${base}/api/dev/simulator/accounts/${added.accountId}/scan`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(scan.status).toBe(202);
    }
    await eventually('both connected', async () => {
      const s = await statuses();
      return accountIds.every((id) => s.get(id) === 'connected') ? true : undefined;
    });
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
      const threads = await api<{ items: Array<{ id: string }> }>(
        'GET',
        `/api/threads?accountId=${accountIds[0]}`,
      );
      for (const t of threads.items) {
        const page = await api<{ items: MediaMessage[] }>('GET', `/api/threads/${t.id}/messages`);
        const m = page.items.find((i) => i.media?.sha256 === sha);
        if (m?.media?.status === 'stored') return m;
      }
      return undefined;
    });
    expect(message.media).toMatchObject({ mime: 'image/png', thumbnail: { width: 96 } });
    const path = `/api/threads/${message.threadId}/messages/${message.id}/media`;
    const auth = { authorization: `Bearer ${token}` };
    const full = await fetch(`${base}${path}`, { headers: auth });
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await full.arrayBuffer()).equals(photo)).toBe(true);
    const thumb = await fetch(`${base}${path}?thumbnail=1`, { headers: auth });
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/jpeg');
    // The object store keeps its files under DATA_DIR.
    expect((await readdir(join(dataDir, 's3'))).length).toBeGreaterThan(0);
    storedPhoto = { path, bytes: photo };
  }, 120_000);

  it('when npm start is stopped and started again, then every account is connected by a new connection with no scan', async () => {
    expect(await launcher!.interrupt()).toBe(0);
    launcher = startLauncher(env);
    const t0 = Date.now();
    base = await launcher.ready;
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
    for (const id of accountIds) {
      expect((await api<{ qr: string | null }>('GET', `/api/whatsapp/qr/${id}`)).qr).toBeNull();
    }
    const restored = launcher.output().match(/Session restored from Firestore/g) ?? [];
    expect(restored.length).toBeGreaterThanOrEqual(accountIds.length);
    expect(launcher.output()).not.toMatch(/"status":"(needs_qr|logged_out)"/);
    // Stored media survives the restart.
    const again = await fetch(`${base}${storedPhoto!.path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(again.status).toBe(200);
    expect(Buffer.from(await again.arrayBuffer()).equals(storedPhoto!.bytes)).toBe(true);
  }, 180_000);
});
