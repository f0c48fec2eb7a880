import { z } from 'zod';
import type { ExtractionInput } from '../extraction-provider.js';

/** One labelled or unlabelled conversation, as in ../shared/eval/extraction-dev.jsonl. */
export const ConversationLine = z.object({
  id: z.string().min(1),
  now: z.string().min(1),
  messages: z.array(
    z.object({
      id: z.string().min(1).optional(),
      direction: z.enum(['inbound', 'outbound']),
      ts: z.string().min(1),
      text: z.string(),
    }),
  ),
  gold: z.unknown().optional(),
});
export type ConversationLine = z.infer<typeof ConversationLine>;

export interface ParsedLines<T> {
  rows: T[];
  /** "line 7: …" for every line that was not valid; those lines are skipped, the rest kept. */
  errors: string[];
}

/** Splits JSONL text into parsed JSON values; blank lines are ignored like score.py does. */
export function parseJsonLines(text: string): ParsedLines<{ line: number; value: unknown }> {
  const rows: Array<{ line: number; value: unknown }> = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    try {
      rows.push({ line: index + 1, value: JSON.parse(line) as unknown });
    } catch (error) {
      errors.push(`line ${index + 1}: not JSON (${(error as Error).message})`);
    }
  });
  return { rows, errors };
}

/** Parses a conversations file; invalid lines are reported with their number and zod's reasons. */
export function parseConversations(text: string): ParsedLines<ConversationLine> {
  const { rows, errors } = parseJsonLines(text);
  const conversations: ConversationLine[] = [];
  for (const { line, value } of rows) {
    const parsed = ConversationLine.safeParse(value);
    if (parsed.success) conversations.push(parsed.data);
    else {
      const issues = parsed.error.issues.map(
        (i) => `${i.path.join('.') || '(root)'}: ${i.message}`,
      );
      errors.push(`line ${line}: ${issues.join('; ')}`);
    }
  }
  return { rows: conversations, errors };
}

/** The port's input for one conversation; messages without ids get stable positional ones. */
export function toExtractionInput(row: ConversationLine): ExtractionInput {
  return {
    now: row.now,
    timeZone: 'Europe/Bucharest',
    messages: row.messages.map((m, index) => ({
      id: m.id ?? `${row.id}-m${index + 1}`,
      direction: m.direction,
      ts: m.ts,
      text: m.text,
    })),
  };
}
