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
  /**
   * The operators' internal notes on the client's conversations the scope allows, newest first
   * (issue 20): context for the answer, never figures. At most `limit`.
   */
  notesFor?(
    phoneE164: string,
    scope: AccountScope,
    limit: number,
  ): Promise<Array<{ body: string; createdAt: Date }>>;
  /** The names of performers by id (issue 19: who performs at a booking). */
  performerNames?(ids: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

/** Notes an answer carries, and how much of each. */
export const ASK_NOTES = 3;
const NOTE_CHARS = 200;

/** The notes as a trailing block of the answer, after any phrasing (the LLM never sees them). */
export function withNotes(
  answer: string,
  notes: Array<{ body: string; createdAt: Date }>,
  language: string,
): string {
  if (notes.length === 0) return answer;
  const title = language === 'ro' ? 'Note interne' : 'Internal notes';
  const lines = notes.map((n) => {
    const body = n.body.replace(/\s+/g, ' ').trim();
    const clipped = body.length > NOTE_CHARS ? `${body.slice(0, NOTE_CHARS - 1)}…` : body;
    return `- ${n.createdAt.toISOString().slice(0, 10)}: ${clipped}`;
  });
  return `${answer}\n${title}:\n${lines.join('\n')}`;
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
  const events = client?.events ?? [];
  const performerIds = [...new Set(events.flatMap((e) => e.event.performerIds ?? []))];
  const performerNames =
    performerIds.length > 0 ? await deps.repo.performerNames?.(performerIds) : undefined;
  const computed = computeAnswer(parsed, {
    phoneE164: payload.phoneE164,
    displayName: client?.displayName ?? null,
    events,
    today: todayInBucharest(now),
    ...(performerNames !== undefined ? { performerNames } : {}),
  });
  const phrased =
    deps.phraser !== undefined && computed.intent !== 'unknown'
      ? await phraseAnswer(deps.phraser, computed, payload.question, deps.logger)
      : computed.answer;
  const notes =
    (await deps.repo.notesFor?.(payload.phoneE164, payload.accountScope, ASK_NOTES)) ?? [];
  const answer = withNotes(phrased, notes, computed.language);
  deps.logger.info(
    {
      intent: computed.intent,
      language: computed.language,
      sources: computed.sources.length,
      notes: notes.length,
    },
    'client question answered',
  );
  return AskResponse.parse({ answer, intent: computed.intent, sources: computed.sources });
}
