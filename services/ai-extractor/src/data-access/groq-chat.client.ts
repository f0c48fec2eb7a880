import Groq, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  RateLimitError,
} from 'groq-sdk';
import { AppError } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import type { LlmChat } from '../domain/llm-chat.js';
import type { LlmRateLimiter } from './llm-rate-limiter.js';

export interface GroqChatOptions {
  apiKey: string;
  /** Defaults to Groq's endpoint; tests point it at a local fake. */
  baseURL?: string;
  model: string;
  timeoutMs: number;
  /** Calls per completion before giving up (timeouts, 429s, 5xx, connection errors). */
  maxAttempts: number;
  limiter: LlmRateLimiter;
  logger: Logger;
  /** A Retry-After longer than this is not slept through: the job goes back to the queue. */
  maxRetryAfterMs?: number;
}

const GROQ_BASE_URL = 'https://api.groq.com';

/** The server's wait, from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | null {
  const ms = headers?.get('retry-after-ms');
  if (ms !== null && ms !== undefined && ms !== '' && Number.isFinite(Number(ms))) {
    return Math.max(0, Number(ms));
  }
  const after = headers?.get('retry-after');
  if (after === null || after === undefined || after === '') return null;
  if (Number.isFinite(Number(after))) return Math.max(0, Number(after) * 1000);
  const at = Date.parse(after);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function backoffMs(attempt: number): number {
  const base = Math.min(500 * 2 ** (attempt - 1), 8_000);
  return base * (0.8 + Math.random() * 0.4);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Groq through groq-sdk with the SDK's own retries off, so every attempt passes the shared rate
 * limiter and a 429 pauses every process for its Retry-After, not just this one.
 */
export function groqChat(options: GroqChatOptions): LlmChat {
  const client = new Groq({
    apiKey: options.apiKey,
    baseURL: options.baseURL ?? GROQ_BASE_URL,
    timeout: options.timeoutMs,
    maxRetries: 0,
  });
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  const log = options.logger.child({ llm: 'groq', model: options.model });

  return {
    model: options.model,
    async complete(messages, { json, maxTokens }) {
      for (let attempt = 1; ; attempt += 1) {
        await options.limiter.acquire();
        const last = attempt >= options.maxAttempts;
        try {
          const completion = await client.chat.completions.create({
            model: options.model,
            messages,
            temperature: 0,
            ...(json ? { response_format: { type: 'json_object' as const } } : {}),
            ...(maxTokens !== undefined ? { max_completion_tokens: maxTokens } : {}),
          });
          const content = completion.choices[0]?.message.content;
          if (typeof content !== 'string' || content === '') {
            throw new AppError('DEPENDENCY_UNAVAILABLE', 'groq answered without content', {
              retryable: true,
            });
          }
          return content;
        } catch (error) {
          if (error instanceof RateLimitError) {
            const wait = retryAfterMs(error.headers) ?? backoffMs(attempt);
            await options.limiter.pause(wait);
            if (last || wait > maxRetryAfterMs) {
              log.warn(
                { attempt, retryAfterMs: wait },
                'groq rate limited (429); giving up for now',
              );
              throw new AppError('RATE_LIMITED', `groq rate limited; retry after ${wait} ms`, {
                cause: error,
              });
            }
            log.warn(
              { attempt, retryAfterMs: wait },
              'groq rate limited (429); waiting Retry-After',
            );
            await sleep(wait);
            continue;
          }
          const transient =
            error instanceof APIConnectionTimeoutError ||
            error instanceof APIConnectionError ||
            (error instanceof APIError &&
              (error.status === 408 || error.status === 409 || (error.status ?? 0) >= 500)) ||
            (error instanceof AppError && error.retryable);
          if (!transient) {
            const status: number | undefined =
              error instanceof APIError ? (error.status as number | undefined) : undefined;
            log.error(
              { err: error, status },
              'groq request refused permanently (check GROQ_API_KEY, GROQ_MODEL and GROQ_BASE_URL)',
            );
            throw new AppError(
              'DEPENDENCY_UNAVAILABLE',
              `groq refused the request (status ${status ?? 'n/a'})`,
              {
                cause: error,
                retryable: false,
              },
            );
          }
          const kind = error instanceof APIConnectionTimeoutError ? 'timeout' : 'transient error';
          if (last) {
            log.error(
              { err: error, attempt },
              `groq ${kind} on the last attempt; the request is given back to the queue`,
            );
            throw new AppError('DEPENDENCY_UNAVAILABLE', `groq ${kind} after ${attempt} attempts`, {
              cause: error,
            });
          }
          const wait = backoffMs(attempt);
          log.warn({ attempt, backoffMs: Math.round(wait) }, `groq ${kind}; retrying with backoff`);
          await sleep(wait);
        }
      }
    },
  };
}
