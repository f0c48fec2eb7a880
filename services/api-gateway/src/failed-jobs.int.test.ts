import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrmEventsQueue } from '@wacrm/contracts';
import { expectEventually } from '@wacrm/testing';
import { admin, useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';

let gw: TestGateway;
let queue: Queue;

beforeAll(async () => {
  gw = await useGateway({ WEBHOOK_WORKER: 'false' });
  validateTraffic(gw);
  queue = new Queue(CrmEventsQueue.name, {
    connection: gw.redis.connection,
    prefix: gw.redis.prefix,
  });
});

afterAll(async () => {
  await queue.close();
  await gw.dispose();
});

/** Two crm-events jobs that fail for good (as a poisoned payload would). */
async function failTwoJobs(): Promise<void> {
  await queue.add('poisoned', { bad: 1 }, { jobId: 'poison-1' });
  await queue.add('poisoned', { bad: 2 }, { jobId: 'poison-2' });
  const worker = new Worker(
    CrmEventsQueue.name,
    () => Promise.reject(new UnrecoverableError('invalid payload for crm-events/poisoned')),
    { connection: gw.redis.connection, prefix: gw.redis.prefix },
  );
  try {
    await expectEventually(async () => {
      expect(await queue.getFailedCount()).toBe(2);
    });
  } finally {
    await worker.close();
  }
}

describe('failed jobs: see, export, redrive', () => {
  it('when jobs failed, then an admin lists them, exports them and redrives them', async () => {
    await failTwoJobs();

    const list = await gw.app.inject({
      method: 'GET',
      url: '/api/admin/failed-jobs',
      headers: admin,
    });
    expect(list.statusCode).toBe(200);
    const body = list.json<{
      queues: Array<{ queue: string; failed: number }>;
      jobs: Array<{ queue: string; id: string; failedReason: string }>;
    }>();
    expect(body.queues.find((q) => q.queue === 'crm-events')?.failed).toBe(2);
    expect(body.jobs.map((j) => j.id).sort()).toEqual(['poison-1', 'poison-2']);
    expect(body.jobs[0]?.failedReason).toMatch(/invalid payload/);

    const metrics = await gw.app.inject({ method: 'GET', url: '/metrics', headers: admin });
    expect(metrics.body).toMatch(
      /wacrm_queue_jobs\{queue="crm-events",state="failed",service="api-gateway"\} 2/,
    );
    expect(metrics.body).toMatch(
      /wacrm_jobs_retrying\{queue="crm-events",service="api-gateway"\} 0/,
    );

    const exported = await gw.app.inject({
      method: 'GET',
      url: '/api/admin/failed-jobs/export?queue=crm-events',
      headers: admin,
    });
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = exported.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; data: { bad: number } });
    expect(lines.map((l) => l.data.bad).sort()).toEqual([1, 2]);

    const redrive = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/failed-jobs/redrive',
      headers: admin,
      payload: { queue: 'crm-events', jobIds: ['poison-1'] },
    });
    expect(redrive.statusCode).toBe(200);
    expect(redrive.json()).toEqual({ redriven: 1 });
    expect(await queue.getFailedCount()).toBe(1);
    expect(await queue.getWaitingCount()).toBe(1);

    const all = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/failed-jobs/redrive',
      headers: admin,
      payload: { queue: 'crm-events' },
    });
    expect(all.json()).toEqual({ redriven: 1 });
    expect(await queue.getFailedCount()).toBe(0);
  });

  it('when someone without the admin role asks, then it is refused', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/api/admin/failed-jobs' });
    expect(res.statusCode).toBe(401);
  });
});
