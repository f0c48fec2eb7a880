import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';

export { SpanKind, SpanStatusCode } from '@opentelemetry/api';
export type { Span, Attributes } from '@opentelemetry/api';

/** Span attribute names shared by every service (dotted, OpenTelemetry style). */
export const Attr = {
  accountId: 'wa.account.id',
  messageId: 'wa.message.id',
  requestId: 'wacrm.request.id',
  threadId: 'wacrm.thread.id',
  /** A phone number or JID, hashed with hashForTelemetry: never in clear. */
  peerHash: 'wa.peer.hash',
  eventType: 'wacrm.event.type',
  count: 'wacrm.count',
} as const;

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /**
   * A W3C carrier (`{ traceparent }`) the span continues; without it, the active context.
   * An empty or invalid carrier starts a new trace.
   */
  parent?: Record<string, string>;
}

const tracer = () => trace.getTracer('wacrm');

function spanInit(options: SpanOptions) {
  return {
    kind: options.kind ?? SpanKind.INTERNAL,
    ...(options.attributes !== undefined ? { attributes: options.attributes } : {}),
  };
}

function parentContext(options: SpanOptions) {
  if (options.parent === undefined) return context.active();
  return propagation.extract(ROOT_CONTEXT, options.parent);
}

/**
 * Runs `fn` inside a new active span and ends it when `fn` settles; a thrown error marks the
 * span as failed (the message only: errors here never carry message text or numbers).
 */
export async function withSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = parentContext(options);
  const span = tracer().startSpan(name, spanInit(options), parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

/** Starts a span the caller ends (for lifecycles outside one function, like an HTTP request). */
export function startSpan(name: string, options: SpanOptions): Span {
  return tracer().startSpan(name, spanInit(options), parentContext(options));
}

/** Runs `fn` with `span` as the active span. */
export function withActiveSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Adds attributes to the active span, if any. */
export function setSpanAttributes(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** The active span's `traceparent`, or undefined outside a sampled trace. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

export const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
