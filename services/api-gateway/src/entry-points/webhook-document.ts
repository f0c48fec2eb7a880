import { z } from 'zod';
import { AccountId, WebhookEventType } from '@wacrm/contracts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../webhooks/webhook-crypto.js';

/**
 * The body every webhook delivery POSTs (webhookBody builds it): `id` is the delivery (this event
 * for this subscription), `eventId` the event's own id; both are stable across retries and
 * replays, so a receiver dedupes on either.
 */
export const WebhookDeliveryBody = z.object({
  id: z.string().min(1).describe('The delivery id (this event for this subscription).'),
  eventId: z.string().min(1).describe('The event id, the same for every subscription.'),
  type: WebhookEventType,
  accountId: AccountId,
  occurredAt: z.string().describe('ISO 8601 time of the change.'),
  data: z
    .record(z.string(), z.unknown())
    .describe('The change as the realtime stream (GET /api/stream) carries it.'),
});
export type WebhookDeliveryBody = z.infer<typeof WebhookDeliveryBody>;

const SIGNATURE_DESCRIPTION = [
  `Every delivery is signed: \`${SIGNATURE_HEADER}: v1=<hex>\` where \`<hex>\` is`,
  `HMAC-SHA256, keyed with the subscription's secret (\`whsec_…\`, shown once when it is`,
  `created), over \`<${TIMESTAMP_HEADER}>.<raw request body>\`. Receivers recompute it over the`,
  'raw bytes (before any JSON parsing), compare in constant time, and reject timestamps more than',
  'five minutes from their clock (replays). The README shows it in Node and Python.',
].join(' ');

const DESCRIPTIONS: Record<WebhookEventType, string> = {
  'thread.updated': 'A conversation changed: a new last message, unread count or read mark.',
  'message.created': 'A message was stored: received from a contact or sent by the account.',
  'message.status': 'A sent message changed status (sent, delivered, read, failed).',
  'account.status': 'A WhatsApp account changed connection state (qr_ready, connected, …).',
};

const EXAMPLE: WebhookDeliveryBody = {
  id: 'dlv_3kq9zv0c7x2m',
  eventId: '8f14e45fceea167a5a36dedd4bea2543',
  type: 'message.created',
  accountId: 'acc_demo',
  occurredAt: '2026-12-07T05:00:00.000Z',
  data: { threadId: 'acc_demo_40722333444', messageId: '3EB0A1B2C3D4E5F6', text: 'Hello' },
};

const header = (name: string, description: string, example: string) => ({
  name,
  in: 'header',
  required: true,
  description,
  schema: { type: 'string' },
  example,
});

/** OpenAPI 3.1 `webhooks` (one per event type) and the signature's security scheme. */
export function webhookDocument(): {
  webhooks: Record<string, unknown>;
  securityScheme: Record<string, unknown>;
} {
  const schema = z.toJSONSchema(WebhookDeliveryBody, { target: 'draft-2020-12' });
  delete (schema as { $schema?: string }).$schema;
  const webhooks = Object.fromEntries(
    WebhookEventType.options.map((type) => [
      type,
      {
        post: {
          operationId: `${type.replace(/\.(\w)/, (_m, c: string) => c.toUpperCase())}Webhook`,
          summary: `Webhook: ${type}`,
          description: `${DESCRIPTIONS[type]} Delivered to every active subscription whose eventTypes include \`${type}\`, at least once, retried with backoff until a 2xx. ${SIGNATURE_DESCRIPTION}`,
          tags: ['webhooks'],
          security: [{ webhookSignature: [] }],
          parameters: [
            header(SIGNATURE_HEADER, 'v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>', 'v1=…'),
            header(TIMESTAMP_HEADER, 'Unix seconds when this attempt was signed.', '1796619600'),
            header('x-wacrm-delivery', 'The delivery id (as `id` in the body).', EXAMPLE.id),
            header(
              'x-wacrm-event-id',
              'The event id (as `eventId`): dedupe on it.',
              EXAMPLE.eventId,
            ),
            header('x-wacrm-event', 'The event type (as `type`).', type),
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema, example: { ...EXAMPLE, type } } },
          },
          responses: {
            '200': { description: 'Any 2xx marks the delivery delivered.' },
            '400': { description: 'Any other answer is retried with backoff (the same body).' },
          },
        },
      },
    ]),
  );
  return {
    webhooks,
    securityScheme: {
      type: 'apiKey',
      in: 'header',
      name: SIGNATURE_HEADER,
      description: SIGNATURE_DESCRIPTION,
    },
  };
}
