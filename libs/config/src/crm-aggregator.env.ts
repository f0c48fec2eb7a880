import type { z } from 'zod';
import { BaseEnv, envInt, requireFirestoreTarget } from './fields.js';

/** crm-aggregator: recomputes `clients/{phoneE164}` from the events, one run per client at a time. */
export const CrmAggregatorEnv = BaseEnv.extend({
  /** Jobs processed at once by this process (different clients; one client is never parallel). */
  CRM_CONCURRENCY: envInt(4, 1, 64),
  /** Lifetime of the per-client Redis lock; renewed while a recompute runs. */
  CRM_LOCK_TTL_MS: envInt(30_000, 1_000, 600_000),
}).superRefine(requireFirestoreTarget);
export type CrmAggregatorEnv = z.infer<typeof CrmAggregatorEnv>;
