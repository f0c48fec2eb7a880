import { z } from 'zod';
import { BaseEnv, envInt, envPort } from './fields.js';

/** The WhatsApp network emulator (libs/wa-emulator, `wa-emulator.main.ts`): tests and local runs. */
export const WaEmulatorEnv = BaseEnv.pick({
  NODE_ENV: true,
  LOG_LEVEL: true,
  LOG_PRETTY: true,
}).extend({
  /** Control API and client WebSocket; 0 picks a free port (the ready log line names it). */
  WA_EMULATOR_PORT: envPort(0),
  /** Loopback only: the emulator hands out test keys and must never face a network. */
  WA_EMULATOR_HOST: z.enum(['127.0.0.1', 'localhost']).default('127.0.0.1'),
  /** Media CDN (HTTPS); 0 picks a free port. */
  WA_EMULATOR_MEDIA_PORT: envPort(0),
  /** Paired devices, keys, sessions, queued messages and media; in memory when unset. */
  WA_EMULATOR_DATA_DIR: z.string().min(1).max(4096).optional(),
  /** Delays of a contact's delivery and read receipts for what an account sends. */
  WA_EMULATOR_DELIVERED_MS: envInt(100, 0, 600_000),
  WA_EMULATOR_READ_MS: envInt(300, 0, 600_000),
});
export type WaEmulatorEnv = z.infer<typeof WaEmulatorEnv>;
