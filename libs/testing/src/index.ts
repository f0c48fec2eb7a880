export * from './provided-context.js';
export * from './expect-eventually.js';
export * from './queue.fixture.js';
export * from './firestore.fixture.js';
export * from './telemetry.fixture.js';
export * from './logger.fixture.js';
export * from './node-process.js';
export * from './prometheus-text.js';
