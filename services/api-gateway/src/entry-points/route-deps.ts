import type { Firestore } from 'firebase-admin/firestore';
import type { Redis } from 'ioredis';
import type { Logger } from '@wacrm/observability';
import type { AuthStore } from '../data-access/auth.repository.js';
import type { QueueRegistry } from '../data-access/queues.js';
import type { GatewayMetrics } from '../data-access/metrics.js';
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
  /** Overload answers of sends (in-flight bound, accept deadline). */
  sendAdmission: SendAdmission;
}
