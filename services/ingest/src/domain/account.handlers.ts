import { newAccountDoc } from '@wacrm/firestore';
import type { AccountStateJob, IdentityMappingsJob, RealtimeEvent } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { accountWrite, commitWrites } from '../data-access/document-writes.js';
import { inAccountTurn, inGatewayTurn } from './account-turn.js';
import { applyIdentityMappings } from './identity-merge.js';
import type { IngestDeps } from './ingest-deps.js';

/** `map-identities`: LID ↔ phone mappings, folding LID threads into phone threads. */
export async function mapIdentities(
  job: IdentityMappingsJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return inGatewayTurn(deps, job, logger, async () => {
    const result = await applyIdentityMappings(deps, job.accountId, job.mappings, logger);
    logger.info({ accountId: job.accountId, ...result }, 'identity mappings applied');
    return result;
  });
}

/** `update-account`: the socket's state, refused from a stale owner of the account. */
export async function updateAccount(
  job: AccountStateJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return inAccountTurn(deps, job.accountId, async () => {
    const verdict = await deps.fence.check(job.accountId, job.fencingToken, job.observedAt, true);
    if (verdict === 'stale') {
      logger.warn(
        {
          accountId: job.accountId,
          fencingToken: job.fencingToken,
          instanceId: job.instanceId,
          status: job.status,
        },
        'account state from a stale owner (older fencing token or observation) dropped',
      );
      return { dropped: true };
    }
    const now = new Date();
    const observed = new Date(job.observedAt);
    const account = await deps.store.loadAccount(job.accountId);
    const fields = {
      status: job.status,
      qr: job.status === 'qr_ready' ? job.qr : null,
      // WhatsApp rotates a pairing QR about every 20 s; the client shows it until then.
      qrExpiresAt:
        job.status === 'qr_ready' && job.qr !== null ? new Date(observed.getTime() + 20_000) : null,
      pairingCode: job.pairingCode,
      ownerInstanceId: job.instanceId,
      lastError:
        job.reason !== null && job.status !== 'connected'
          ? `${job.reason}${job.disconnectCode !== null ? ` (code ${job.disconnectCode})` : ''}`
          : null,
      ...(job.phone !== null ? { phone: job.phone } : {}),
      ...(job.status === 'connected' ? { lastConnectedAt: observed } : {}),
      updatedAt: now,
    };
    const events: RealtimeEvent[] = [
      {
        type: 'account.status',
        accountId: job.accountId,
        status: job.status,
        at: now.toISOString(),
      },
    ];
    const seed = account === undefined ? newAccountDoc(job.accountId, null, now) : null;
    await commitWrites(
      deps.store,
      [accountWrite(deps.store, job.accountId, seed, fields, events)],
      now,
      (committed) => deps.publisher.publish(committed),
    );
    logger.info({ accountId: job.accountId, status: job.status }, 'account state recorded');
    return { status: job.status };
  });
}
