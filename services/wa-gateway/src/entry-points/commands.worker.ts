import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { isAppError, waCommandsQueue } from '@wacrm/contracts';
import { Attr, hashForTelemetry, SpanKind, withSpan, type Logger } from '@wacrm/observability';
import { jobIdFrom, startWorker } from '@wacrm/queue';
import type { InboundPublisher } from '../data-access/inbound-publisher.js';
import type { AccountSession } from '../domain/account-session.js';

export interface CommandWorkerDeps {
  connection: Redis;
  prefix: string;
  logger: Logger;
  publisher: InboundPublisher;
  instanceId: string;
}

/**
 * One worker per owned account on `wa-commands.{accountId}`, concurrency 1: commands run in
 * order. The queue lives in Redis, so commands wait there across a change of owner.
 */
export function startCommandWorker(session: AccountSession, deps: CommandWorkerDeps): Worker {
  const { accountId } = session;
  const sendResult = (
    requestId: string,
    waMessageId: string,
    outcome: 'sent' | 'failed',
    error: string | null,
    retryable: boolean,
  ) =>
    deps.publisher.publish(
      'record-send-result',
      {
        accountId,
        instanceId: deps.instanceId,
        fencingToken: session.lease.token,
        observedAt: new Date().toISOString(),
        requestId,
        waMessageId,
        outcome,
        error,
        retryable,
      },
      jobIdFrom(accountId, 'send', requestId, outcome),
    );
  return startWorker(
    waCommandsQueue(accountId),
    {
      'send-message': async (command, { job, logger }) => {
        try {
          // From handing the message to the socket until WhatsApp's server acknowledges it.
          await withSpan(
            'wa.send',
            {
              kind: SpanKind.CLIENT,
              attributes: {
                [Attr.accountId]: accountId,
                [Attr.messageId]: command.waMessageId,
                [Attr.requestId]: command.requestId,
                [Attr.peerHash]: hashForTelemetry(command.to),
              },
            },
            () => session.send(command),
          );
        } catch (error) {
          const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          // A refused or oversized media URL fails at once: retrying cannot change the answer.
          const permanent = isAppError(error) && !error.retryable;
          if (lastAttempt || permanent) {
            logger.error({ err: error, permanent }, 'send failed for good');
            // Final either way: no attempt follows, so the outbox ends `failed` with the reason
            // (reporting it retryable left the outbox `sending` for good).
            await sendResult(
              command.requestId,
              command.waMessageId,
              'failed',
              (error as Error).message,
              false,
            );
          }
          throw error;
        }
        await sendResult(command.requestId, command.waMessageId, 'sent', null, false);
      },
      connect: () => session.resume(),
      logout: () => session.logout(),
      'regenerate-qr': () => session.regenerateQr(),
      backfill: (c) => session.backfill(c.threads, c.messagesPerThread),
      'request-pairing-code': (c) => session.requestPairingCode(c.phone),
      'reupload-media': (c) => session.reuploadMedia(c),
      'mark-read': (c) => session.markRead(c),
    },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      logger: deps.logger,
      // The sender's trace continues here (context carried in the job).
      tracerName: 'wa-gateway',
    },
    { concurrency: 1 },
  );
}
