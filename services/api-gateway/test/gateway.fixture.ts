import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { parseConfig, ApiGatewayEnv } from '@wacrm/config';
import type { UserRole } from '@wacrm/contracts';
import { collections, initFirebase, type Firebase } from '@wacrm/firestore';
import type { InjectOptions } from 'fastify';
import {
  captureLogger,
  createOpenApiTrafficValidator,
  type OpenApiTrafficValidator,
  useTestFirestore,
  useTestRedis,
  type TestFirestore,
  type TestRedis,
} from '@wacrm/testing';
import { startGateway, type Gateway, type GatewayConfig } from '../src/gateway.js';

/** The project the shared Auth emulator serves (libs/testing global setup). */
export const AUTH_PROJECT = 'demo-wacrm';
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const METRICS_TOKEN = 'test-metrics-token-0123456789abcdef';
export const WEBHOOK_SECRET_KEY = 'test-webhook-master-key-0123456789abcdef';

export interface TestGateway extends Gateway {
  config: GatewayConfig;
  fs: TestFirestore;
  redis: TestRedis;
  authApp: Firebase;
  logs: ReturnType<typeof captureLogger>;
  /** A new gateway process-equivalent on the same Redis and Firestore (restart). */
  restart(overrides?: Record<string, string>): Promise<TestGateway>;
  /** Closes the gateway and its test resources. */
  dispose(): Promise<void>;
}

export function testConfig(
  prefix: string,
  redisUrl: string,
  overrides: Record<string, string> = {},
) {
  return parseConfig('api-gateway', ApiGatewayEnv, {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    FIRESTORE_EMULATOR_HOST: inject('deps').firestoreEmulatorHost,
    ADMIN_TOKEN,
    METRICS_TOKEN,
    WEBHOOK_SECRET_KEY,
    WEBHOOK_BACKOFF_MS: '200',
    WEBHOOK_MAX_ATTEMPTS: '8',
    AI_REQUEST_TIMEOUT_MS: '3000',
    // Route-table tests fail authentication hundreds of times from one address on purpose;
    // abuse-limits.int.test.ts sets the production limit.
    AUTH_FAILURES_MAX: '1000000',
    LOG_LEVEL: 'info',
    ...overrides,
  });
}

/** A full gateway (HTTP app, realtime relay and hub, webhook dispatcher and worker) for one test file. */
export async function useGateway(
  overrides: Record<string, string> = {},
  shared?: { fs: TestFirestore; redis: TestRedis; authApp: Firebase },
): Promise<TestGateway> {
  const fs = shared?.fs ?? useTestFirestore();
  const redis = shared?.redis ?? (await useTestRedis());
  const authApp =
    shared?.authApp ??
    initFirebase({
      projectId: AUTH_PROJECT,
      firestoreEmulatorHost: inject('deps').firestoreEmulatorHost,
      ...(inject('deps').authEmulatorHost !== ''
        ? { authEmulatorHost: inject('deps').authEmulatorHost }
        : {}),
      appName: `auth-${randomUUID()}`,
    });
  const config = testConfig(redis.prefix, redis.url, overrides);
  const logs = captureLogger('api-gateway', 'info');
  const gateway = await startGateway({
    config,
    logger: logs.logger,
    instanceId: `gw-${randomUUID().slice(0, 6)}`,
    version: '0.0.0-test',
    db: fs.db,
    auth: authApp.auth,
  });
  await gateway.app.ready();
  return {
    ...gateway,
    config,
    fs,
    redis,
    authApp,
    logs,
    restart: async (next = overrides) => {
      await gateway.close();
      return useGateway(next, { fs, redis, authApp });
    },
    dispose: async () => {
      await gateway.close();
      await redis.cleanup();
      await fs.close();
      await authApp.close();
    },
  };
}

/** Creates a user in the Auth emulator with a profile in `users/{uid}` and returns an ID token. */
export async function userToken(
  gw: { fs: TestFirestore; authApp: Firebase },
  role: UserRole | 'none',
  allowedAccounts: string[] = [],
  uid?: string,
): Promise<{ uid: string; token: string }> {
  const email = `u-${randomUUID().slice(0, 12)}@example.com`;
  const password = 'pass-1234567';
  const user = await gw.authApp.auth.createUser({
    email,
    password,
    ...(uid !== undefined ? { uid } : {}),
  });
  if (role !== 'none') {
    await collections(gw.fs.db)
      .users()
      .doc(user.uid)
      .set({ role, allowedAccounts, email, displayName: null });
  }
  const host = inject('deps').authEmulatorHost;
  const response = await fetch(
    `http://${host}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=fake`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, returnSecureToken: true }),
    },
  );
  if (!response.ok) throw new Error(`sign-in failed: HTTP ${response.status}`);
  const { idToken } = (await response.json()) as { idToken: string };
  return { uid: user.uid, token: idToken };
}

/** An emulator-style (unsigned) ID token whose expiry has passed. */
export function expiredToken(uid: string): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const past = Math.floor(Date.now() / 1000) - 7200;
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
    iss: `https://securetoken.google.com/${AUTH_PROJECT}`,
    aud: AUTH_PROJECT,
    auth_time: past,
    user_id: uid,
    sub: uid,
    iat: past,
    exp: past + 3600,
    firebase: { identities: {}, sign_in_provider: 'password' },
  })}.`;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const admin = bearer(ADMIN_TOKEN);

/**
 * From now on every `gw.app.inject({...})` of this gateway is checked against the OpenAPI
 * document the gateway serves (request bodies, statuses, media types, response bodies): traffic
 * the document does not describe fails the test that exchanged it.
 */
export function validateTraffic(gw: { app: Gateway['app'] }): OpenApiTrafficValidator {
  const validator = createOpenApiTrafficValidator(
    gw.app.swagger() as unknown as Record<string, unknown>,
  );
  const inject = gw.app.inject.bind(gw.app);
  const validating = async (opts: InjectOptions) => {
    const response = await inject(opts);
    const payload = opts.payload ?? opts.body;
    const url = typeof opts.url === 'string' ? opts.url : (opts.url?.pathname ?? '/');
    validator.assert({
      method: opts.method ?? 'GET',
      url,
      requestBody:
        payload === undefined || payload === null
          ? undefined
          : typeof payload === 'string'
            ? payload
            : Buffer.isBuffer(payload)
              ? payload.toString('utf8')
              : JSON.stringify(payload),
      status: response.statusCode,
      contentType: response.headers['content-type']?.toString(),
      responseBody: response.body,
    });
    return response;
  };
  // Only the promise form `inject(options)` is checked; the chain and callback forms pass through.
  gw.app.inject = ((opts?: InjectOptions | string, callback?: unknown) =>
    opts !== undefined && typeof opts === 'object' && callback === undefined
      ? validating(opts)
      : (inject as (...args: unknown[]) => unknown)(opts, callback)) as typeof gw.app.inject;
  return validator;
}
