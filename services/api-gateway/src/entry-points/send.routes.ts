import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { z } from 'zod';
import {
  AppError,
  SendMessageAccepted,
  SendMessageBody,
  sendAtProblem,
  type OutgoingMedia,
} from '@wacrm/contracts';
import {
  createOutboxEntry,
  readMediaUpload,
  readOutboxEntries,
  threadIdFor,
} from '@wacrm/firestore';
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
import { admissionGate, withinAcceptDeadline } from './send-admission.js';

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
    const admit = admissionGate(deps.sendAdmission);
    app.post(
      '/api/whatsapp/send',
      {
        config: { operation: 'send' },
        schema: {
          tags,
          operationId: 'sendMessage',
          description: `Stores the message in the outbox and answers 202 once it is durable; the outbox sender hands it to the account's wa-gateway. Exactly one of threadId or to, and text or media. A retry with the same requestId (or Idempotency-Key header) answers the first result. Under overload (too many sends being accepted, or the store not confirming within the accept deadline) it answers 503 with Retry-After and nothing acknowledged: retry with the same requestId. With sendAt (in the future, at most a year ahead) the send is stored as scheduled and goes out at that time, paced like any send; until then it can be cancelled (cancelScheduledSend).`,
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
          response: {
            202: SendMessageAccepted,
            ...errorResponses,
            409: errorResponses[400],
            503: errorResponses[400],
          },
        },
      },
      (request, reply) =>
        admit(async () => {
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
            throw new AppError(
              'VALIDATION_FAILED',
              'media uploads are not stored; pass media.url',
              {
                errors: [{ path: 'media.dataBase64', message: 'not supported: pass media.url' }],
              },
            );
          }
          let sendAt: Date | null = null;
          if (body.sendAt !== undefined) {
            sendAt = new Date(body.sendAt);
            const problem = sendAtProblem(sendAt, Date.now());
            // A retry of an accepted schedule answers the first acceptance, even once its time passed.
            const accepted =
              problem !== null &&
              (await readOutboxEntries(deps.db, [requestId])).get(requestId)?.sendAt?.getTime() ===
                sendAt.getTime();
            if (problem !== null && !accepted) {
              throw new AppError('VALIDATION_FAILED', `sendAt ${problem}`, {
                errors: [{ path: 'sendAt', message: problem }],
              });
            }
          }
          const accepted = await acceptSend(
            deps,
            {
              requestId,
              accountId: body.accountId,
              ...(body.threadId !== undefined ? { threadId: body.threadId } : { to: body.to! }),
              text: body.text ?? null,
              media: body.media ?? null,
              replyTo: body.replyTo?.id ?? null,
              sendAt,
              createdBy: principal.id,
            },
            request.log,
          );
          // A repeat answers exactly what the first call did (the acceptance, not the progress,
          // which the message's status and the SSE stream carry).
          if (!accepted.created) void reply.header('idempotent-replayed', 'true');
          return reply.status(202).send(accepted.answer);
        }),
    );
    return Promise.resolve();
  };
}

export interface SendToAccept {
  requestId: string;
  accountId: string;
  /** Exactly one of threadId (a thread of the account) or to (E.164). */
  threadId?: string;
  to?: string;
  text: string | null;
  media: OutgoingMedia | null;
  /** Id of the quoted message in the same thread. */
  replyTo: string | null;
  /** Issue 19: a scheduled send, checked by the caller (sendAtProblem). */
  sendAt: Date | null;
  createdBy: string;
}

/**
 * Accepts a send (the route's, and an approved reminder's): the outbox document first, once per
 * requestId; then the jobs, whose loss the outbox-sender's relay repairs. A scheduled send only
 * gets its delayed job: it enters the conversation when it goes out, not before.
 */
export async function acceptSend(
  deps: RouteDeps,
  send: SendToAccept,
  log: FastifyBaseLogger,
): Promise<{ created: boolean; answer: z.infer<typeof SendMessageAccepted> }> {
  const { requestId } = send;
  const mediaId = send.media?.mediaId;
  if (mediaId !== undefined && !(await readMediaUpload(deps.db, mediaId, send.accountId))) {
    throw new AppError('NOT_FOUND', `media ${mediaId} was not uploaded for ${send.accountId}`);
  }

  let threadId: string;
  let to: string;
  if (send.threadId !== undefined) {
    const thread = await getThread(deps.db, send.threadId);
    if (thread.accountId !== send.accountId) {
      throw new AppError(
        'NOT_FOUND',
        `thread ${send.threadId} is not a thread of ${send.accountId}`,
      );
    }
    threadId = send.threadId;
    to = thread.clientJid;
  } else {
    to = phoneJid(send.to!);
    threadId = threadIdFor(send.accountId, to);
  }

  const write = await withinAcceptDeadline(
    createOutboxEntry(deps.db, {
      requestId,
      accountId: send.accountId,
      threadId,
      to,
      text: send.text,
      media: send.media,
      replyTo: send.replyTo,
      createdBy: send.createdBy,
      traceparent: currentTraceparent() ?? null,
      sendAt: send.sendAt,
    }),
    deps.sendAdmission.acceptTimeoutMs,
  );
  const { doc } = write;
  setSpanAttributes({
    [Attr.accountId]: doc.accountId,
    [Attr.messageId]: doc.waMessageId,
    [Attr.requestId]: requestId,
  });
  const scheduledAt = doc.sendAt ?? null;
  try {
    if (scheduledAt !== null) {
      // Fired by its delayed job; the document is the truth if Redis loses it (the relay).
      await enqueue(
        deps.queues.outbox,
        'send-outbox',
        { requestId, accountId: doc.accountId },
        { jobId: requestId, delay: Math.max(0, scheduledAt.getTime() - Date.now()) },
      );
    } else {
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
    }
  } catch (error) {
    log.warn(
      { err: error, requestId },
      'send accepted but not queued yet (Redis unavailable); the outbox relay will queue it',
    );
  }
  if (write.created && scheduledAt === null) {
    // Issue 20 item 2: with read receipts "on_reply", WhatsApp learns the client's messages
    // were read when the business answers (the send is stored by now).
    await sendReadReceipt(
      deps,
      doc.accountId,
      doc.threadId,
      doc.createdAt.toISOString(),
      'reply',
    ).catch((error: unknown) =>
      log.warn({ err: error, requestId }, 'read receipt on reply not queued'),
    );
  }
  return {
    created: write.created,
    answer: {
      requestId,
      threadId: doc.threadId,
      messageId: doc.waMessageId,
      status: scheduledAt !== null ? 'scheduled' : 'queued',
      ...(scheduledAt !== null ? { sendAt: scheduledAt.toISOString() } : {}),
    },
  };
}
