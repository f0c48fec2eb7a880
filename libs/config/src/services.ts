import { z } from 'zod';
import { BaseEnv, envPort, requireFirestoreTarget } from './fields.js';

export const ApiGatewayEnv = BaseEnv.extend({
  PORT: envPort(8080),
  /** Loopback by default; set 0.0.0.0 explicitly in containers. */
  HOST: z.string().default('127.0.0.1'),
  /** Bootstrap admin credential accepted as a Bearer token (secret). */
  ADMIN_TOKEN: z.string().min(24, 'at least 24 characters').optional(),
  HEALTH_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(1500),
}).superRefine(requireFirestoreTarget);
export type ApiGatewayEnv = z.infer<typeof ApiGatewayEnv>;
