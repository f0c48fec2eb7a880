/// <reference lib="dom" />
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { freePort } from '@wacrm/emulators';
import { startLauncher, type LauncherProcess } from '../launcher-process.js';
import { launchChromium, VIEWPORTS, watchPageErrors } from './browser.js';

/**
 * The whole system as `npm start` runs it (own DATA_DIR, Firestore, Redis, the WhatsApp network
 * emulator on a known port) and a Chromium page at the desktop viewport: the setup every web
 * test shares.
 */
export interface WebSystem {
  dataDir: string;
  launcher: LauncherProcess;
  base: string;
  /** The bootstrap admin token (DATA_DIR/admin-token). */
  token: string;
  /** The emulator's control API (the contacts' side of WhatsApp). */
  emulatorUrl: string;
  browser: Browser;
  page: Page;
  /** Uncaught exceptions and CSP refusals seen by the page. */
  pageErrors: string[];
  /** The HTTP API as the admin: status and parsed JSON body. */
  api: <T>(method: string, path: string, body?: unknown) => Promise<[number, T]>;
  close: () => Promise<void>;
}

export async function startWebSystem(
  name: string,
  env: Record<string, string> = {},
): Promise<WebSystem> {
  const dataDir = await mkdtemp(join(tmpdir(), `wacrm-${name}-e2e-`));
  const emulatorPort = await freePort();
  const launcher = startLauncher({
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    WA_EMULATOR_PORT: String(emulatorPort),
    FIREBASE_PROJECT_ID: `demo-${name}-e2e`,
    REDIS_URL: '',
    FIRESTORE_EMULATOR_HOST: '',
    FIREBASE_AUTH_EMULATOR_HOST: '',
    ADMIN_TOKEN: '',
    ...env,
  });
  const browserStarting = launchChromium();
  let base: string;
  let browser: Browser;
  try {
    [base, browser] = await Promise.all([launcher.ready, browserStarting]);
  } catch (error) {
    await browserStarting.then((b) => b.close()).catch(() => undefined);
    await launcher.interrupt();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  const page = await (
    await browser.newContext({ viewport: VIEWPORTS.desktop, baseURL: base })
  ).newPage();
  const pageErrors = watchPageErrors(page);
  return {
    dataDir,
    launcher,
    base,
    token,
    emulatorUrl: `http://127.0.0.1:${emulatorPort}`,
    browser,
    page,
    pageErrors,
    async api<T>(method: string, path: string, body?: unknown): Promise<[number, T]> {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return [response.status, (await response.json()) as T];
    },
    async close() {
      await browser.close();
      await launcher.interrupt();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value (errors count as not yet), or fails after `ms`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    const value = await check().catch((e: unknown) => ((last = e), undefined));
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not happen within ${ms} ms (last: ${String(last)})`);
}

/** Adds an account, lets the emulated phone scan its QR, and waits until it is connected. */
export async function connectedAccount(system: WebSystem, name: string): Promise<string> {
  const [added, account] = await system.api<{ accountId: string }>(
    'POST',
    '/api/whatsapp/add-account',
    { name },
  );
  if (added >= 300) throw new Error(`add-account answered ${added}: ${JSON.stringify(account)}`);
  const { accountId } = account;
  await eventually('a QR', async () => {
    const [, r] = await system.api<{ qr: string | null }>('GET', `/api/whatsapp/qr/${accountId}`);
    return r.qr ?? undefined;
  });
  // scan declares no body: none is sent.
  const [scanned] = await system.api('POST', `/api/dev/simulator/accounts/${accountId}/scan`);
  if (scanned >= 300) throw new Error(`scan answered ${scanned}`);
  await eventually('connected', async () => {
    const [, r] = await system.api<{ accounts: Array<{ id: string; status: string }> }>(
      'GET',
      '/api/whatsapp/accounts',
    );
    return r.accounts.find((a) => a.id === accountId)?.status === 'connected' ? true : undefined;
  });
  return accountId;
}

/** Signs the page in with the admin token (the Romanian sign-in screen). */
export async function signInWithToken(system: WebSystem): Promise<void> {
  const { page } = system;
  await page.goto('/');
  await page.getByLabel('Token', { exact: true }).fill(system.token);
  await page.getByRole('button', { name: 'Intră cu tokenul' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Conversații' }).waitFor();
}
