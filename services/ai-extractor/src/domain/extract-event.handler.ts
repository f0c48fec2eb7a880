import type { z } from 'zod';
import {
  AppError,
  ExtractEventResponse,
  type ExtractEventJob,
  type ExtractionAction,
  type ExtractionDoc,
} from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import type { ExtractionRepository } from '../data-access/extraction.repository.js';
import type { ExtractionOutput, ExtractionProvider } from './extraction-provider.js';
import { normalizeForRules } from './offline/text.js';

export type ExtractEventResponse = z.infer<typeof ExtractEventResponse>;

export interface ExtractDeps {
  repo: ExtractionRepository;
  provider: ExtractionProvider;
  /** Used when the primary provider fails (Groq down, rate limited, output rejected). */
  fallback?: ExtractionProvider;
  logger: Logger;
  now?: () => Date;
}

async function runProvider(
  input: Parameters<ExtractionProvider['extract']>[0],
  deps: ExtractDeps,
): Promise<{ provider: ExtractionProvider; output: ExtractionOutput }> {
  try {
    return { provider: deps.provider, output: await deps.provider.extract(input) };
  } catch (error) {
    if (deps.fallback === undefined) throw error;
    deps.logger.warn(
      { err: error, provider: deps.provider.name, fallback: deps.fallback.name },
      'extraction provider failed; using the fallback provider',
    );
    const output = await deps.fallback.extract(input);
    const why = error instanceof Error ? error.message : String(error);
    return {
      provider: deps.fallback,
      output: {
        ...output,
        reasons: [
          `${deps.provider.name} failed (${why}); ${deps.fallback.name} used`,
          ...output.reasons,
        ],
      },
    };
  }
}

/**
 * Drafts a booking from a thread's recent messages and audits it under
 * `threads/{threadId}/extractions/{requestId}`. It never writes `evenimente`, dry run or not:
 * a draft becomes an event only when a person saves it. A retried job returns the audit it
 * already wrote.
 */
export async function extractEvent(
  payload: ExtractEventJob,
  deps: ExtractDeps,
): Promise<ExtractEventResponse> {
  const { threadId, requestId } = payload;
  const already = await deps.repo.extraction(threadId, requestId);
  if (already !== undefined) {
    return ExtractEventResponse.parse({
      action: already.action,
      draftEvent: already.output,
      confidence: already.confidence,
      reasons: already.reasons,
      sourceMessageIds: already.sourceMessageIds ?? [],
      extractionId: requestId,
    });
  }

  const thread = await deps.repo.thread(threadId);
  // Another account's thread is reported as missing: its existence is not the caller's business.
  if (thread === undefined || thread.accountId !== payload.accountId) {
    throw new AppError(
      'NOT_FOUND',
      `thread ${threadId} not found for account ${payload.accountId}`,
    );
  }
  const messages = await deps.repo.recentMessages(threadId, payload.messageLimit);
  const now = deps.now?.() ?? new Date();
  const { provider, output } = await runProvider(
    {
      messages: messages.flatMap((m) =>
        m.text === null
          ? []
          : [
              {
                id: m.id,
                direction: m.direction,
                ts: m.tsClient.toISOString(),
                // Written by a stranger: bounded before any provider (rules or LLM) reads it.
                text: normalizeForRules(m.text),
              },
            ],
      ),
      now: now.toISOString(),
      timeZone: 'Europe/Bucharest',
    },
    deps,
  );

  const reasons = [...output.reasons];
  let action: ExtractionAction;
  if (output.draft === null) {
    action = 'none';
  } else if (thread.phoneE164 === null) {
    action = 'create';
    reasons.push('the thread has no known phone number, so existing events cannot be matched');
  } else if (output.draft.date === null) {
    action = 'create';
    reasons.push('no date yet, so no existing event can match');
  } else {
    const existing = await deps.repo.activeEventsOn(thread.phoneE164, output.draft.date);
    action = existing.length > 0 ? 'update' : 'create';
    if (existing.length > 0) {
      reasons.push(
        `an event already exists on ${output.draft.date}: ${existing.map((e) => `${e.eventShortId} (${e.eventId})`).join(', ')}`,
      );
    }
  }

  const doc: ExtractionDoc = {
    threadId,
    accountId: payload.accountId,
    requestId,
    inputMessageIds: messages.map((m) => m.id),
    sourceMessageIds: output.sourceMessageIds,
    provider: provider.name,
    model: provider.model,
    action,
    output: output.draft,
    confidence: output.confidence,
    reasons: reasons.slice(0, 50).map((r) => r.slice(0, 500)),
    dryRun: payload.dryRun,
    createdBy: payload.requestedBy,
    createdAt: now,
  };
  await deps.repo.saveExtraction(threadId, requestId, doc);
  deps.logger.info(
    { provider: provider.name, action, confidence: output.confidence, messages: messages.length },
    'extraction drafted and audited',
  );
  return ExtractEventResponse.parse({
    action,
    draftEvent: output.draft,
    confidence: output.confidence,
    reasons: doc.reasons,
    sourceMessageIds: output.sourceMessageIds,
    extractionId: requestId,
  });
}
