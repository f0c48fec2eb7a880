/** The chat-completion port the Groq provider and the answer phraser use. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One chat completion, with retries and rate limiting behind it. */
export interface LlmChat {
  readonly model: string;
  /** `json: true` asks for a JSON object (response_format json_object). */
  complete(
    messages: ChatMessage[],
    options: { json: boolean; maxTokens?: number },
  ): Promise<string>;
}
