import { z } from 'zod';
import { BaseEnv, envInt, envPort } from './fields.js';

/** The simulated WhatsApp network (services/wa-gateway/src/simulator). */
export const WaSimulatorEnv = BaseEnv.pick({
  NODE_ENV: true,
  LOG_LEVEL: true,
  LOG_PRETTY: true,
  INSTANCE_ID: true,
}).extend({
  WA_SIMULATOR_PORT: envPort(8090),
  WA_SIMULATOR_HOST: z.string().default('127.0.0.1'),
  WA_SIMULATOR_DELIVERED_MS: envInt(500, 0, 600_000),
  WA_SIMULATOR_READ_MS: envInt(1_500, 0, 600_000),
  /** How long one QR stays valid before the network issues the next. */
  WA_SIMULATOR_QR_TTL_MS: envInt(20_000, 100, 600_000),
  /** QRs issued per connection before it closes with 408, as WhatsApp does. */
  WA_SIMULATOR_QR_ATTEMPTS: envInt(5, 1, 100),
  /** Messages per messaging-history.set chunk. */
  WA_SIMULATOR_HISTORY_CHUNK: envInt(500, 1, 20_000),
});
export type WaSimulatorEnv = z.infer<typeof WaSimulatorEnv>;
