import { AppError } from '@wacrm/contracts';
import type { MessageDoc, RecordOutboundJob, SendResultJob, SendStatusJob } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import { inAccountTurn, inGatewayTurn } from './account-turn.js';
import type { Mutation } from './change-set.js';
import { syncOutbound, syncSendResult, type AddressedMutation } from './conversation-sync.js';
import type { IngestDeps, SendContent } from './ingest-deps.js';

/** `record-send-result`: WhatsApp acknowledged a send, or it failed. */
export async function recordSendResult(
  job: SendResultJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return inGatewayTurn(deps, job, logger, async () => {
    const now = new Date();
    // Recorded here when the send was accepted (the content is fixed then); read otherwise.
    const outbox =
      deps.accepted.take(job.requestId) ??
      (await deps.store.loadOutbox([job.requestId])).get(job.requestId);
    const permanentFailure = job.outcome === 'failed' && !job.retryable;
    const mutation: Mutation =
      job.outcome === 'sent'
        ? { status: 'sent', requestId: job.requestId }
        : permanentFailure
          ? { status: 'failed', requestId: job.requestId }
          : { requestId: job.requestId };
    // The send is in the conversation as soon as WhatsApp acknowledged it; the gateway's echo
    // of the same message id is then a duplicate.
    const acked =
      outbox !== undefined && job.outcome === 'sent'
        ? {
            outbox,
            message: outboundMessage(outbox, {
              accountId: job.accountId,
              waMessageId: job.waMessageId,
              requestId: job.requestId,
              status: 'sent',
              tsClient: new Date(job.observedAt),
              now,
            }),
          }
        : null;
    // Without an outbox document the thread is unknown: the change waits for the message.
    const addressed: AddressedMutation = {
      chatJid: outbox?.to ?? 'unknown@s.whatsapp.net',
      messageId: job.waMessageId,
      mutation,
      threadId: outbox?.threadId ?? '',
    };
    // The outbox's owner (outbox-sender) moves it on the fact; a retryable failure is retried
    // by the gateway and moves nothing.
    const sendStatus: SendStatusJob[] = [];
    if (job.outcome === 'sent' || permanentFailure) {
      sendStatus.push({
        requestId: job.requestId,
        status: job.outcome === 'sent' ? 'sent' : 'failed',
        error: job.outcome === 'sent' ? null : (job.error ?? 'send failed'),
        observedAt: job.observedAt,
      });
    }
    if (outbox === undefined) {
      logger.warn(
        { requestId: job.requestId, waMessageId: job.waMessageId },
        'send result without an outbox document; kept as a pending update of the message',
      );
    }
    const result = await syncSendResult(
      deps,
      job.accountId,
      { mutation: addressed, acked, sendStatus },
      logger,
    );
    logger.info(
      { accountId: job.accountId, requestId: job.requestId, outcome: job.outcome, ...result },
      // The seeds' rollout guide watches for "outbox … sent".
      `outbox ${job.requestId} ${job.outcome}`,
    );
    return result;
  });
}

/** From the job when the producer copied the content into it; read from the outbox otherwise. */
async function acceptedSend(job: RecordOutboundJob, deps: IngestDeps): Promise<SendContent> {
  if (job.content !== undefined) return { threadId: job.threadId, to: job.to, ...job.content };
  const outbox = (await deps.store.loadOutbox([job.requestId])).get(job.requestId);
  if (outbox === undefined) {
    throw new AppError('NOT_FOUND', `outbox/${job.requestId} does not exist`);
  }
  return outbox;
}

/** The conversation's copy of a message accepted through the outbox. */
export function outboundMessage(
  outbox: SendContent,
  at: {
    accountId: string;
    waMessageId: string;
    requestId: string;
    status: MessageDoc['status'];
    tsClient: Date;
    now: Date;
  },
): MessageDoc {
  return {
    accountId: at.accountId,
    threadId: outbox.threadId,
    direction: 'outbound',
    body: outbox.body ?? outbox.media?.caption ?? null,
    type: outbox.media?.kind ?? 'text',
    media:
      outbox.media === null
        ? null
        : {
            kind: outbox.media.kind,
            mimetype: outbox.media.mimetype,
            size: null,
            fileName: outbox.media.fileName,
            caption: outbox.media.caption,
            directPath: null,
            url: outbox.media.url,
            mediaKeyBase64: null,
            fileSha256Base64: null,
            seconds: null,
            width: null,
            height: null,
          },
    tsClient: at.tsClient,
    tsServer: null,
    status: at.status,
    waKey: { id: at.waMessageId, remoteJid: outbox.to, fromMe: true, participant: null },
    requestId: at.requestId,
    source: 'live',
    participant: null,
    senderName: null,
    quotedMessageId: outbox.replyTo,
    deleted: false,
    editedBody: null,
    reactions: {},
    location: null,
    createdAt: at.now,
    updatedAt: at.now,
  };
}

/**
 * A send the API accepted: the conversation shows it as `queued` at once, written here so
 * threads keep one writer. The later send result only moves its status forward.
 */
export async function recordOutbound(
  job: RecordOutboundJob,
  deps: IngestDeps,
  logger: Logger,
): Promise<unknown> {
  return inAccountTurn(deps, job.accountId, async () => {
    const outbox = await acceptedSend(job, deps);
    const now = new Date();
    const message = outboundMessage(outbox, {
      accountId: job.accountId,
      waMessageId: job.waMessageId,
      requestId: job.requestId,
      status: 'queued',
      tsClient: new Date(job.acceptedAt),
      now,
    });
    const result = await syncOutbound(deps, job.accountId, { outbox, message }, logger);
    deps.accepted.remember(job.requestId, {
      threadId: outbox.threadId,
      to: outbox.to,
      body: outbox.body,
      media: outbox.media,
      replyTo: outbox.replyTo,
    });
    logger.info(
      { accountId: job.accountId, requestId: job.requestId, ...result },
      'outbound message recorded',
    );
    return result;
  });
}
