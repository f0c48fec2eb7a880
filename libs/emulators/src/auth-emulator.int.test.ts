import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { deleteApp, initializeApp } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthEmulator, type AuthEmulatorHandle } from './auth-emulator.process.js';

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('startAuthEmulator', () => {
  let auth: AuthEmulatorHandle;

  beforeAll(async () => {
    auth = await startAuthEmulator({ projectId: 'demo-emulators-auth' });
  }, 120_000);

  afterAll(async () => {
    await auth?.stop();
  });

  it('when started, then it serves on 127.0.0.1 only', async () => {
    expect(auth.host).toBe(`127.0.0.1:${auth.port}`);
    expect(await canConnect('127.0.0.1', auth.port)).toBe(true);
    expect(await canConnect('127.0.0.2', auth.port)).toBe(false);
  });

  it('when firebase-admin creates a user and the REST API signs in, then verifyIdToken accepts the ID token', async () => {
    process.env.FIREBASE_AUTH_EMULATOR_HOST = auth.host;
    const app = initializeApp({ projectId: auth.projectId }, `auth-test-${randomUUID()}`);
    try {
      const user = await getAuth(app).createUser({
        email: 'agent@example.com',
        password: 's3cret-pass',
      });
      const response = await fetch(
        `http://${auth.host}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=any`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            email: 'agent@example.com',
            password: 's3cret-pass',
            returnSecureToken: true,
          }),
        },
      );
      expect(response.status).toBe(200);
      const { idToken } = (await response.json()) as { idToken: string };

      const decoded = await getAuth(app).verifyIdToken(idToken);

      expect(decoded.uid).toBe(user.uid);
      expect(decoded.email).toBe('agent@example.com');
      expect(decoded.aud).toBe(auth.projectId);
    } finally {
      await deleteApp(app);
    }
  });

  it('when stopped, then the port is closed', async () => {
    const { port } = auth;

    await auth.stop();

    expect(await canConnect('127.0.0.1', port)).toBe(false);
  });
});
