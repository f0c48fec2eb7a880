import type { FastifyInstance, FastifyRequest, preParsingHookHandler } from 'fastify';
import { AppError } from '@wacrm/contracts';

/** Whether the request carries a body (HTTP/1.1: a non-zero Content-Length, or a chunked one). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length.trim() !== '0';
  return request.headers['transfer-encoding'] !== undefined;
}

const refuseBody: preParsingHookHandler = (request, _reply, payload, done) => {
  if (!hasBody(request)) {
    done(null, payload);
    return;
  }
  done(
    new AppError(
      'VALIDATION_FAILED',
      `${request.method} ${request.routeOptions.url ?? request.url} takes no request body: send none`,
      { errors: [{ path: '(body)', message: 'not allowed' }] },
    ),
  );
};

/**
 * Routes take exactly the bodies they declare (issue 21): a documented operation (one with an
 * operationId) whose schema declares no `body` and no `consumes` refuses a request that carries
 * one with 400 problem+json, before it is read. An empty body (`Content-Length: 0`, as clients
 * send with `Content-Type: application/json`) is no body. Register before the routes.
 */
export function refuseUndeclaredBodies(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const schema = route.schema as
      { operationId?: unknown; body?: unknown; consumes?: unknown } | undefined;
    if (schema?.operationId === undefined) return;
    if (schema.body !== undefined || schema.consumes !== undefined) return;
    const existing = route.preParsing;
    route.preParsing =
      existing === undefined
        ? [refuseBody]
        : [...(Array.isArray(existing) ? existing : [existing]), refuseBody];
  });
}
