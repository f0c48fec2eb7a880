import type { HealthResponse } from '@wacrm/contracts';

type Check = HealthResponse['checks'][string];

/** A dependency the gateway needs to serve requests; `check` rejects when it is unusable. */
export interface DependencyProbe {
  name: string;
  check(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs every probe concurrently, each bounded by `timeoutMs`, and names the failing ones. */
export async function checkHealth(
  probes: DependencyProbe[],
  meta: { service: string; version: string; startedAt: number; timeoutMs: number },
): Promise<HealthResponse> {
  const results = await Promise.all(
    probes.map(async (probe) => {
      const start = performance.now();
      try {
        await withTimeout(probe.check(), meta.timeoutMs, probe.name);
        const check: Check = { ok: true, latencyMs: Math.round(performance.now() - start) };
        return [probe.name, check] as const;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const check: Check = { ok: false, latencyMs: null, error: message };
        return [probe.name, check] as const;
      }
    }),
  );
  const failing = results.filter(([, r]) => !r.ok).map(([name]) => name);
  return {
    status: failing.length === 0 ? 'ok' : 'degraded',
    service: meta.service,
    version: meta.version,
    uptimeSeconds: Math.round((Date.now() - meta.startedAt) / 1000),
    checks: Object.fromEntries(results),
    failing,
  };
}
