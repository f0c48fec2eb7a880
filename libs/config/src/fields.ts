import { z } from 'zod';

const truthy = new Set(['1', 'true', 'yes', 'on']);
const falsy = new Set(['0', 'false', 'no', 'off', '']);

/** A boolean env var: 1/0, true/false, yes/no, on/off. */
export const envBoolean = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return fallback;
      const v = value.trim().toLowerCase();
      if (truthy.has(v)) return true;
      if (falsy.has(v)) return false;
      ctx.addIssue({ code: 'custom', message: 'expected true/false, 1/0, yes/no or on/off' });
      return z.NEVER;
    });

export const envInt = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const envPort = (fallback: number) => envInt(fallback, 0, 65_535);

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** host:port, as FIRESTORE_EMULATOR_HOST and FIREBASE_AUTH_EMULATOR_HOST take it. */
export const HostPort = z.string().regex(/^[\w.-]+:\d{1,5}$/, 'host:port');

/** Settings every service shares; each service extends this with its own. */
export const BaseEnv = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: LogLevel.default('info'),
  /** Pretty logs for humans; JSON otherwise. Defaults to pretty on a TTY. */
  LOG_PRETTY: envBoolean(false),
  /** Identifies this process among replicas (leases, logs, traces). */
  INSTANCE_ID: z.string().min(1).max(100).optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  /** BullMQ key prefix; a hash tag like `{wacrm}` keeps every queue key in one Redis Cluster slot. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[\w{}.-]{1,64}$/)
    .default('{wacrm}'),
  FIREBASE_PROJECT_ID: z.string().min(1).default('demo-wacrm'),
  FIRESTORE_EMULATOR_HOST: HostPort.optional(),
  FIREBASE_AUTH_EMULATOR_HOST: HostPort.optional(),
  /** Emulator variables are refused when NODE_ENV=production unless this says otherwise. */
  ALLOW_EMULATORS_IN_PRODUCTION: envBoolean(false),
  /** A service-account JSON document (secret). */
  FIREBASE_SERVICE_ACCOUNT_JSON: z.string().min(2).optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  METADATA_SERVER_DETECTION: z.string().optional(),
  /** Queue workers: /health and /metrics on this port (0: off). */
  OPS_PORT: envPort(0),
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * Internal hosts a server-side fetch (media URLs, webhooks) may reach, comma-separated: host
   * names, IPs or CIDRs. Empty by default: only public addresses.
   */
  OUTBOUND_ALLOW_HOSTS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    )
    .pipe(
      z
        .array(
          z
            .string()
            .max(253)
            .regex(/^[\w.:/-]+$/, 'a host name, IP or CIDR'),
        )
        .max(100),
    ),
});
export type BaseEnv = z.infer<typeof BaseEnv>;

/** Firestore needs credentials or an emulator; say so at start instead of at the first write. */
export function requireFirestoreTarget(env: BaseEnv, ctx: z.RefinementCtx): void {
  refuseEmulatorsInProduction(env, ctx);
  if (
    env.FIRESTORE_EMULATOR_HOST === undefined &&
    env.FIREBASE_SERVICE_ACCOUNT_JSON === undefined &&
    env.GOOGLE_APPLICATION_CREDENTIALS === undefined
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['FIRESTORE_EMULATOR_HOST'],
      message:
        'set FIRESTORE_EMULATOR_HOST, FIREBASE_SERVICE_ACCOUNT_JSON or GOOGLE_APPLICATION_CREDENTIALS',
    });
  }
  if (env.FIREBASE_SERVICE_ACCOUNT_JSON !== undefined) {
    try {
      const parsed = JSON.parse(env.FIREBASE_SERVICE_ACCOUNT_JSON) as { private_key?: unknown };
      if (typeof parsed.private_key !== 'string') throw new Error('no private_key');
    } catch {
      ctx.addIssue({
        code: 'custom',
        path: ['FIREBASE_SERVICE_ACCOUNT_JSON'],
        message: 'must be a service-account JSON document with a private_key',
      });
    }
  }
}

/**
 * With FIREBASE_AUTH_EMULATOR_HOST set, firebase-admin accepts unsigned ID tokens (anyone is
 * anyone), and FIRESTORE_EMULATOR_HOST sends the system of record to a test store: a production
 * process refuses both unless ALLOW_EMULATORS_IN_PRODUCTION says it is meant.
 */
export function refuseEmulatorsInProduction(env: BaseEnv, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV !== 'production' || env.ALLOW_EMULATORS_IN_PRODUCTION) return;
  for (const key of ['FIREBASE_AUTH_EMULATOR_HOST', 'FIRESTORE_EMULATOR_HOST'] as const) {
    if (env[key] === undefined) continue;
    ctx.addIssue({
      code: 'custom',
      path: [key],
      message:
        'an emulator is refused with NODE_ENV=production (set ALLOW_EMULATORS_IN_PRODUCTION=true if this is meant)',
    });
  }
}
