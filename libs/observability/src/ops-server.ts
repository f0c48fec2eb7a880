import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, type Registry } from 'prom-client';

export type { Registry } from 'prom-client';

export interface OpsServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  registry: Registry;
  /** Dependency checks for /health; each throws (or rejects) when its dependency is unusable. */
  checks: Record<string, () => Promise<unknown>>;
  timeoutMs?: number;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

/**
 * `/health` (200, or 503 naming the dependency that failed) and `/metrics` (Prometheus) for a
 * process without an HTTP API of its own: the queue workers. Probes and scrapers use it.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const timeoutMs = options.timeoutMs ?? 1_500;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (req.url === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (req.url === '/health') {
      const names = Object.keys(options.checks);
      void Promise.allSettled(
        names.map((name) => withTimeout(options.checks[name]!(), timeoutMs)),
      ).then((results) => {
        const checks: Record<string, string> = {};
        results.forEach((r, i) => {
          checks[names[i]!] = r.status === 'fulfilled' ? 'ok' : String(r.reason);
        });
        const ok = results.every((r) => r.status === 'fulfilled');
        res
          .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', checks }));
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface JobMetrics {
  observe(queue: string, outcome: 'completed' | 'failed', seconds: number | undefined): void;
}

/** `wacrm_jobs_total{queue,outcome}` and `wacrm_job_duration_seconds{queue}` on `registry`. */
export function createJobMetrics(registry: Registry): JobMetrics {
  const total =
    (registry.getSingleMetric('wacrm_jobs_total') as Counter | undefined) ??
    new Counter({
      name: 'wacrm_jobs_total',
      help: 'Jobs processed by this worker, by queue and outcome',
      labelNames: ['queue', 'outcome'],
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('wacrm_job_duration_seconds') as Histogram | undefined) ??
    new Histogram({
      name: 'wacrm_job_duration_seconds',
      help: 'Processing time of a job (one attempt), by queue',
      labelNames: ['queue'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
  return {
    observe(queue, outcome, seconds) {
      total.inc({ queue, outcome });
      if (seconds !== undefined) duration.observe({ queue }, seconds);
    },
  };
}
