export * from './bounded-fetch.js';
