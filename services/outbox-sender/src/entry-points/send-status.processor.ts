import type { SendStatusJob } from '@wacrm/contracts';
import { Attr, setSpanAttributes, type Logger } from '@wacrm/observability';
import type { OutboxStore } from '../data-access/outbox-store.js';

export interface SendStatusDeps {
  outbox: OutboxStore;
  logger: Logger;
}

/**
 * A fact about a send (acked, a receipt, failed for good) moves its outbox document forward.
 * Ingest reports it for the message it stores; a replay or a late fact changes nothing.
 */
export async function recordSendStatus(
  payload: SendStatusJob,
  deps: SendStatusDeps,
): Promise<{ status: string | null }> {
  setSpanAttributes({ [Attr.requestId]: payload.requestId });
  const status = await deps.outbox.apply(
    payload.requestId,
    { kind: 'status', status: payload.status, error: payload.error },
    new Date(),
  );
  if (status === null) {
    deps.logger.warn(
      { requestId: payload.requestId, status: payload.status },
      'send status for an outbox document that does not exist; nothing to move',
    );
  } else if (payload.status === 'failed' && status === 'failed') {
    deps.logger.error(
      { requestId: payload.requestId, error: payload.error },
      `outbox ${payload.requestId} failed`,
    );
  }
  return { status };
}
