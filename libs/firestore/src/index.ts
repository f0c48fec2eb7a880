export * from './firebase.js';
export * from './converters.js';
export * from './collections.js';
export * from './ids.js';
