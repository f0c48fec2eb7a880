import { z } from 'zod';
import { BaseEnv, envBoolean, envInt, envPort, requireFirestoreTarget } from './fields.js';
import { DEFAULT_MEDIA_UPLOAD_MAX_BYTES, S3Env } from './media.env.js';

export const ApiGatewayEnv = BaseEnv.extend({
  /** Object storage of media (issue 17): serves stored files. */
  ...S3Env,
  /** Largest file `POST /api/media` keeps (413 beyond). */
  MEDIA_UPLOAD_MAX_BYTES: envInt(DEFAULT_MEDIA_UPLOAD_MAX_BYTES, 1024, 2 * 1024 * 1024 * 1024),
  PORT: envPort(8080),
  /** Loopback by default; set 0.0.0.0 explicitly in containers. */
  HOST: z.string().default('127.0.0.1'),
  /** Bootstrap admin credential accepted as a Bearer token (secret). */
  ADMIN_TOKEN: z.string().min(24, 'at least 24 characters').optional(),
  HEALTH_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(1500),
  /**
   * Control API of the WhatsApp network emulator (libs/wa-emulator): enables the
   * /api/dev/simulator/* routes, which drive it. Tests and `npm start` only.
   */
  WA_EMULATOR_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Comma-separated allowed browser origins; empty means no cross-origin access. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o.length > 0),
    ),
  BODY_LIMIT_BYTES: envInt(1024 * 1024, 1024, 64 * 1024 * 1024),
  /** Requests per window per API key, user or (unauthenticated) IP. */
  RATE_LIMIT_MAX: envInt(600, 1, 1_000_000),
  RATE_LIMIT_WINDOW_MS: envInt(60_000, 1_000, 3_600_000),
  /**
   * Sends this process has not answered yet beyond which a new one is refused at once (503 with
   * Retry-After) instead of queueing behind them: an overloaded store or CPU shows as a prompt
   * "retry later", not as minutes of waiting and timeouts.
   */
  SEND_MAX_IN_FLIGHT: envInt(256, 1, 100_000),
  /**
   * How long a send waits for the store to confirm its outbox document before it answers 503
   * with Retry-After (the client retries with the same requestId; a write that landed late is
   * answered as the first acceptance). Below Firestore's own 60 s deadline, whose error was a 500.
   */
  SEND_ACCEPT_TIMEOUT_MS: envInt(10_000, 100, 55_000),
  /** Failed authentications per client address and window before it gets 429 (guessing bound). */
  AUTH_FAILURES_MAX: envInt(20, 1, 1_000_000),
  AUTH_FAILURES_WINDOW_MS: envInt(60_000, 1_000, 3_600_000),
  /** Bearer token for Prometheus scrapes of /metrics (secret); admins may scrape without it. */
  METRICS_TOKEN: z.string().min(24, 'at least 24 characters').optional(),
  /** Encrypts webhook signing secrets at rest (secret); webhooks are disabled without it. */
  WEBHOOK_SECRET_KEY: z.string().min(32, 'at least 32 characters').optional(),
  WEBHOOK_MAX_ATTEMPTS: envInt(10, 1, 50),
  WEBHOOK_BACKOFF_MS: envInt(5_000, 10, 3_600_000),
  WEBHOOK_TIMEOUT_MS: envInt(10_000, 100, 120_000),
  /** Runs the webhook delivery worker in this process (one image, the env picks the roles). */
  WEBHOOK_WORKER: envBoolean(true),
  /**
   * Days a dispatched webhook event record (`webhookEvents`) is kept once every delivery made
   * from it was delivered; undispatched or undelivered records are never deleted.
   */
  WEBHOOK_EVENTS_RETENTION_DAYS: envInt(30, 1, 3650),
  /** How long extract-event and ask wait for the AI worker before answering 504. */
  AI_REQUEST_TIMEOUT_MS: envInt(30_000, 100, 300_000),
  /** Realtime events kept for Last-Event-ID resumption (Redis stream, approximate cap). */
  REALTIME_STREAM_MAXLEN: envInt(10_000, 100, 10_000_000),
  /** The Firebase project's web API key (public): enables email sign-in in the web client. */
  FIREBASE_WEB_API_KEY: z.string().min(1).optional(),
  /** The Firebase Auth domain of the web app (e.g. my-project.firebaseapp.com). */
  FIREBASE_AUTH_DOMAIN: z.string().min(1).optional(),
})
  .superRefine(requireFirestoreTarget)
  .superRefine((env, ctx) => {
    // The /api/dev routes drive an emulated WhatsApp network: never in production.
    if (env.NODE_ENV === 'production' && env.WA_EMULATOR_URL !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['WA_EMULATOR_URL'],
        message:
          'the WhatsApp network emulator (and its /api/dev routes) is refused with NODE_ENV=production',
      });
    }
  });
export type ApiGatewayEnv = z.infer<typeof ApiGatewayEnv>;

/**
 * `npm start`: everything on embedded defaults. Each dependency left unset is started locally
 * (redis-server with AOF under DATA_DIR, the Firestore emulator with snapshots under DATA_DIR).
 */
export const LauncherEnv = BaseEnv.omit({ REDIS_URL: true, LOG_PRETTY: true }).extend({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  LOG_PRETTY: envBoolean(process.stdout.isTTY === true),
  PORT: envPort(8080),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('.data'),
  ADMIN_TOKEN: z.string().min(24, 'at least 24 characters').optional(),
  /** Port of the embedded Firestore emulator; 0 picks a free one at start. */
  FIRESTORE_EMULATOR_PORT: envPort(0),
  FIRESTORE_SNAPSHOT_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5_000),
  /** Port of the embedded redis-server; 0 picks a free one at start. */
  REDIS_PORT: envPort(0),
  /**
   * On embedded defaults real Baileys talks to the WhatsApp network emulator (libs/wa-emulator,
   * state under DATA_DIR/wa-emulator); `false` pairs real numbers with WhatsApp itself.
   */
  WA_EMULATOR: envBoolean(true),
  /** Port of the WhatsApp network emulator (control API and client WebSocket); 0 picks a free one. */
  WA_EMULATOR_PORT: envPort(0),
  /** Encrypts WhatsApp sessions at rest (secret); generated into DATA_DIR/auth-state-key when unset. */
  AUTH_STATE_KEY: z.string().min(32).optional(),
  /** Encrypts webhook signing secrets at rest; generated into DATA_DIR when unset. */
  WEBHOOK_SECRET_KEY: z.string().min(32).optional(),
  /** Object storage of media; unset starts an S3 server on loopback with its files in DATA_DIR/s3. */
  S3_ENDPOINT: S3Env.S3_ENDPOINT,
  S3_BUCKET: S3Env.S3_BUCKET,
  /** Port of the embedded S3 server; 0 picks a free one at start. */
  S3_PORT: envPort(0),
});
export type LauncherEnv = z.infer<typeof LauncherEnv>;
