import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LauncherEnv, loadConfig, readRuntimeEnv } from '@wacrm/config';
import { freePort, startRedisServer, type RedisServerHandle } from '@wacrm/emulators';
import { createLogger } from '@wacrm/observability';
import { DataDirInUseError, DataDirLock } from './data-dir-lock.js';
import { generateAdminToken, generateAesKey, resolveLocalSecret } from './local-secret.js';
import { emulatorControlUrl, SERVICES, type LaunchContext } from './service-catalogue.js';
import { SupervisedProcess } from './supervised-process.js';
import { waitForHttpOk } from './wait-http.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const config = loadConfig('launcher', LauncherEnv);
const logger = createLogger({
  service: 'launcher',
  version: '0.1.0',
  level: config.LOG_LEVEL,
  pretty: config.LOG_PRETTY,
});
const dataDir = isAbsolute(config.DATA_DIR) ? config.DATA_DIR : join(ROOT, config.DATA_DIR);
await mkdir(dataDir, { recursive: true, mode: 0o700 });
// One launcher per DATA_DIR: a second redis-server on the same append-only files, or a second
// emulator on the same snapshot and log, would corrupt them.
let lock: DataDirLock;
try {
  lock = await DataDirLock.acquire(dataDir, {
    onWait: (pids) =>
      logger.warn({ pids }, 'processes of a launcher that is gone are still stopping; waiting'),
  });
} catch (error) {
  if (!(error instanceof DataDirInUseError)) throw error;
  logger.fatal({ dataDir, holder: error.holder }, error.message);
  // The pretty transport writes from a worker that exit() does not wait for.
  if (config.LOG_PRETTY) process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
process.once('exit', () => lock.releaseSync());
// Every Node child loads this first: it ends the child when the launcher ends, however it ends.
const END_WITH_LAUNCHER = pathToFileURL(
  join(ROOT, 'tools/launcher/dist/end-with-launcher.preload.js'),
).href;

const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
let shuttingDown = false;
async function shutdown(reason: string, code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ reason }, 'stopping everything');
  for (const { name, stop } of stops.reverse()) {
    try {
      await stop();
      logger.info(`${name} stopped`);
    } catch (error) {
      logger.error({ err: error, name }, 'stop failed');
    }
  }
  process.exit(code);
}
process.once('SIGINT', () => void shutdown('SIGINT', 0));
process.once('SIGTERM', () => void shutdown('SIGTERM', 0));

const supervised: SupervisedProcess[] = [];
process.once('exit', () => supervised.forEach((p) => p.killNow()));

const colours = [36, 35, 33, 32, 34, 31];
function supervise(
  name: string,
  args: string[],
  env: Record<string, string | undefined>,
): SupervisedProcess {
  const proc = new SupervisedProcess({
    name,
    command: process.execPath,
    args: ['--import', END_WITH_LAUNCHER, ...args],
    env,
    cwd: ROOT,
    logger,
    output: process.stdout,
    onStart: (pid) => void lock.recordChild(pid).catch(() => undefined),
    ...(config.LOG_PRETTY ? { colour: colours[stops.length % colours.length]! } : {}),
  });
  proc.start();
  supervised.push(proc);
  stops.push({ name, stop: () => proc.stop() });
  return proc;
}

try {
  // Redis: the given one, or our own with an append-only file so queues survive restarts.
  let redisUrl = config.REDIS_URL;
  if (redisUrl === undefined) {
    const redis: RedisServerHandle = await startRedisServer({
      dir: join(dataDir, 'redis'),
      appendOnly: true,
      ...(config.REDIS_PORT !== 0 ? { port: config.REDIS_PORT } : {}),
      logFile: join(dataDir, 'redis.log'),
      endWithParent: true,
    });
    await lock.recordChild(redis.pid);
    stops.push({ name: 'redis-server', stop: () => redis.stop() });
    redisUrl = redis.url;
    logger.info(
      { url: redisUrl, dir: join(dataDir, 'redis') },
      'redis-server started (append-only)',
    );
  }

  // Firestore: the given emulator or real credentials, or our own emulator with snapshots.
  const env: Record<string, string | undefined> = {
    ...readRuntimeEnv(),
    METADATA_SERVER_DETECTION: 'none',
    REDIS_URL: redisUrl,
    FIREBASE_PROJECT_ID: config.FIREBASE_PROJECT_ID,
    QUEUE_PREFIX: config.QUEUE_PREFIX,
    LOG_LEVEL: config.LOG_LEVEL,
    LOG_PRETTY: String(config.LOG_PRETTY),
  };
  const hasCredentials =
    config.FIREBASE_SERVICE_ACCOUNT_JSON !== undefined ||
    config.GOOGLE_APPLICATION_CREDENTIALS !== undefined;
  if (config.FIRESTORE_EMULATOR_HOST === undefined && !hasCredentials) {
    const port =
      config.FIRESTORE_EMULATOR_PORT !== 0 ? config.FIRESTORE_EMULATOR_PORT : await freePort();
    const controlPort = await freePort();
    const snapshot = join(dataDir, 'firestore.json');
    supervise(
      'firestore',
      [
        join(ROOT, 'libs/emulators/dist/firestore-emulator.main.js'),
        '--port',
        String(port),
        '--control-port',
        String(controlPort),
        '--snapshot',
        snapshot,
        '--snapshot-interval-ms',
        String(config.FIRESTORE_SNAPSHOT_INTERVAL_MS),
      ],
      { ...env },
    );
    await waitForHttpOk(`http://127.0.0.1:${controlPort}/health`, 30_000);
    env.FIRESTORE_EMULATOR_HOST = `127.0.0.1:${port}`;
    logger.info(
      { host: env.FIRESTORE_EMULATOR_HOST, snapshot },
      'firestore emulator started (snapshots in DATA_DIR)',
    );
  }

  // Object storage of media: the given S3 endpoint, or our own S3 server with files in DATA_DIR.
  if (config.S3_ENDPOINT === undefined) {
    const port = config.S3_PORT !== 0 ? config.S3_PORT : await freePort();
    const dir = join(dataDir, 's3');
    supervise(
      's3-store',
      [
        join(ROOT, 'libs/emulators/dist/s3-store.main.js'),
        '--port',
        String(port),
        '--dir',
        dir,
        '--bucket',
        config.S3_BUCKET,
      ],
      { ...env },
    );
    const endpoint = `http://127.0.0.1:${port}`;
    // The bucket answers once the server is up and has created it.
    await waitForHttpOk(`${endpoint}/${config.S3_BUCKET}?max-keys=1`, 30_000);
    Object.assign(env, {
      S3_ENDPOINT: endpoint,
      S3_BUCKET: config.S3_BUCKET,
      S3_FORCE_PATH_STYLE: 'true',
      // s3rver's fixed keys: it listens on loopback only.
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
    });
    logger.info({ endpoint, dir }, 's3 store started (objects in DATA_DIR)');
  }

  const admin = await resolveLocalSecret(
    dataDir,
    'admin-token',
    config.ADMIN_TOKEN,
    generateAdminToken,
    (v) => v.length >= 24,
  );
  env.ADMIN_TOKEN = admin.value;
  const authStateKey = await resolveLocalSecret(
    dataDir,
    'auth-state-key',
    config.AUTH_STATE_KEY,
    generateAesKey,
    (v) => /^[0-9a-f]{64}$/i.test(v),
  );
  env.AUTH_STATE_KEY = authStateKey.value;
  const webhookKey = await resolveLocalSecret(
    dataDir,
    'webhook-secret-key',
    config.WEBHOOK_SECRET_KEY,
    generateAdminToken,
    (v) => v.length >= 32,
  );
  env.WEBHOOK_SECRET_KEY = webhookKey.value;

  const emulatorPort = config.WA_EMULATOR_PORT !== 0 ? config.WA_EMULATOR_PORT : await freePort();
  const ctx: LaunchContext = {
    emulator: config.WA_EMULATOR,
    emulatorPort,
    emulatorMediaPort: await freePort(),
    emulatorPreload: pathToFileURL(join(ROOT, 'libs/wa-emulator/dist/preload.js')).href,
    dataDir,
  };
  for (const service of SERVICES) {
    if (service.when !== undefined && !service.when(ctx)) continue;
    const serviceEnv = { ...env, INSTANCE_ID: `${service.name}-local`, ...service.env?.(ctx) };
    if (service.http === true) {
      Object.assign(serviceEnv, { PORT: String(config.PORT), HOST: config.HOST });
    }
    supervise(service.name, ['--enable-source-maps', join(ROOT, service.entry)], serviceEnv);
    if (service.readyUrl !== undefined) await waitForHttpOk(service.readyUrl(ctx), 30_000);
  }

  const url = `http://${config.HOST}:${config.PORT}`;
  await waitForHttpOk(`${url}/health`, 60_000);
  const tokenLine =
    admin.source === 'env'
      ? 'Admin token: from ADMIN_TOKEN'
      : `Admin token: ${admin.value}  (kept in ${admin.path})`;
  const driverLine = ctx.emulator
    ? `WhatsApp: real Baileys against the WhatsApp network emulator at ${emulatorControlUrl(ctx)} (WA_EMULATOR=false pairs real numbers)`
    : 'WhatsApp: real numbers (Baileys)';
  process.stdout.write(
    `\nWhatsApp CRM is running at ${url}\n${tokenLine}\n${driverLine}\nPress Ctrl-C to stop.\n\n`,
  );
} catch (error) {
  logger.fatal({ err: error }, 'start-up failed');
  await shutdown('start-up failed', 1);
}
