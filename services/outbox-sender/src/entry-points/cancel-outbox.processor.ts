import { AppError, type CancelOutboxJob, type OutboxDoc } from '@wacrm/contracts';
import { Attr, setSpanAttributes, type Logger } from '@wacrm/observability';
import type { OutboxStore } from '../data-access/outbox-store.js';

export interface CancelOutboxDeps {
  outbox: OutboxStore;
  logger: Logger;
}

/**
 * Cancels a scheduled send (issue 19) and answers with the status after: `cancelled`, or where
 * the send already is (the API answers 409 for anything else). The document is kept.
 */
export async function cancelOutbox(
  payload: CancelOutboxJob,
  deps: CancelOutboxDeps,
): Promise<{ status: OutboxDoc['status'] }> {
  setSpanAttributes({ [Attr.requestId]: payload.requestId });
  const status = await deps.outbox.apply(
    payload.requestId,
    { kind: 'cancel', reason: payload.reason },
    new Date(),
  );
  if (status === null) {
    throw new AppError('NOT_FOUND', `scheduled send ${payload.requestId} does not exist`);
  }
  deps.logger.info(
    { requestId: payload.requestId, status, reason: payload.reason },
    status === 'cancelled' ? 'scheduled send cancelled' : `scheduled send not cancelled: ${status}`,
  );
  return { status };
}
