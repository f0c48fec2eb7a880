import { setTimeout as delay } from 'node:timers/promises';

export interface WaitForOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Named in the timeout error, e.g. "redis-server on port 6380 to answer PING". */
  what: string;
  /** Checked between attempts; a string aborts the wait with that reason (e.g. the process exited). */
  abortReason?: () => string | undefined;
  /** Appended to the timeout error, e.g. the tail of the process output. */
  details?: () => string;
}

/** Polls `check` until it resolves true, the deadline passes or `abortReason` reports a reason. */
export async function waitFor(
  check: () => Promise<boolean>,
  options: WaitForOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 100;
  for (;;) {
    const aborted = options.abortReason?.();
    if (aborted !== undefined) throw new Error(withDetails(aborted, options.details));
    if (await check().catch(() => false)) return;
    if (Date.now() >= deadline) {
      throw new Error(
        withDetails(
          `Timed out after ${options.timeoutMs} ms waiting for ${options.what}`,
          options.details,
        ),
      );
    }
    await delay(intervalMs);
  }
}

function withDetails(message: string, details: (() => string) | undefined): string {
  const text = details?.().trim();
  return text ? `${message}\n--- output tail ---\n${text}` : message;
}
