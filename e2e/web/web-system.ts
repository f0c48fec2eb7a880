/// <reference lib="dom" />
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { freePort } from '@wacrm/emulators';
import { startLauncher, type LauncherProcess } from '../launcher-process.js';
import { systemApi, type SystemApi } from '../system-api.js';
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
  /** The HTTP API as the admin: the generated client, every exchange checked against the document. */
  api: SystemApi;
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
  let token: string;
  let api: SystemApi;
  try {
    [base, browser] = await Promise.all([launcher.ready, browserStarting]);
    token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    api = await systemApi(base, token);
  } catch (error) {
    await browserStarting.then((b) => b.close()).catch(() => undefined);
    await launcher.interrupt();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
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
    api,
    async close() {
      await browser.close();
      await launcher.interrupt();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs the page in with the admin token (the Romanian sign-in screen). */
export async function signInWithToken(system: WebSystem): Promise<void> {
  const { page } = system;
  await page.goto('/');
  await page.getByLabel('Token', { exact: true }).fill(system.token);
  await page.getByRole('button', { name: 'Intră cu tokenul' }).click();
  await page.getByRole('navigation').getByRole('link', { name: 'Conversații' }).waitFor();
}

/** Monday of this week in Europe/Bucharest, plus `days`, as YYYY-MM-DD. */
export function thisWeek(days: number): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Bucharest' }).format(
    new Date(),
  );
  const noon = new Date(`${today}T12:00:00Z`);
  const weekday = (noon.getUTCDay() + 6) % 7;
  return new Date(noon.getTime() + (days - weekday) * 86_400_000).toISOString().slice(0, 10);
}
