import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@wacrm/observability';
import { WaEmulator } from './wa-emulator.server.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
// Inside the package (under the ignored dist/) so the preload resolves Baileys like a real one.
const probeDir = join(packageDir, 'dist', `preload-probe-${process.pid}`);

/**
 * A separate Node process with a brand-new Baileys client: prints `QR` when the handshake got as
 * far as the pairing request, or `CLOSE <code> <message>` when the connection ended first.
 */
const CLIENT = `
import makeWASocket, { initAuthCreds } from '@whiskeysockets/baileys';
const creds = initAuthCreds();
const store = new Map();
const sock = makeWASocket({
  auth: { creds, keys: { get: () => ({}), set: () => undefined } },
  waWebSocketUrl: process.argv[1],
  logger: (await import('pino')).pino({ level: 'silent' }),
});
sock.ev.on('connection.update', (u) => {
  if (u.qr) { console.log('QR'); process.exit(0); }
  if (u.connection === 'close') {
    const e = u.lastDisconnect?.error;
    console.log('CLOSE', e?.output?.statusCode, e?.message);
    process.exit(0);
  }
});
`;

function runClient(url: string, withPreload: boolean): Promise<string> {
  const args = [
    ...(withPreload ? ['--import', pathToFileURL(join(probeDir, 'preload.js')).href] : []),
    '--input-type=module',
    '-e',
    CLIENT,
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: packageDir,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(out.trim());
    });
  });
}

let emulator: WaEmulator;

beforeAll(async () => {
  // The preload exactly as the build emits it: its two source files, transpiled.
  await mkdir(probeDir, { recursive: true });
  for (const name of ['preload', 'test-root-key']) {
    const source = await readFile(join(packageDir, 'src', `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2023 },
      fileName: `${name}.ts`,
    });
    await writeFile(join(probeDir, `${name}.js`), outputText);
  }
  await writeFile(join(probeDir, 'package.json'), '{"type":"module"}');
  emulator = await WaEmulator.start({
    logger: createLogger({ service: 'wa-emulator', version: 'test', level: 'silent' }),
  });
});

afterAll(async () => {
  await emulator?.stop();
  await rm(probeDir, { recursive: true, force: true });
});

describe('preload', () => {
  it('when a process does not load the preload, then Baileys refuses the emulator certificate', async () => {
    const output = await runClient(emulator.socketUrl('probe'), false);
    expect(output).toMatch(/^CLOSE 400 certification match failed/m);
  });

  it('when a process loads the preload, then the handshake succeeds and a QR is offered', async () => {
    const output = await runClient(emulator.socketUrl('probe'), true);
    expect(output).toBe('QR');
  });
});
