import { createHash, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError, RequestId } from '@wacrm/contracts';
import type { Principal } from '../domain/principal.js';

/**
 * The request headers of an operation that takes an `Idempotency-Key`, for the OpenAPI document.
 * Loose (every other header passes) and not enforced here: idempotencyKeyOf() checks the key and
 * answers its own 400.
 */
export const IdempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .optional()
    .meta({
      description:
        'Makes a retry safe: a request with a key already used answers the first result and does nothing again (8–128 letters, digits, "_", "." or "-").',
      pattern: (z.toJSONSchema(RequestId) as { pattern?: string }).pattern,
    }),
});

/** An edit of an event: `If-Match` with the version read (its ETag) as well. */
export const VersionedEditHeaders = IdempotencyHeaders.extend({
  'if-match': z.string().optional().meta({
    description:
      'The event version the edit was made against, as its ETag ("3"): another version is 409. Absent, the edit applies to the stored version.',
  }),
});

/** The caller's `Idempotency-Key`, validated; undefined when the header is absent. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  if (typeof header !== 'string') return undefined;
  const parsed = RequestId.safeParse(header);
  if (!parsed.success) {
    throw new AppError(
      'VALIDATION_FAILED',
      'Idempotency-Key: 8–128 letters, digits, "_", "." or "-"',
      {
        errors: [{ path: 'Idempotency-Key', message: 'not a valid request id' }],
      },
    );
  }
  return parsed.data;
}

/** `Idempotency-Key` when the caller gives one, else a fresh id. */
export function requestIdOf(request: FastifyRequest, prefix: string): string {
  return idempotencyKeyOf(request) ?? `${prefix}-${randomUUID()}`;
}

/**
 * The request id of an AI request. A caller's Idempotency-Key is scoped to that caller: two
 * principals choosing the same key get two requests, never each other's stored answer.
 */
export function aiRequestIdOf(
  request: FastifyRequest,
  principal: Principal,
  prefix: string,
): string {
  const key = idempotencyKeyOf(request);
  if (key === undefined) return `${prefix}-${randomUUID()}`;
  const digest = createHash('sha256')
    .update(JSON.stringify([principal.kind, principal.id, key]))
    .digest('hex');
  return `ai-${digest.slice(0, 40)}`;
}
