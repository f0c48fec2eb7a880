import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger } from '@wacrm/testing';
import { useGateway, validateTraffic, type TestGateway } from '../test/gateway.fixture.js';
import { settingsFrom, startGateway, type Gateway } from './gateway.js';

// The gateway serving a small fake build of the web client from a temporary directory.
let dir: string;
let gw: TestGateway;
let web: Gateway;
let withEmulator: Gateway;
const bundle = `console.log(${JSON.stringify('x'.repeat(4000))});`;
const html =
  '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>';

/** A gateway serving `webRoot`, its traffic checked against the OpenAPI document it serves. */
async function start(overrides: Record<string, string>, webRoot: string): Promise<Gateway> {
  const started = await startGateway({
    config: { ...gw.config, WEBHOOK_WORKER: false, ...overrides },
    logger: captureLogger('api-gateway', 'warn').logger,
    instanceId: 'gw-web-test',
    version: '0.0.0-test',
    db: gw.fs.db,
    auth: gw.authApp.auth,
    webRoot,
  });
  await started.app.ready();
  validateTraffic(started);
  return started;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wacrm-web-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), html);
  await writeFile(join(dir, 'assets', 'index-abc123.js'), bundle);
  await writeFile(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(join(dir, 'notes.unknownext'), 'not served');
  gw = await useGateway({ WEBHOOK_WORKER: 'false' });
  web = await start({}, dir);
  withEmulator = await start({ FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099' }, dir);
}, 120_000);

afterAll(async () => {
  await web?.close();
  await withEmulator?.close();
  await gw?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) =>
  web.app.inject({ method: 'GET', url, headers });

describe('the web client at /', () => {
  it('when / is requested, then index.html comes back, revalidated on every load', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toBe(html);
  });

  it('when a hashed asset is requested, then it is immutable, gzip-encoded when accepted, and 304 on a matching ETag', async () => {
    const plain = await get('/assets/index-abc123.js');
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.body).toBe(bundle);
    const gz = await get('/assets/index-abc123.js', { 'accept-encoding': 'gzip, br' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(bundle);
    expect(gz.rawPayload.length).toBeLessThan(bundle.length / 4);
    const again = await get('/assets/index-abc123.js', {
      'if-none-match': String(plain.headers.etag),
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('when a browser navigates to a client route, then index.html is served (SPA fallback)', async () => {
    for (const url of [
      '/inbox/wa-01',
      '/chat/wa-01_40722333444%40s.whatsapp.net',
      '/clients/%2B40722333444?x=1',
      '/notes.unknownext',
    ]) {
      const res = await get(url, { accept: 'text/html,application/xhtml+xml' });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toBe(html);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('when an unknown API path, a missing asset, or a non-HTML request misses, then 404 problem+json', async () => {
    for (const [url, accept] of [
      ['/api/nope', 'text/html'],
      ['/api', 'text/html'],
      ['/docs/nope', 'text/html'],
      ['/assets/missing.js', 'text/html'],
      ['/assets', 'text/html'],
      ['/notes.unknownext', '*/*'],
      ['/inbox', 'application/json'],
    ] as const) {
      const res = await get(url, { accept });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toMatch(/application\/problem\+json/);
    }
    const malformed = await get('/%E0%A4%A', { accept: 'text/html' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('when a path tries to leave the build directory, then nothing outside it is served', async () => {
    for (const url of [
      '/assets/../../../../etc/passwd',
      '/..%2f..%2f..%2fetc%2fpasswd',
      '/assets/%2e%2e/%2e%2e/package.json',
    ]) {
      const res = await get(url, { accept: '*/*' });
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('root:');
    }
  });

  it('when any page is served, then the CSP forbids inline and foreign scripts and framing', async () => {
    const csp = String((await get('/')).headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp.split(';').find((d) => d.trim().startsWith('script-src'))).not.toContain(
      'unsafe-inline',
    );
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    // The chat shows media as object URLs of files fetched with the Bearer token (issue 17).
    const directive = (name: string) => csp.split(';').find((d) => d.trim().startsWith(name));
    expect(directive('img-src')).toContain('blob:');
    expect(directive('media-src')).toContain('blob:');
  });

  it('when the API is called, then it is unaffected (auth still required)', async () => {
    const res = await get('/api/me', { accept: 'text/html' });
    expect(res.statusCode).toBe(401);
  });
});

describe('GET /api/web-config', () => {
  it('when called without credentials, then it says how to sign in and holds no secret', async () => {
    const res = await get('/api/web-config');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ adminTokenSignIn: true, firebase: null });
    expect(res.body).not.toContain(gw.config.ADMIN_TOKEN!);
  });

  it('when the Auth emulator is configured, then the client gets its URL and the CSP lets it connect', async () => {
    const res = await withEmulator.app.inject({ method: 'GET', url: '/api/web-config' });
    expect(res.json()).toEqual({
      adminTokenSignIn: true,
      firebase: {
        apiKey: 'emulator-api-key',
        authDomain: null,
        projectId: gw.config.FIREBASE_PROJECT_ID,
        emulatorUrl: 'http://127.0.0.1:9099',
      },
    });
    expect(String(res.headers['content-security-policy'])).toContain(
      "connect-src 'self' http://127.0.0.1:9099",
    );
  });

  it('when neither the emulator nor a web API key is set, then Firebase sign-in is not offered; with a key, real Firebase Auth is', () => {
    const base = { ...gw.config, FIREBASE_AUTH_EMULATOR_HOST: undefined };
    expect(settingsFrom({ ...base, FIREBASE_WEB_API_KEY: undefined }).firebaseWeb).toBeUndefined();
    expect(
      settingsFrom({
        ...base,
        FIREBASE_WEB_API_KEY: 'AIza-test',
        FIREBASE_AUTH_DOMAIN: 'p.firebaseapp.com',
      }).firebaseWeb,
    ).toEqual({
      apiKey: 'AIza-test',
      authDomain: 'p.firebaseapp.com',
      projectId: gw.config.FIREBASE_PROJECT_ID,
      emulatorUrl: null,
    });
    expect(settingsFrom(base).webRoot).toMatch(/services[/\\]web[/\\]dist[/\\]?$/);
  });
});
