import type { Logger } from '@wacrm/observability';
import type { LlmChat } from '../llm-chat.js';
import type { ComputedAnswer } from './ask-answer.js';

const NUMBER = /\d+(?:[.,]\d+)*/g;

/** Digit runs of a text, separators folded, so "1.250" and "1250" compare equal. */
function numbersIn(text: string): string[] {
  return (text.match(NUMBER) ?? []).map((n) => n.replace(/[.,]/g, ''));
}

/**
 * An LLM's phrasing is accepted only if it states every computed figure as written and no number
 * that was not computed (or asked about); anything else falls back to the template.
 */
export function acceptPhrasing(
  phrased: string,
  computed: ComputedAnswer,
  question: string,
): { ok: true } | { ok: false; problem: string } {
  const text = phrased.replace(/\s+/g, ' ').trim();
  if (text === '') return { ok: false, problem: 'empty' };
  const missing = computed.figures.filter((f) => !text.includes(f));
  if (missing.length > 0) return { ok: false, problem: `missing figures: ${missing.join(', ')}` };
  const allowed = new Set([...numbersIn(computed.answer), ...numbersIn(question)]);
  const invented = numbersIn(text).filter((n) => !allowed.has(n));
  if (invented.length > 0)
    return { ok: false, problem: `numbers not computed: ${invented.join(', ')}` };
  return { ok: true };
}

/** Lets an LLM phrase a computed answer, never compute it. */
export async function phraseAnswer(
  chat: LlmChat,
  computed: ComputedAnswer,
  question: string,
  logger: Logger,
): Promise<string> {
  const language = computed.language === 'ro' ? 'Romanian' : 'English';
  try {
    const phrased = await chat.complete(
      [
        {
          role: 'system',
          content: `You help a CRM operator. Rewrite the given answer as one or two friendly sentences in ${language}. Keep every number, amount, date and id exactly as written. Do not add, change or compute any figure; do not add facts.`,
        },
        { role: 'user', content: `Question: ${question}\nAnswer to rewrite: ${computed.answer}` },
      ],
      { json: false, maxTokens: 300 },
    );
    const verdict = acceptPhrasing(phrased, computed, question);
    if (verdict.ok) return phrased.replace(/\s+/g, ' ').trim();
    logger.warn(
      { problem: verdict.problem, intent: computed.intent },
      'LLM phrasing rejected; answering with the template',
    );
  } catch (error) {
    logger.warn(
      { err: error, intent: computed.intent },
      'LLM phrasing failed; answering with the template',
    );
  }
  return computed.answer;
}
