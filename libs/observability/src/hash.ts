import { createHash } from 'node:crypto';

/** Phone numbers and message text never go into span attributes or logs in clear: hash them. */
export function hashForTelemetry(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}
