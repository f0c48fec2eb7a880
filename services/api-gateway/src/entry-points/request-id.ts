import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError, RequestId } from '@wacrm/contracts';

/** `Idempotency-Key` when the caller gives one, else a fresh id. */
export function requestIdOf(request: FastifyRequest, prefix: string): string {
  const header = request.headers['idempotency-key'];
  if (typeof header === 'string') {
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
  return `${prefix}-${randomUUID()}`;
}
