import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '@wacrm/contracts';
import { captureLogger, useTestRedis, type TestRedis } from '@wacrm/testing';
import type { ExtractionInput } from '../domain/extraction-provider.js';
import {
  groqExtractionProvider,
  LlmOutputRejectedError,
} from '../domain/groq-extraction.provider.js';
import { startFakeOpenAiServer, type FakeOpenAiServer } from '../testing/fake-openai.server.js';
import { groqChat, retryAfterMs } from './groq-chat.client.js';
import { redisRateLimiter } from './llm-rate-limiter.js';

const API_KEY = 'gsk_test_key_0123456789';

const input: ExtractionInput = {
  now: '2026-05-10T12:00:00+03:00',
  timeZone: 'Europe/Bucharest',
  messages: [
    {
      id: 'm1',
      direction: 'inbound',
      ts: '2026-05-10T09:00:00Z',
      text: 'Bună! Vrem Elsa sâmbătă 16 mai la 17, 2 ore',
    },
    {
      id: 'm2',
      direction: 'outbound',
      ts: '2026-05-10T09:05:00Z',
      text: 'Sigur! 650 lei, avans 150.',
    },
  ],
};

const validAnswer = JSON.stringify({
  isBooking: true,
  draft: {
    date: '2026-05-16',
    time: '17:00',
    durationHours: 2,
    address: null,
    characters: ['Elsa'],
    amount: 650,
    advance: 150,
    childName: null,
    childAge: null,
    guests: null,
    notes: null,
  },
  confidence: 0.9,
  reasons: ['date and time from m1, price from m2'],
  sourceMessageIds: ['m1', 'm2', 'm-invented'],
});

let fake: FakeOpenAiServer;
let redis: TestRedis;

beforeEach(async () => {
  fake = await startFakeOpenAiServer();
  redis = await useTestRedis();
});

afterEach(async () => {
  await fake.close();
  await redis.cleanup();
});

function setup(
  opts: { timeoutMs?: number; maxAttempts?: number; rpm?: number; maxRetryAfterMs?: number } = {},
) {
  const log = captureLogger();
  const limiter = redisRateLimiter(redis.connection, {
    prefix: redis.prefix,
    apiKey: API_KEY,
    requestsPerMinute: opts.rpm ?? 600,
    maxWaitMs: 5_000,
  });
  const chat = groqChat({
    apiKey: API_KEY,
    baseURL: fake.baseURL,
    model: 'llama-3.3-70b-versatile',
    timeoutMs: opts.timeoutMs ?? 2_000,
    maxAttempts: opts.maxAttempts ?? 3,
    limiter,
    logger: log.logger,
    ...(opts.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: opts.maxRetryAfterMs } : {}),
  });
  return { provider: groqExtractionProvider(chat, log.logger), log, limiter };
}

describe('groq provider against a local OpenAI-compatible server', () => {
  it('when the model answers valid JSON, then the draft is returned and invented source ids dropped', async () => {
    fake.script({ kind: 'content', content: validAnswer });
    const { provider } = setup();
    const out = await provider.extract(input);
    expect(out.draft).toMatchObject({
      date: '2026-05-16',
      time: '17:00',
      amount: 650,
      characters: ['Elsa'],
    });
    expect(out.sourceMessageIds).toEqual(['m1', 'm2']);
    expect(fake.requests).toHaveLength(1);
    const request = fake.requests[0]!;
    expect(request.path).toBe('/openai/v1/chat/completions');
    expect(request.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request.body.response_format).toEqual({ type: 'json_object' });
    expect(request.body.messages?.[1]?.content).toContain('"id":"m1"');
  });

  it('when the first answer is not JSON, then the model is asked once to repair it with the error', async () => {
    fake.script(
      { kind: 'content', content: 'Sure! Here is the booking: {date: tomorrow' },
      { kind: 'content', content: validAnswer },
    );
    const { provider, log } = setup();
    const out = await provider.extract(input);
    expect(out.draft?.amount).toBe(650);
    expect(fake.requests).toHaveLength(2);
    const repair = fake.requests[1]!.body.messages!;
    expect(repair.at(-2)).toMatchObject({
      role: 'assistant',
      content: 'Sure! Here is the booking: {date: tomorrow',
    });
    expect(repair.at(-1)?.content).toMatch(/not valid JSON/);
    expect(log.lines().some((l) => l.msg === 'LLM extraction invalid; asking for a repair')).toBe(
      true,
    );
  });

  it('when the answer breaks the schema twice, then it is rejected naming the field', async () => {
    const bad = JSON.stringify({
      ...JSON.parse(validAnswer),
      confidence: 7,
      draft: { date: '16 mai' },
    });
    fake.script({ kind: 'content', content: bad }, { kind: 'content', content: bad });
    const { provider } = setup();
    const error = await provider.extract(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmOutputRejectedError);
    expect((error as AppError).retryable).toBe(false);
    expect((error as Error).message).toMatch(/confidence/);
    expect((error as Error).message).toMatch(/draft\.date/);
    expect(fake.requests).toHaveLength(2);
  });

  it('when the server answers 429 with Retry-After, then the client waits that long and succeeds', async () => {
    fake.script(
      { kind: 'status', status: 429, headers: { 'retry-after-ms': '400' } },
      { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
      { kind: 'content', content: validAnswer },
    );
    const { provider, log } = setup({ maxAttempts: 3 });
    const out = await provider.extract(input);
    expect(out.draft?.date).toBe('2026-05-16');
    const [a, b, c] = fake.requests.map((r) => r.receivedAt);
    expect(b! - a!).toBeGreaterThanOrEqual(390);
    expect(c! - b!).toBeGreaterThanOrEqual(990);
    expect(
      log.lines().filter((l) => l.msg === 'groq rate limited (429); waiting Retry-After'),
    ).toHaveLength(2);
  });

  it('when Retry-After is longer than the job may wait, then a retryable RATE_LIMITED is raised and every process pauses', async () => {
    fake.script({ kind: 'status', status: 429, headers: { 'retry-after': '60' } });
    const { provider } = setup({ maxRetryAfterMs: 1_000 });
    const error = await provider.extract(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    // Another process with the same key is held back by the shared pause.
    const other = redisRateLimiter(redis.connection, {
      prefix: redis.prefix,
      apiKey: API_KEY,
      requestsPerMinute: 600,
      maxWaitMs: 200,
    });
    await expect(other.acquire()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(fake.requests).toHaveLength(1);
  });

  it('when the server hangs once, then the call times out and the retry succeeds', async () => {
    fake.script({ kind: 'hang' }, { kind: 'content', content: validAnswer });
    const { provider, log } = setup({ timeoutMs: 300 });
    const started = Date.now();
    const out = await provider.extract(input);
    expect(out.draft?.amount).toBe(650);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(fake.requests).toHaveLength(2);
    expect(log.lines().some((l) => l.msg === 'groq timeout; retrying with backoff')).toBe(true);
  });

  it('when the server keeps hanging, then after the last attempt a retryable error is raised', async () => {
    fake.setFallback({ kind: 'hang' });
    const { provider, log } = setup({ timeoutMs: 200, maxAttempts: 2 });
    const error = await provider.extract(input).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', retryable: true });
    expect(fake.requests).toHaveLength(2);
    expect(
      log.lines().some((l) => l.level === 'error' && String(l.msg).includes('last attempt')),
    ).toBe(true);
  });

  it('when the key is refused (401), then it fails permanently without retrying and the key is never logged', async () => {
    fake.setFallback({
      kind: 'status',
      status: 401,
      body: { error: { message: 'Invalid API Key' } },
    });
    const { provider, log } = setup();
    const error = await provider.extract(input).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', retryable: false });
    expect(fake.requests).toHaveLength(1);
    expect(JSON.stringify(log.lines())).not.toContain(API_KEY);
  });
});

describe('redisRateLimiter', () => {
  it('when two processes share one key, then together they get the per-minute budget and the next waits for a refill', async () => {
    const make = () =>
      redisRateLimiter(redis.connection, {
        prefix: redis.prefix,
        apiKey: API_KEY,
        requestsPerMinute: 60,
        maxWaitMs: 5_000,
      });
    const [a, b] = [make(), make()];
    for (let i = 0; i < 30; i += 1) await Promise.all([a.acquire(), b.acquire()]);
    const started = Date.now();
    await b.acquire();
    // 60 per minute refills one token per second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('when the wait would exceed the limit, then a retryable RATE_LIMITED is raised at once', async () => {
    const limiter = redisRateLimiter(redis.connection, {
      prefix: redis.prefix,
      apiKey: API_KEY,
      requestsPerMinute: 1,
      maxWaitMs: 1_000,
    });
    await limiter.acquire();
    await expect(limiter.acquire()).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
    });
    const keys = await redis.connection.keys(`${redis.prefix}:llm-rate:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join()).not.toContain(API_KEY);
  });
});

describe('retryAfterMs', () => {
  it('when the header is seconds, milliseconds or a date, then it is read as milliseconds', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2_000);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '150', 'retry-after': '9' }))).toBe(150);
    expect(
      retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 4_000),
    ).toBe(6_000);
    expect(retryAfterMs(new Headers())).toBeNull();
  });
});
