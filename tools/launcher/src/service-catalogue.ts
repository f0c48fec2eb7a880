/**
 * The services `npm start` runs, each as its own process from its build output.
 */
export interface LaunchContext {
  /** Real Baileys against the WhatsApp network emulator (false: WhatsApp itself). */
  emulator: boolean;
  emulatorPort: number;
  /** The emulator's media CDN (HTTPS) on 127.0.0.1. */
  emulatorMediaPort: number;
  /** Absolute `file:` URL of the emulator's preload (swaps Baileys' certificate root). */
  emulatorPreload: string;
  dataDir: string;
}

export interface ServiceEntry {
  name: string;
  /** Path of the built entry point, relative to the repository root. */
  entry: string;
  /** The HTTP front door: gets PORT/HOST, and the system is up when its /health answers. */
  http?: boolean;
  /** Started only when this holds. */
  when?: (ctx: LaunchContext) => boolean;
  env?: (ctx: LaunchContext) => Record<string, string>;
  /** A URL that answers 200 once the service is ready; the next services start only then. */
  readyUrl?: (ctx: LaunchContext) => string;
}

export function emulatorControlUrl(ctx: LaunchContext): string {
  return `http://127.0.0.1:${ctx.emulatorPort}`;
}

/** The emulator's state: paired devices, keys, contacts' sessions, undelivered messages, media. */
export function emulatorDataDir(ctx: LaunchContext): string {
  return `${ctx.dataDir}/wa-emulator`;
}

export const SERVICES: ServiceEntry[] = [
  {
    name: 'wa-emulator',
    entry: 'libs/wa-emulator/dist/wa-emulator.main.js',
    when: (ctx) => ctx.emulator,
    env: (ctx) => ({
      WA_EMULATOR_PORT: String(ctx.emulatorPort),
      WA_EMULATOR_MEDIA_PORT: String(ctx.emulatorMediaPort),
      WA_EMULATOR_DATA_DIR: emulatorDataDir(ctx),
    }),
    readyUrl: (ctx) => `${emulatorControlUrl(ctx)}/health`,
  },
  {
    name: 'wa-gateway',
    entry: 'services/wa-gateway/dist/main.js',
    env: (ctx) => ({
      WA_DRIVER: 'baileys',
      SESSIONS_PATH: `${ctx.dataDir}/sessions`,
      WA_SPOOL_DIR: `${ctx.dataDir}/wa-spool`,
      WA_GATEWAY_HEALTH_PORT: '0',
      ...(ctx.emulator
        ? {
            WA_WEBSOCKET_URL: `ws://127.0.0.1:${ctx.emulatorPort}/ws?account={accountId}`,
            // Only here, never in a deployment: Baileys trusts the emulator's test root.
            NODE_OPTIONS: `--import ${ctx.emulatorPreload}`,
            // The emulator's media CDN serves HTTPS with its own certificate.
            NODE_EXTRA_CA_CERTS: `${emulatorDataDir(ctx)}/wa-emulator-media-ca.pem`,
            // Every media host (history chunks come from mmg.whatsapp.net) is the emulator's CDN.
            WA_MEDIA_HOST_OVERRIDE: `127.0.0.1:${ctx.emulatorMediaPort}`,
            // The current WhatsApp Web version is the emulator's: never web.whatsapp.com.
            WHATSAPP_WEB_VERSION_URL: `${emulatorControlUrl(ctx)}/sw.js`,
          }
        : {}),
    }),
  },
  { name: 'ingest', entry: 'services/ingest/dist/main.js' },
  {
    name: 'media-worker',
    entry: 'services/media-worker/dist/main.js',
    env: (ctx): Record<string, string> =>
      ctx.emulator
        ? {
            // Downloads go to the emulator's media CDN, HTTPS with its own certificate.
            WA_MEDIA_HOST: `127.0.0.1:${ctx.emulatorMediaPort}`,
            NODE_EXTRA_CA_CERTS: `${emulatorDataDir(ctx)}/wa-emulator-media-ca.pem`,
          }
        : {},
  },
  { name: 'outbox-sender', entry: 'services/outbox-sender/dist/main.js' },
  { name: 'ai-extractor', entry: 'services/ai-extractor/dist/main.js' },
  { name: 'crm-aggregator', entry: 'services/crm-aggregator/dist/main.js' },
  {
    name: 'api-gateway',
    entry: 'services/api-gateway/dist/main.js',
    http: true,
    env: (ctx): Record<string, string> =>
      ctx.emulator ? { WA_EMULATOR_URL: emulatorControlUrl(ctx) } : {},
  },
];
