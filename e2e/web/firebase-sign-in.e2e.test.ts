/// <reference lib="dom" />
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startAuthEmulator, type AuthEmulatorHandle } from '@wacrm/emulators';
import { startLauncher, type LauncherProcess } from '../launcher-process.js';
import { systemApi } from '../system-api.js';
import { launchChromium, VIEWPORTS, watchPageErrors } from './browser.js';

// Sign-in with Firebase Auth (the Auth emulator) through the web client, against the whole
// system: the gateway tells the client where the emulator is and verifies the ID tokens it gets.
const PROJECT = 'demo-web-auth';
const EMAIL = 'operator@example.com';
const PASSWORD = 'correct horse battery staple';
let dataDir: string;
let auth: AuthEmulatorHandle;
let launcher: LauncherProcess;
let base: string;
let adminToken: string;
let browser: Browser;
let page: Page;
let pageErrors: string[];
let uid: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wacrm-web-auth-'));
  [auth, browser] = await Promise.all([
    startAuthEmulator({ projectId: PROJECT }),
    launchChromium(),
  ]);
  launcher = startLauncher({
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    FIREBASE_PROJECT_ID: PROJECT,
    FIREBASE_AUTH_EMULATOR_HOST: auth.host,
    REDIS_URL: '',
    FIRESTORE_EMULATOR_HOST: '',
    ADMIN_TOKEN: '',
  });
  base = await launcher.ready;
  adminToken = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();

  // The operator's Firebase account, and an employee profile that may see one account.
  const signUp = await fetch(
    `http://${auth.host}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=emulator`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: EMAIL, password: PASSWORD, returnSecureToken: true }),
    },
  );
  expect(signUp.status).toBe(200);
  uid = ((await signUp.json()) as { localId: string }).localId;
  const admin = await systemApi(base, adminToken);
  const profile = await admin.PUT('/api/admin/users/{uid}', {
    params: { path: { uid } },
    body: { role: 'employee', allowedAccounts: ['wa-visible'] },
  });
  expect(profile.response.status, JSON.stringify(profile.error)).toBe(200);

  const context = await browser.newContext({ viewport: VIEWPORTS.desktop, baseURL: base });
  page = await context.newPage();
  pageErrors = watchPageErrors(page);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await launcher?.interrupt();
  await auth?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('Firebase sign-in in the web client', () => {
  it('when the password is wrong, then it says so and stays on the sign-in screen', async () => {
    await page.goto('/');
    await page.getByRole('heading', { name: 'Autentificare' }).waitFor();
    await page.getByLabel('E-mail', { exact: true }).fill(EMAIL);
    await page.getByLabel('Parolă', { exact: true }).fill('wrong password');
    await page.getByRole('button', { name: 'Intră', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Date de autentificare greșite' }).waitFor();
  });

  it('when an employee signs in, then the API accepts the ID token and admin-only controls are hidden', async () => {
    await page.getByLabel('Parolă', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Intră', exact: true }).click();
    await page.getByRole('heading', { name: 'Conturi WhatsApp' }).waitFor();
    // Employees cannot add accounts; the server would refuse them anyway (403).
    expect(await page.getByRole('button', { name: 'Adaugă cont' }).count()).toBe(0);
    // The realtime stream authenticated with the same ID token.
    await page
      .getByTestId('connection')
      .filter({ hasText: 'Actualizări în timp real active' })
      .waitFor();
    // /api/me answered for this user before the screen rendered.
    await page.getByRole('button', { name: `Ieșire (${EMAIL})` }).waitFor();
  });

  it('when the page is reloaded, then the Firebase session is restored; signing out ends it', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Conturi WhatsApp' }).waitFor();
    await page.getByRole('button', { name: /Ieșire/ }).click();
    await page.getByRole('heading', { name: 'Autentificare' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Autentificare' }).waitFor();
    expect(pageErrors).toEqual([]);
  });
});
