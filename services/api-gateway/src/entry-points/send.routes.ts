import type { FastifyInstance } from 'fastify';
import { AppError, SendMessageAccepted, SendMessageBody } from '@wacrm/contracts';
import { createOutboxEntry, readMediaUpload, threadIdFor } from '@wacrm/firestore';
import { Attr, currentTraceparent, setSpanAttributes } from '@wacrm/observability';
import { enqueue } from '@wacrm/queue';
import { sendAcceptedKey } from '../data-access/realtime.js';
import { getThread } from '../data-access/threads.repository.js';
import { requireAccount } from '../domain/principal.js';
import { principalOf } from './auth.hook.js';
import { IdempotencyHeaders, requestIdOf } from './request-id.js';
import type { RouteDeps } from './route-deps.js';
import { errorResponses } from './whatsapp.routes.js';
import { documentedRoutes } from './documented.js';
import { sendReadReceipt } from './read-receipts.js';

const tags = ['whatsapp'] as const;

function phoneJid(phoneE164: string): string {
  return `${phoneE164.slice(1)}@s.whatsapp.net`;
}

/**
 * `POST /api/whatsapp/send` (the seeds' sendViaProxy). The outbox document is the truth: it is
 * written first and only once per requestId; queueing may fail afterwards (Redis down) and the
 * outbox-sender's relay hands it over later, so an accepted send is never lost.
 */
export function sendRoutes(deps: RouteDeps) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);
    app.post(
      '/api/whatsapp/send',
      {
        config: { operation: 'send' },
        schema: {
          tags,
          operationId: 'sendMessage',
          description: `Stores the message in the outbox and answers 202 once it is durable; the outbox sender hands it to the account's wa-gateway. Exactly one of threadId or to, and text or media. A retry with the same requestId (or Idempotency-Key header) answers the first result.`,
          bodyExample: {
            accountId: 'acc_demo',
            to: '+40722333444',
            text: 'Hello from wacrm',
            requestId: 'req-20261207-0001',
          },
          summary:
            'Send a WhatsApp message through the outbox (idempotent per requestId / Idempotency-Key)',
          body: SendMessageBody,
          headers: IdempotencyHeaders,
          response: { 202: SendMessageAccepted, ...errorResponses, 409: errorResponses[400] },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const principal = principalOf(request);
        requireAccount(principal, body.accountId);
        const headerKey = request.headers['idempotency-key'];
        if (
          body.requestId !== undefined &&
          typeof headerKey === 'string' &&
          headerKey !== body.requestId
        ) {
          throw new AppError('VALIDATION_FAILED', 'requestId and Idempotency-Key differ', {
            errors: [
              {
                path: 'requestId',
                message: 'must equal the Idempotency-Key header when both are given',
              },
            ],
          });
        }
        const requestId = body.requestId ?? requestIdOf(request, 'send');
        if (body.media?.dataBase64 !== undefined) {
          throw new AppError('VALIDATION_FAILED', 'media uploads are not stored; pass media.url', {
            errors: [{ path: 'media.dataBase64', message: 'not supported: pass media.url' }],
          });
        }
        const mediaId = body.media?.mediaId;
        if (mediaId !== undefined && !(await readMediaUpload(deps.db, mediaId, body.accountId))) {
          throw new AppError(
            'NOT_FOUND',
            `media ${mediaId} was not uploaded for ${body.accountId}`,
          );
        }

        let threadId: string;
        let to: string;
        if (body.threadId !== undefined) {
          const thread = await getThread(deps.db, body.threadId);
          if (thread.accountId !== body.accountId) {
            throw new AppError(
              'NOT_FOUND',
              `thread ${body.threadId} is not a thread of ${body.accountId}`,
            );
          }
          threadId = body.threadId;
          to = thread.clientJid;
        } else {
          to = phoneJid(body.to!);
          threadId = threadIdFor(body.accountId, to);
        }

        const write = await createOutboxEntry(deps.db, {
          requestId,
          accountId: body.accountId,
          threadId,
          to,
          text: body.text ?? null,
          media: body.media ?? null,
          replyTo: body.replyTo?.id ?? null,
          createdBy: principal.id,
          traceparent: currentTraceparent() ?? null,
        });
        const { doc } = write;
        setSpanAttributes({
          [Attr.accountId]: doc.accountId,
          [Attr.messageId]: doc.waMessageId,
          [Attr.requestId]: requestId,
        });
        try {
          if (write.created) {
            // The start of the send-latency measurement (see wacrm_send_latency_seconds).
            await deps.redis.set(
              sendAcceptedKey(deps.queues.prefix, doc.waMessageId),
              String(doc.createdAt.getTime()),
              'EX',
              86_400,
            );
          }
          // Both keyed by the requestId: a repeated call re-adds nothing.
          await enqueue(
            deps.queues.waInbound,
            'record-outbound',
            {
              accountId: doc.accountId,
              requestId,
              threadId: doc.threadId,
              to: doc.to,
              waMessageId: doc.waMessageId,
              acceptedAt: doc.createdAt.toISOString(),
              // The outbox document was just written: ingest need not read it back.
              content: { body: doc.body, media: doc.media, replyTo: doc.replyTo },
            },
            { jobId: `outbound.${requestId}` },
          );
          await enqueue(
            deps.queues.outbox,
            'send-outbox',
            { requestId, accountId: doc.accountId },
            { jobId: requestId },
          );
        } catch (error) {
          request.log.warn(
            { err: error, requestId },
            'send accepted but not queued yet (Redis unavailable); the outbox relay will queue it',
          );
        }
        if (write.created) {
          // Issue 20 item 2: with read receipts "on_reply", WhatsApp learns the client's messages
          // were read when the business answers (the send is stored by now).
          await sendReadReceipt(
            deps,
            doc.accountId,
            doc.threadId,
            doc.createdAt.toISOString(),
            'reply',
          ).catch((error: unknown) =>
            request.log.warn({ err: error, requestId }, 'read receipt on reply not queued'),
          );
        }
        // A repeat answers exactly what the first call did (the acceptance, not the progress,
        // which the message's status and the SSE stream carry).
        if (!write.created) void reply.header('idempotent-replayed', 'true');
        return reply.status(202).send({
          requestId,
          threadId: doc.threadId,
          messageId: doc.waMessageId,
          status: 'queued',
        });
      },
    );
    return Promise.resolve();
  };
}
