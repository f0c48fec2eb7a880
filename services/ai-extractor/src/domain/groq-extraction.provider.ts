import { z } from 'zod';
import { AppError, DraftEvent, formatIssues } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import type {
  ExtractionInput,
  ExtractionOutput,
  ExtractionProvider,
} from './extraction-provider.js';
import type { ChatMessage, LlmChat } from './llm-chat.js';

/** What the model must answer; anything else is repaired once, then rejected. */
export const LlmExtraction = z.object({
  isBooking: z.boolean(),
  draft: DraftEvent.nullable(),
  confidence: z.number().min(0).max(1),
  reasons: z.array(z.string().max(500)).max(50),
  sourceMessageIds: z.array(z.string()).max(200),
});
export type LlmExtraction = z.infer<typeof LlmExtraction>;

/** The model's output stayed invalid after one repair. Permanent for this input. */
export class LlmOutputRejectedError extends AppError {
  constructor(detail: string) {
    super('DEPENDENCY_UNAVAILABLE', `LLM output rejected after one repair: ${detail}`, {
      retryable: false,
    });
    this.name = 'LlmOutputRejectedError';
  }
}

const SYSTEM_PROMPT = `You read WhatsApp chats between a children's party entertainment company and a client (mostly Romanian, sometimes English) and extract the booking being arranged.
Answer with ONE JSON object and nothing else:
{"isBooking": boolean, "draft": null | {"date": "YYYY-MM-DD"|null, "time": "HH:mm"|null, "durationHours": number|null, "address": string|null, "characters": string[], "amount": number|null, "advance": number|null, "childName": string|null, "childAge": integer|null, "guests": integer|null, "notes": string|null}, "confidence": number between 0 and 1, "reasons": string[], "sourceMessageIds": string[]}
Rules:
- Later statements override earlier ones (a changed date, time or price wins).
- Resolve relative dates ("mâine", "sâmbăta viitoare", "duminica de 15") against the date of the message that says them, in Europe/Bucharest.
- "la 5 după-amiaza" is 17:00. amount is the total price in RON (per-hour price × hours when so stated); advance is the deposit in RON.
- characters are the costumed characters booked (e.g. "Elsa", "Spiderman").
- When the chat is not a booking, isBooking is false and draft is null.
- sourceMessageIds lists the ids of the messages the fields came from; reasons say briefly why.`;

function userPrompt(input: ExtractionInput): string {
  return JSON.stringify({
    now: input.now,
    timeZone: input.timeZone,
    messages: input.messages.map((m) => ({
      id: m.id,
      direction: m.direction,
      ts: m.ts,
      text: m.text,
    })),
  });
}

function validate(
  content: string,
): { ok: true; value: LlmExtraction } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    return { ok: false, problem: `not valid JSON (${(error as Error).message})` };
  }
  const parsed = LlmExtraction.safeParse(json);
  if (!parsed.success) return { ok: false, problem: formatIssues(parsed.error) };
  return { ok: true, value: parsed.data };
}

/**
 * The Groq provider: JSON-mode output validated against the draft schema. An invalid answer is
 * sent back once with the validation errors; a second invalid answer is rejected.
 */
export function groqExtractionProvider(chat: LlmChat, logger: Logger): ExtractionProvider {
  return {
    name: 'groq',
    model: chat.model,
    async extract(input: ExtractionInput): Promise<ExtractionOutput> {
      const messages: ChatMessage[] = [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: userPrompt(input) },
      ];
      const first = await chat.complete(messages, { json: true });
      let result = validate(first);
      if (!result.ok) {
        logger.warn(
          { problem: result.problem.slice(0, 300) },
          'LLM extraction invalid; asking for a repair',
        );
        const repaired = await chat.complete(
          [
            ...messages,
            { role: 'assistant', content: first },
            {
              role: 'user',
              content: `That answer is invalid: ${result.problem}. Answer again with one JSON object that follows the schema exactly.`,
            },
          ],
          { json: true },
        );
        result = validate(repaired);
        if (!result.ok) throw new LlmOutputRejectedError(result.problem);
      }
      const known = new Set(input.messages.map((m) => m.id));
      const value = result.value;
      return {
        draft: value.isBooking ? value.draft : null,
        confidence: value.confidence,
        reasons: value.reasons,
        // The model may invent ids; only messages it was actually shown count as sources.
        sourceMessageIds: value.sourceMessageIds.filter((id) => known.has(id)),
      };
    },
  };
}
