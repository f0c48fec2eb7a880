import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  SpanKind,
  SpanStatusCode,
  startSpan,
  withActiveSpan,
  type Span,
} from '@wacrm/observability';

const spans = new WeakMap<FastifyRequest, Span>();

/** W3C trace headers of a request, for continuing a caller's trace. */
function traceHeaders(request: FastifyRequest): Record<string, string> {
  const carrier: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const value = request.headers[name];
    if (typeof value === 'string') carrier[name] = value;
  }
  return carrier;
}

/**
 * One SERVER span per HTTP request, active while the route runs, so everything a request
 * enqueues (a send, an AI request) is in its trace. The span is named by the route template,
 * never by the URL, which may carry phone numbers.
 */
export function registerTracing(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const span = startSpan(request.method, {
      kind: SpanKind.SERVER,
      parent: traceHeaders(request),
      attributes: { 'http.request.method': request.method },
    });
    spans.set(request, span);
    withActiveSpan(span, done);
  });
  // The body arrives through stream events, outside the request's context: re-enter it before
  // the hooks and the handler that follow parsing.
  const reenter = (request: FastifyRequest, _reply: unknown, done: () => void) => {
    const span = spans.get(request);
    if (span === undefined) done();
    else withActiveSpan(span, done);
  };
  app.addHook('preValidation', reenter);
  app.addHook('preHandler', reenter);
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span !== undefined) {
      const route = request.routeOptions.url;
      span.updateName(`${request.method} ${route ?? 'unmatched route'}`);
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (route !== undefined) span.setAttribute('http.route', route);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      spans.delete(request);
    }
    done();
  });
}
