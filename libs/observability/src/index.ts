export * from './logger.js';
export * from './telemetry.js';
export * from './metrics.js';
export * from './hash.js';
export * from './spans.js';
export * from './ops-server.js';
