import type { FastifyInstance } from 'fastify';
import {
  AppError,
  CreateWebhookBody,
  DeliveryParams,
  WebhookCreated,
  WebhookDeliveryList,
  WebhookDeliveryView,
  WebhookList,
  WebhookParams,
  WebhookView,
  WebhooksQuery,
  type WebhookDeliveryDoc,
  type WebhookDoc,
} from '@wacrm/contracts';
import { enqueue } from '@wacrm/queue';
import type { QueueRegistry } from '../data-access/queues.js';
import type { WebhooksRepository } from './webhooks.repository.js';
import { randomId } from '../domain/api-key.js';
import { generateWebhookSecret, type SecretBox } from './webhook-crypto.js';
import { principalOf } from '../entry-points/auth.hook.js';
import { webhookJobOptions, type WebhookJobOptions } from './webhook-dispatcher.js';
import { errorResponses } from '../entry-points/whatsapp.routes.js';
import { documentedRoutes } from '../entry-points/documented.js';

const tags = ['webhooks'] as const;

function view(id: string, doc: WebhookDoc) {
  return {
    id,
    url: doc.url,
    accountIds: doc.accountIds,
    eventTypes: doc.eventTypes,
    description: doc.description,
    active: doc.active,
    createdBy: doc.createdBy,
    createdAt: doc.createdAt.toISOString(),
    disabledAt: doc.disabledAt?.toISOString() ?? null,
  };
}

function deliveryView(id: string, doc: WebhookDeliveryDoc) {
  return {
    id,
    subscriptionId: doc.subscriptionId,
    accountId: doc.accountId,
    eventType: doc.eventType,
    occurredAt: doc.occurredAt,
    status: doc.status,
    attempts: doc.attempts,
    lastStatusCode: doc.lastStatusCode,
    lastError: doc.lastError,
    replays: doc.replays,
    createdAt: doc.createdAt.toISOString(),
    deliveredAt: doc.deliveredAt?.toISOString() ?? null,
  };
}

/**
 * Admin-only webhook subscriptions (created, listed, disabled — never deleted), their delivery
 * log and replay. Without WEBHOOK_SECRET_KEY every route answers 503.
 */
/**
 * Active subscriptions at most (issue 15): each event is matched against every one and the list
 * is read whole, so their number is bounded; disabled ones are kept but do not count.
 */
export const WEBHOOKS_ACTIVE_MAX = 100;

export function webhooksRoutes(deps: {
  repo: WebhooksRepository;
  queues: QueueRegistry;
  secretBox: SecretBox | undefined;
  jobs: WebhookJobOptions;
}) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);
    const config = { operation: 'admin' as const };
    const errors = { ...errorResponses, 503: errorResponses[400] };
    const box = (): SecretBox => {
      if (deps.secretBox === undefined) {
        throw new AppError(
          'DEPENDENCY_UNAVAILABLE',
          'webhooks are disabled: set WEBHOOK_SECRET_KEY',
        );
      }
      return deps.secretBox;
    };

    app.post(
      '/api/webhooks',
      {
        config,
        schema: {
          tags,
          operationId: 'createWebhook',
          description:
            'Subscribes an https (or http) URL to event types of some accounts; the signing secret (whsec_…) is in this answer only. Deliveries are signed (see the webhooks section).',
          bodyExample: {
            url: 'https://crm.example.com/hooks/wacrm',
            accountIds: ['acc_demo'],
            eventTypes: ['message.created', 'message.status'],
            description: 'CRM sync',
          },
          summary:
            'Subscribe a URL to events of some accounts; the signing secret is in this answer only',
          body: CreateWebhookBody,
          response: { 201: WebhookCreated, ...errors, 409: errorResponses[400] },
        },
      },
      async (request, reply) => {
        const active = (await deps.repo.list()).filter(({ doc }) => doc.active).length;
        if (active >= WEBHOOKS_ACTIVE_MAX) {
          throw new AppError(
            'CONFLICT',
            `at most ${WEBHOOKS_ACTIVE_MAX} active webhooks; disable one before adding another`,
          );
        }
        const secret = generateWebhookSecret();
        const now = new Date();
        const id = `wh_${randomId(12)}`;
        const doc: WebhookDoc = {
          url: request.body.url,
          accountIds: [...new Set(request.body.accountIds)],
          eventTypes: [...new Set(request.body.eventTypes)],
          description: request.body.description,
          secretCiphertext: box().seal(secret),
          active: true,
          createdBy: principalOf(request).id,
          createdAt: now,
          updatedAt: now,
          disabledAt: null,
        };
        await deps.repo.create(id, doc);
        request.log.info({ webhookId: id, eventTypes: doc.eventTypes }, 'webhook created');
        return reply.status(201).send({ ...view(id, doc), secret });
      },
    );

    app.get(
      '/api/webhooks',
      {
        config,
        schema: {
          tags,
          operationId: 'listWebhooks',
          description: 'The webhook subscriptions the caller may see.',
          summary: 'Webhook subscriptions (`limit` of them, at most 200)',
          querystring: WebhooksQuery,
          response: { 200: WebhookList, ...errors },
        },
      },
      async (request) => {
        box();
        const { limit } = request.query;
        const all = await deps.repo.list();
        return {
          webhooks: all.slice(0, limit).map(({ id, doc }) => view(id, doc)),
          truncated: all.length > limit,
        };
      },
    );

    app.post(
      '/api/webhooks/:webhookId/disable',
      {
        config,
        schema: {
          tags,
          operationId: 'disableWebhook',
          description: 'Stops every delivery to this subscription; it is kept for audit.',
          summary: 'Stop deliveries (kept for audit)',
          params: WebhookParams,
          response: { 200: WebhookView, ...errors },
        },
      },
      async (request) => {
        box();
        return view(
          request.params.webhookId,
          await deps.repo.disable(request.params.webhookId, new Date()),
        );
      },
    );

    app.get(
      '/api/webhooks/:webhookId/deliveries',
      {
        config,
        schema: {
          tags,
          operationId: 'listWebhookDeliveries',
          description:
            'Each delivery of this subscription with its attempts and outcome, newest first.',
          summary: 'The delivery log, newest first',
          params: WebhookParams,
          response: { 200: WebhookDeliveryList, ...errors },
        },
      },
      async (request) => {
        box();
        if ((await deps.repo.get(request.params.webhookId)) === undefined) {
          throw new AppError('NOT_FOUND', `webhook ${request.params.webhookId} does not exist`);
        }
        const items = await deps.repo.listDeliveries(request.params.webhookId, 100);
        return { deliveries: items.map(({ id, doc }) => deliveryView(id, doc)) };
      },
    );

    app.post(
      '/api/webhooks/deliveries/:deliveryId/replay',
      {
        config,
        schema: {
          tags,
          operationId: 'replayWebhookDelivery',
          description: 'Queues the delivery again with the same id and body and a fresh signature.',
          summary: 'Deliver an event again (same id and body, fresh signature)',
          params: DeliveryParams,
          response: { 202: WebhookDeliveryView, ...errors },
        },
      },
      async (request, reply) => {
        box();
        const { deliveryId } = request.params;
        const delivery = await deps.repo.getDelivery(deliveryId);
        if (delivery === undefined)
          throw new AppError('NOT_FOUND', `delivery ${deliveryId} does not exist`);
        const subscription = await deps.repo.get(delivery.subscriptionId);
        if (subscription === undefined || !subscription.active) {
          throw new AppError('CONFLICT', 'the webhook of this delivery is disabled');
        }
        const replays = await deps.repo.markReplay(deliveryId, new Date());
        await enqueue(
          deps.queues.webhooks,
          'deliver-webhook',
          {
            subscriptionId: delivery.subscriptionId,
            deliveryId,
            ...(delivery.eventId !== undefined ? { eventId: delivery.eventId } : {}),
            eventType: delivery.eventType,
            accountId: delivery.accountId,
            occurredAt: new Date(Date.parse(delivery.occurredAt) || Date.now()).toISOString(),
            data: delivery.data,
          },
          webhookJobOptions(deps.jobs, `${deliveryId}.replay${replays}`),
        );
        return reply
          .status(202)
          .send(deliveryView(deliveryId, { ...delivery, replays, status: 'pending' }));
      },
    );
    return Promise.resolve();
  };
}
