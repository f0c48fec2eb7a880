export * from './firebase.js';
export * from './converters.js';
export * from './collections.js';
export * from './ids.js';
export * from './crm/events.repository.js';
export * from './crm/event-figures.js';
export * from './outbox/outbox.repository.js';
export * from './accounts.js';
