export * from './redis-connection.js';
export * from './job-options.js';
export * from './queue-client.js';
export * from './worker.js';
export * from './shutdown.js';
export * from './boot.js';
export * from './ops.js';
export * from './realtime-publisher.js';
