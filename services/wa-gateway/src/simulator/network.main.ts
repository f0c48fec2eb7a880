import { loadConfig, WaSimulatorEnv } from '@wacrm/config';
import { createLogger } from '@wacrm/observability';
import { createShutdown } from '@wacrm/queue';
import { VERSION } from '../version.js';
import { SimulatedNetwork } from './network.server.js';

const SERVICE = 'wa-simulator';
const config = loadConfig(SERVICE, WaSimulatorEnv);
const logger = createLogger({
  service: SERVICE,
  version: VERSION,
  level: config.LOG_LEVEL,
  pretty: config.LOG_PRETTY,
  instanceId: config.INSTANCE_ID ?? `${SERVICE}-${process.pid}`,
});
const network = new SimulatedNetwork({
  logger,
  deliveredMs: config.WA_SIMULATOR_DELIVERED_MS,
  readMs: config.WA_SIMULATOR_READ_MS,
  qrTtlMs: config.WA_SIMULATOR_QR_TTL_MS,
  qrAttempts: config.WA_SIMULATOR_QR_ATTEMPTS,
  historyChunk: config.WA_SIMULATOR_HISTORY_CHUNK,
});
const shutdown = createShutdown({ logger });
shutdown.add('network', () => network.close());
const port = await network.listen(config.WA_SIMULATOR_PORT, config.WA_SIMULATOR_HOST);
logger.info(
  { port, host: config.WA_SIMULATOR_HOST, url: `http://${config.WA_SIMULATOR_HOST}:${port}` },
  'simulated WhatsApp network listening',
);
