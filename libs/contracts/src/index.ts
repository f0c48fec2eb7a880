export * from './common.schema.js';
export * from './crm.schema.js';
export * from './firestore.schema.js';
export * from './queue.schema.js';
export * from './http.schema.js';
export * from './realtime.schema.js';
export * from './errors.js';
export * from './zod-issues.js';
