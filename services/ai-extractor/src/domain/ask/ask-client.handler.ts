import type { z } from 'zod';
import { AskResponse, type AccountScope, type AskClientJob } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import type { LlmChat } from '../llm-chat.js';
import { computeAnswer, type AskEvent } from './ask-answer.js';
import { parseQuestion, todayInBucharest } from './ask-intent.js';
import { phraseAnswer } from './answer-phraser.js';

export type AskResponse = z.infer<typeof AskResponse>;

/** What an answer reads: the client as the asker may see it. Nothing is written. */
export interface AskRepository {
  /**
   * The client's name and every event of the phone the scope allows (archived ones are skipped
   * by the answer); undefined when nothing of the client is visible.
   */
  clientFor(
    phoneE164: string,
    scope: AccountScope,
  ): Promise<{ displayName: string | null; events: AskEvent[] } | undefined>;
}

export interface AskDeps {
  repo: AskRepository;
  /** When set, the LLM rephrases the computed answer; its text must keep the figures. */
  phraser?: LlmChat;
  logger: Logger;
  now?: () => Date;
}

/**
 * Answers a question about one client from `clients` + `evenimente`, with the events as sources,
 * using only what the job's account scope may see (issue 15).
 */
export async function askClient(payload: AskClientJob, deps: AskDeps): Promise<AskResponse> {
  const now = deps.now?.() ?? new Date();
  const parsed = parseQuestion(payload.question, now);
  const client = await deps.repo.clientFor(payload.phoneE164, payload.accountScope);
  const computed = computeAnswer(parsed, {
    phoneE164: payload.phoneE164,
    displayName: client?.displayName ?? null,
    events: client?.events ?? [],
    today: todayInBucharest(now),
  });
  const answer =
    deps.phraser !== undefined && computed.intent !== 'unknown'
      ? await phraseAnswer(deps.phraser, computed, payload.question, deps.logger)
      : computed.answer;
  deps.logger.info(
    { intent: computed.intent, language: computed.language, sources: computed.sources.length },
    'client question answered',
  );
  return AskResponse.parse({ answer, intent: computed.intent, sources: computed.sources });
}
