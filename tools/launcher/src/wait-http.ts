import { setTimeout as delay } from 'node:timers/promises';

/** Polls `url` until it answers 200, or throws after `timeoutMs` with the last status seen. */
export async function waitForHttpOk(
  url: string,
  timeoutMs: number,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
      last = `HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await delay(intervalMs);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}
