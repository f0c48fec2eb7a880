import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError, RequestId } from '@wacrm/contracts';

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
