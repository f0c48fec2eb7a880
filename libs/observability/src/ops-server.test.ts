import { afterEach, describe, expect, it } from 'vitest';
import {
  createJobMetrics,
  createMetricsRegistry,
  startOpsServer,
  type OpsServer,
} from './index.js';

let server: OpsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('ops server', () => {
  it('when every check passes, then /health is 200 and /metrics has the job metrics', async () => {
    const registry = createMetricsRegistry('svc');
    createJobMetrics(registry).observe('outbox', 'completed', 0.2);
    server = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      checks: { redis: () => Promise.resolve('PONG') },
    });
    const health = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', checks: { redis: 'ok' } });
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(metrics).toMatch(
      /wacrm_jobs_total\{queue="outbox",outcome="completed",service="svc"\} 1/,
    );
    const durations = metrics
      .split('\n')
      .filter((line) => line.startsWith('wacrm_job_duration_seconds_count{'));
    expect(durations.filter((line) => line.includes('queue="outbox"'))).toEqual([
      expect.stringMatching(/ 1$/),
    ]);
  });

  it('when a dependency fails or hangs, then /health is 503 naming it', async () => {
    server = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      registry: createMetricsRegistry('svc'),
      timeoutMs: 100,
      checks: {
        redis: () => Promise.reject(new Error('ECONNREFUSED')),
        firestore: () => new Promise(() => undefined),
      },
    });
    const health = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({
      status: 'unavailable',
      checks: { redis: 'Error: ECONNREFUSED', firestore: 'Error: no answer within 100 ms' },
    });
  });
});
