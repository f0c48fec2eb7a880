import type { DraftEvent } from '@wacrm/contracts';

/** One chat message as the extractors read it; `ts` is ISO-8601 with its offset. */
export interface ChatMessageInput {
  id: string;
  direction: 'inbound' | 'outbound';
  ts: string;
  text: string;
}

export interface ExtractionInput {
  /** Oldest first. */
  messages: ChatMessageInput[];
  /** The moment of the extraction (ISO-8601); relative dates resolve against each message's own date. */
  now: string;
  timeZone: 'Europe/Bucharest';
}

export interface ExtractionOutput {
  /** Null when the chat is not a booking. */
  draft: DraftEvent | null;
  confidence: number;
  reasons: string[];
  sourceMessageIds: string[];
}

/** The port both providers implement: the deterministic offline extractor and Groq. */
export interface ExtractionProvider {
  readonly name: 'offline' | 'groq';
  readonly model: string;
  extract(input: ExtractionInput): Promise<ExtractionOutput>;
}
