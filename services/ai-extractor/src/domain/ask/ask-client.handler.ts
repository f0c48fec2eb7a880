import type { z } from 'zod';
import { AskResponse, type AskClientJob, type ClientDoc } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import type { LlmChat } from '../llm-chat.js';
import { computeAnswer, type AskEvent } from './ask-answer.js';
import { parseQuestion, todayInBucharest } from './ask-intent.js';
import { phraseAnswer } from './answer-phraser.js';

export type AskResponse = z.infer<typeof AskResponse>;

/** What an answer reads: the client's aggregate and events. Nothing is written. */
export interface AskRepository {
  client(phoneE164: string): Promise<ClientDoc | undefined>;
  /** Every event of the phone; archived ones are skipped by the answer. */
  events(phoneE164: string): Promise<AskEvent[]>;
}

export interface AskDeps {
  repo: AskRepository;
  /** When set, the LLM rephrases the computed answer; its text must keep the figures. */
  phraser?: LlmChat;
  logger: Logger;
  now?: () => Date;
}

/** Answers a question about one client from `clients` + `evenimente`, with the events as sources. */
export async function askClient(payload: AskClientJob, deps: AskDeps): Promise<AskResponse> {
  const now = deps.now?.() ?? new Date();
  const parsed = parseQuestion(payload.question, now);
  const [client, events] = await Promise.all([
    deps.repo.client(payload.phoneE164),
    deps.repo.events(payload.phoneE164),
  ]);
  const computed = computeAnswer(parsed, {
    phoneE164: payload.phoneE164,
    displayName: client?.displayName ?? null,
    events,
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
