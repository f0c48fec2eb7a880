import { UnrecoverableError, type Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, defineQueue } from '@wacrm/contracts';
import { createLogger } from '@wacrm/observability';
import { InvalidJobPayloadError, processJob } from './worker.js';
import { cappedBackoffDelay, jobIdFrom } from './job-options.js';

const contract = defineQueue('unit-test', { 'do-work': z.object({ n: z.number().int() }) });
const logger = createLogger({ service: 'test', version: '0', level: 'silent' });

function fakeJob(name: string, data: unknown, attemptsMade = 0): Job {
  // Only the fields processJob reads; the real BullMQ path is covered by the integration tests.
  return { name, data, id: '1', attemptsMade, opts: { attempts: 3 } } as unknown as Job;
}

describe('processJob', () => {
  it('when the payload does not match the contract, then it fails unrecoverably naming the field', async () => {
    const error = await processJob(
      contract,
      { 'do-work': () => Promise.resolve() },
      fakeJob('do-work', { n: 'x' }),
      logger,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidJobPayloadError);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/n: /);
  });

  it('when the job name is unknown, then it fails unrecoverably', async () => {
    await expect(
      processJob(contract, { 'do-work': () => Promise.resolve() }, fakeJob('other', {}), logger),
    ).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it('when the processor throws a permanent AppError, then the job is not retried', async () => {
    const processors = { 'do-work': () => Promise.reject(new AppError('NOT_FOUND', 'gone')) };
    const error = await processJob(
      contract,
      processors,
      fakeJob('do-work', { n: 1 }),
      logger,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toBe('NOT_FOUND: gone');
  });

  it('when the processor throws a transient error, then it is rethrown for a retry', async () => {
    const transient = new Error('ECONNRESET');
    const processors = { 'do-work': () => Promise.reject(transient) };
    await expect(
      processJob(contract, processors, fakeJob('do-work', { n: 1 }), logger),
    ).rejects.toBe(transient);
  });

  it('when the payload is valid, then the processor gets the parsed payload', async () => {
    const seen: number[] = [];
    await processJob(
      contract,
      { 'do-work': (p) => Promise.resolve(seen.push(p.n)) },
      fakeJob('do-work', { n: 7 }),
      logger,
    );
    expect(seen).toEqual([7]);
  });
});

describe('jobIdFrom', () => {
  it('when a business key contains ":" or "/", then the job id is still valid for BullMQ', () => {
    expect(jobIdFrom('wa-01', 'ABC:def/1')).toBe('wa-01.ABC_def_1');
    expect(jobIdFrom('123')).toBe('id.123');
  });
});

describe('cappedBackoffDelay', () => {
  it('when attempts keep failing, then the wait doubles from the base and stops at 60 bases', () => {
    const waits = [1, 2, 3, 6, 7, 8, 50, 10_000].map((n) => cappedBackoffDelay(n, 1_000, 0));
    expect(waits).toEqual([1_000, 2_000, 4_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    expect(cappedBackoffDelay(9, 1_000, 1)).toBe(48_000);
  });
});
