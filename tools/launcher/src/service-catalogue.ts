/**
 * The services `npm start` runs, each as its own process from its build output.
 */
export interface LaunchContext {
  waDriver: 'baileys' | 'simulator';
  simulatorUrl: string;
  simulatorPort: number;
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
}

export const SERVICES: ServiceEntry[] = [
  {
    name: 'wa-simulator',
    entry: 'services/wa-gateway/dist/simulator/network.main.js',
    when: (ctx) => ctx.waDriver === 'simulator',
    env: (ctx) => ({ WA_SIMULATOR_PORT: String(ctx.simulatorPort) }),
  },
  {
    name: 'wa-gateway',
    entry: 'services/wa-gateway/dist/main.js',
    env: (ctx) => ({
      WA_DRIVER: ctx.waDriver,
      WA_SIMULATOR_URL: ctx.simulatorUrl,
      SESSIONS_PATH: `${ctx.dataDir}/sessions`,
      WA_SPOOL_DIR: `${ctx.dataDir}/wa-spool`,
      WA_GATEWAY_HEALTH_PORT: '0',
    }),
  },
  { name: 'ingest', entry: 'services/ingest/dist/main.js' },
  { name: 'outbox-sender', entry: 'services/outbox-sender/dist/main.js' },
  { name: 'ai-extractor', entry: 'services/ai-extractor/dist/main.js' },
  { name: 'crm-aggregator', entry: 'services/crm-aggregator/dist/main.js' },
  {
    name: 'api-gateway',
    entry: 'services/api-gateway/dist/main.js',
    http: true,
    env: (ctx) => ({ WA_DRIVER: ctx.waDriver, WA_SIMULATOR_URL: ctx.simulatorUrl }),
  },
];
