import { ApiGatewayEnv, loadConfig } from '@wacrm/config';
import { initFirebaseFromEnv } from '@wacrm/firestore';
import { bootService } from '@wacrm/queue';
import { SERVICE } from './app.js';
import { startGateway } from './gateway.js';
import { VERSION } from './version.js';

const config = loadConfig(SERVICE, ApiGatewayEnv);
const { instanceId, logger, shutdown } = bootService(SERVICE, VERSION, config);

const firebase = initFirebaseFromEnv(config);
shutdown.add('firebase', () => firebase.close());

const gateway = await startGateway({
  config,
  logger,
  instanceId,
  version: VERSION,
  db: firebase.db,
  auth: firebase.auth,
});
// Closes HTTP first, then lets running webhook deliveries finish, then the connections.
shutdown.add('gateway', () => gateway.close());

await gateway.app.listen({ port: config.PORT, host: config.HOST });
logger.info(
  { port: config.PORT, host: config.HOST, waEmulator: config.WA_EMULATOR_URL ?? null },
  'api-gateway listening',
);
