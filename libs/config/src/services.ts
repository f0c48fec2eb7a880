import { z } from 'zod';
import { BaseEnv, envBoolean, envPort, requireFirestoreTarget } from './fields.js';

export const ApiGatewayEnv = BaseEnv.extend({
  PORT: envPort(8080),
  /** Loopback by default; set 0.0.0.0 explicitly in containers. */
  HOST: z.string().default('127.0.0.1'),
  /** Bootstrap admin credential accepted as a Bearer token (secret). */
  ADMIN_TOKEN: z.string().min(24, 'at least 24 characters').optional(),
  HEALTH_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(1500),
}).superRefine(requireFirestoreTarget);
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
});
export type LauncherEnv = z.infer<typeof LauncherEnv>;
