import type { Logger } from '@wacrm/observability';
import type { IngestDeps } from './ingest-deps.js';

/** What every job from wa-gateway carries about the socket that produced it. */
export interface FromGateway {
  accountId: string;
  fencingToken: number;
  observedAt: string;
  instanceId: string;
}

/**
 * Runs `work` in the account's turn (one writer of its threads, counters and index at a time,
 * across ingest processes: IngestDeps.lock). Every handler that writes an account's documents
 * goes through here.
 */
export function inAccountTurn<T>(
  deps: IngestDeps,
  accountId: string,
  work: () => Promise<T>,
): Promise<T> {
  return deps.lock.run(accountId, work);
}

/**
 * The account's turn for a job from wa-gateway, with its fencing token recorded first.
 * Messages, receipts and edits are facts keyed by id that only move forward, so a stale owner's
 * copy of them is kept (dropping it could lose a message); only account state from a stale
 * owner is refused (see updateAccount, which checks the fence itself).
 */
export function inGatewayTurn<T>(
  deps: IngestDeps,
  job: FromGateway,
  logger: Logger,
  work: () => Promise<T>,
): Promise<T> {
  return inAccountTurn(deps, job.accountId, async () => {
    const verdict = await deps.fence.check(job.accountId, job.fencingToken, job.observedAt, false);
    if (verdict === 'stale') {
      logger.warn(
        { accountId: job.accountId, fencingToken: job.fencingToken, instanceId: job.instanceId },
        'job from a stale owner of the account; its messages are kept (idempotent, forward-only)',
      );
    }
    return work();
  });
}
