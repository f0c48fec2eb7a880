import { join } from 'node:path';
import { loadConfig, WaEmulatorEnv } from '@wacrm/config';
import { createLogger } from '@wacrm/observability';
import { MEDIA_CA_FILE_NAME, WaEmulator } from './wa-emulator.server.js';

// Runs the WhatsApp network emulator as its own process (launcher, tests, local runs):
//   WA_EMULATOR_PORT=7780 WA_EMULATOR_DATA_DIR=.data/wa-emulator node dist/wa-emulator.main.js
// Settings: WaEmulatorEnv (libs/config). Once listening it logs `wa-emulator ready` with its URLs;
// SIGTERM or SIGINT saves the state and exits 0.

const env = loadConfig('wa-emulator', WaEmulatorEnv);
const logger = createLogger({ service: 'wa-emulator', version: '0.1.0', level: env.LOG_LEVEL });

try {
  const dataDir = env.WA_EMULATOR_DATA_DIR;
  const emulator = await WaEmulator.start({
    logger,
    port: env.WA_EMULATOR_PORT,
    mediaPort: env.WA_EMULATOR_MEDIA_PORT,
    deliveredMs: env.WA_EMULATOR_DELIVERED_MS,
    readMs: env.WA_EMULATOR_READ_MS,
    ...(dataDir !== undefined ? { dataDir } : {}),
  });
  logger.info(
    {
      url: emulator.controlUrl,
      socketUrl: emulator.socketUrl('<accountId>'),
      mediaHost: emulator.mediaHost,
      ...(dataDir !== undefined ? { mediaCaFile: join(dataDir, MEDIA_CA_FILE_NAME), dataDir } : {}),
    },
    'wa-emulator ready',
  );

  let stopping = false;
  const shutdown = (signal: string): void => {
    // Ctrl-C reaches the whole process group: a second signal must not cut the final save short.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'wa-emulator stopping');
    emulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'wa-emulator stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (error) {
  logger.error({ err: error }, 'wa-emulator failed to start');
  process.exit(1);
}
