import { describe, expect, it } from 'vitest';
import {
  AppError,
  defineQueue,
  IngestMessagesJob,
  MarkReadJob,
  Queues,
  RequestId,
  SendMessageBody,
  waCommandsQueueName,
} from './index.js';

describe('queue contracts', () => {
  it('when a queue name contains ":", then defining it throws', () => {
    expect(() => defineQueue('bad:name', {})).toThrow(/kebab-case/);
  });

  it('when a job name is not kebab-case, then defining the queue throws', () => {
    expect(() => defineQueue('ok', { SendIt: RequestId })).toThrow(/job name/);
  });

  it('when an account id has a "/" in it, then no command queue name is made from it', () => {
    expect(waCommandsQueueName('wa-01')).toBe('wa-commands.wa-01');
    expect(() => waCommandsQueueName('wa/01')).toThrow();
  });

  it('when a fixed queue is listed, then its name is kebab-case and has jobs', () => {
    for (const queue of Object.values(Queues)) {
      expect(queue.name).toMatch(/^[a-z][a-z-]*$/);
      expect(Object.keys(queue.jobs).length).toBeGreaterThan(0);
    }
  });

  it('when an inbound payload carries a Date, then it does not parse (payloads are JSON)', () => {
    const result = IngestMessagesJob.safeParse({
      accountId: 'wa-01',
      instanceId: 'gw-1',
      fencingToken: 1,
      observedAt: new Date(),
      source: 'live',
      messages: [],
    });
    expect(result.success).toBe(false);
  });
});

describe('HTTP bodies', () => {
  it('when a send names both threadId and to, then the problem names threadId', () => {
    const result = SendMessageBody.safeParse({
      accountId: 'wa-01',
      threadId: 't1',
      to: '+40712345678',
      text: 'hi',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['threadId']);
  });

  it('when a send has neither text nor media, then it is rejected naming text', () => {
    const result = SendMessageBody.safeParse({ accountId: 'wa-01', to: '+40712345678' });
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain('text');
  });

  it('when a send is complete, then it parses', () => {
    expect(
      SendMessageBody.safeParse({ accountId: 'wa-01', to: '+40712345678', text: 'Bună!' }).success,
    ).toBe(true);
  });
});

describe('AppError', () => {
  it('when built from a catalogue code, then it carries status and retryability', () => {
    const e = new AppError('RATE_LIMITED', 'slow down');
    expect(e.status).toBe(429);
    expect(e.retryable).toBe(true);
    expect(new AppError('DEPENDENCY_UNAVAILABLE', 'x', { retryable: false }).retryable).toBe(false);
  });
});

describe('mark-read job', () => {
  const job = { accountId: 'wa-01', threadId: 'wa-01__40700000001@s.whatsapp.net', by: 'uid-1' };

  it('when upTo is an ISO time or a message id, then the payload parses', () => {
    expect(MarkReadJob.safeParse({ ...job, upTo: '2025-02-01T10:00:00.000Z' }).success).toBe(true);
    expect(MarkReadJob.safeParse({ ...job, upTo: '3EB0C767D82B4A1F' }).success).toBe(true);
    expect(Queues.waInbound.jobs['mark-read']).toBe(MarkReadJob);
  });

  it('when upTo is neither a time nor an id, or the reader is missing, then it does not parse', () => {
    for (const upTo of ['', 'yesterday at 5', 'a/b', '2025-02-01 10:00', 'x'.repeat(129)]) {
      expect(MarkReadJob.safeParse({ ...job, upTo }).success, upTo).toBe(false);
    }
    expect(MarkReadJob.safeParse({ ...job, by: undefined, upTo: 'ABC' }).success).toBe(false);
  });
});
