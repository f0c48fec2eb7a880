import { z } from 'zod';
import { BaseEnv, envInt, requireFirestoreTarget } from './fields.js';

/**
 * ai-extractor: the offline extractor runs when GROQ_API_KEY is unset; with a key, Groq drafts
 * events and phrases answers. The key is a secret: no default, never echoed.
 */
export const AiExtractorEnv = BaseEnv.extend({
  GROQ_API_KEY: z.string().min(8, 'at least 8 characters').optional(),
  /** An OpenAI-compatible endpoint; tests point it at a local fake. Defaults to Groq's own. */
  GROQ_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  GROQ_MODEL: z.string().min(1).max(200).default('llama-3.3-70b-versatile'),
  /** Requests per minute allowed per key, shared by every ai-extractor process (Redis bucket). */
  GROQ_RPM: envInt(30, 1, 100_000),
  /** One model call's deadline; a timed-out call is retried with backoff. */
  AI_TIMEOUT_MS: envInt(20_000, 100, 300_000),
  /** Model calls per request before giving up (timeouts, 429s, 5xx). */
  AI_MAX_ATTEMPTS: envInt(3, 1, 10),
  /** Jobs processed at once by this process. */
  AI_CONCURRENCY: envInt(4, 1, 64),
}).superRefine(requireFirestoreTarget);
export type AiExtractorEnv = z.infer<typeof AiExtractorEnv>;
