import { z } from 'zod';
import { BaseEnv, envBoolean, envInt, envPort, requireFirestoreTarget } from './fields.js';
import { S3Env } from './media.env.js';

/** AES-256 key: 32 bytes as 64 hex characters or base64. */
const AuthStateKey = z
  .string()
  .refine(
    (v) =>
      /^[0-9a-fA-F]{64}$/.test(v) ||
      (/^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32),
    '32 bytes as 64 hex characters or base64',
  );

export const WaGatewayEnv = BaseEnv.extend({
  /** Object storage of media: files uploaded with POST /api/media are sent from there. */
  ...S3Env,
  /** Real Baileys, the one driver: to WhatsApp, or to the network emulator (WA_WEBSOCKET_URL). */
  WA_DRIVER: z.enum(['baileys']).default('baileys'),
  /**
   * Baileys' WebSocket endpoint; WhatsApp's own when unset. `{accountId}` in it becomes the
   * account's id: the WhatsApp network emulator is `ws://127.0.0.1:<port>/ws?account={accountId}`.
   */
  WA_WEBSOCKET_URL: z.url({ protocol: /^wss?$/ }).optional(),
  /**
   * `127.0.0.1:<port>`: every media host Baileys dials (uploads, downloads, history chunks from
   * https://mmg.whatsapp.net) is connected to this address instead — the WhatsApp network
   * emulator's media CDN. Set by the launcher and test harnesses only; refused in production.
   */
  WA_MEDIA_HOST_OVERRIDE: z
    .string()
    .regex(/^(127\.0\.0\.1|localhost):\d{1,5}$/, 'a loopback host:port, e.g. 127.0.0.1:8443')
    .optional(),
  /** Baileys fails a connection whose handshake takes longer (then closes with 408). */
  WA_CONNECT_TIMEOUT_MS: envInt(20_000, 500, 300_000),
  /** Encrypts creds and signal keys at rest (secret, no default). */
  AUTH_STATE_KEY: AuthStateKey.optional(),
  AUTH_STATE_STORE: z.enum(['firestore', 'disk']).default('firestore'),
  SESSIONS_PATH: z.string().min(1).default('.data/sessions'),
  WA_SPOOL_DIR: z.string().min(1).default('.data/wa-spool'),
  /** A spool file whose instance shows no sign of life for this long is replayed by another. */
  WA_SPOOL_ORPHAN_AFTER_MS: envInt(30_000, 1_000, 3_600_000),
  WA_LEASE_TTL_MS: envInt(15_000, 1_000, 600_000),
  /** Accounts an instance may hold above its fair share, so small imbalances do not churn. */
  WA_FAIR_SHARE_SLACK: envInt(1, 0, 1000),
  WA_DISCOVERY_INTERVAL_MS: envInt(5_000, 100, 600_000),
  WA_MAX_STARTUP_CONCURRENCY: envInt(5, 1, 1000),
  WA_RECONNECT_BASE_MS: envInt(1_000, 10, 600_000),
  WA_RECONNECT_MAX_MS: envInt(60_000, 10, 3_600_000),
  /** Writes accounts/{id}.status/qr/ownerInstanceId directly as well as emitting update-account. */
  WA_WRITE_ACCOUNT_STATUS: envBoolean(true),
  WHATSAPP_SYNC_FULL_HISTORY: envBoolean(false),
  /**
   * The WhatsApp Web version Baileys announces, `2.3000.<revision>`: WhatsApp refuses an outdated
   * one (405). Unset: the current version from WHATSAPP_WEB_VERSION_URL, else the last one fetched
   * (kept in Redis), else the version Baileys was built with.
   */
  WHATSAPP_WEB_VERSION: z
    .string()
    .regex(/^\d{1,4}\.\d{1,6}\.\d{1,12}$/, 'three numbers, e.g. 2.3000.1023456789')
    .optional(),
  /** Where the current WhatsApp Web version is read (its `client_revision`). */
  WHATSAPP_WEB_VERSION_URL: z
    .url({ protocol: /^https?$/ })
    .default('https://web.whatsapp.com/sw.js'),
  /** Media sent by URL is fetched by the gateway (never by Baileys): at most this many bytes… */
  MEDIA_FETCH_MAX_BYTES: envInt(64 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024),
  /** …within this long, redirects included. */
  MEDIA_FETCH_TIMEOUT_MS: envInt(60_000, 100, 600_000),
  WHATSAPP_BACKFILL_COUNT: envInt(50, 1, 1000),
  WHATSAPP_BACKFILL_THREADS: envInt(20, 1, 1000),
  /** Health/metrics endpoint on 127.0.0.1; 0 picks a free port. */
  WA_GATEWAY_HEALTH_PORT: envPort(8081),
  WA_GATEWAY_HEALTH_HOST: z.string().default('127.0.0.1'),
})
  .superRefine(requireFirestoreTarget)
  .superRefine((env, ctx) => {
    if (env.AUTH_STATE_KEY === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_STATE_KEY'],
        message: 'required: 32 bytes (64 hex characters or base64) that encrypt the auth state',
      });
    }
    // Media (and history) would go to the emulator, not WhatsApp: never in production.
    if (env.NODE_ENV === 'production' && env.WA_MEDIA_HOST_OVERRIDE !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['WA_MEDIA_HOST_OVERRIDE'],
        message: "the WhatsApp network emulator's media CDN is refused with NODE_ENV=production",
      });
    }
  });
export type WaGatewayEnv = z.infer<typeof WaGatewayEnv>;
