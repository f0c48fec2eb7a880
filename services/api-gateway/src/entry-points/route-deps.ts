import type { Firestore } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import type { Logger } from '@wacrm/observability';
import type { AuthStore } from '../data-access/auth.repository.js';
import type { QueueRegistry } from '../data-access/queues.js';
import type { GatewayMetrics } from '../data-access/metrics.js';
import type { InboxSettingsCache } from '../data-access/inbox.repository.js';
import type { SendAdmission } from './send-admission.js';

/** What the route modules share; built once by buildApp. */
export interface RouteDeps {
  db: Firestore;
  /** Commands connection (bounded retries, so a request fails fast when Redis is down). */
  redis: Redis;
  queues: QueueRegistry;
  authStore: AuthStore;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Accounts' inbox settings, cached briefly (read receipts are checked on every send). */
  inboxSettings: InboxSettingsCache;
  /** Overload answers of sends (in-flight bound, accept deadline). */
  sendAdmission: SendAdmission;
}
