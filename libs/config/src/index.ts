export * from './config.js';
export * from './fields.js';
export * from './services.js';
