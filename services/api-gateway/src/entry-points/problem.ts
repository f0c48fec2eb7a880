import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { trace } from '@opentelemetry/api';
import type { AppError } from '@wacrm/contracts';
import {
  BookingConflictError,
  ErrorCatalogue,
  isAppError,
  type ErrorCode,
  type ProblemDetails,
} from '@wacrm/contracts';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

function traceId(): string | undefined {
  return trace.getActiveSpan()?.spanContext().traceId;
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  code: ErrorCode,
  detail: string | undefined,
  errors?: ProblemDetails['errors'],
  extensions: Pick<ProblemDetails, 'conflicts'> = {},
): FastifyReply {
  const entry = ErrorCatalogue[code];
  const body: ProblemDetails = {
    type: `https://wacrm.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: entry.title,
    status: entry.status,
    code,
    instance: request.url,
  };
  if (detail !== undefined) body.detail = detail;
  if (errors !== undefined) body.errors = errors;
  if (extensions.conflicts !== undefined) body.conflicts = extensions.conflicts;
  const id = traceId();
  if (id !== undefined) body.traceId = id;
  if (code === 'UNAUTHENTICATED') reply.header('www-authenticate', 'Bearer realm="wacrm"');
  return reply.status(entry.status).type('application/problem+json').send(body);
}

/** Fastify's own error codes that are the client's fault, mapped onto the catalogue. */
function codeForFastifyError(error: FastifyError): ErrorCode | undefined {
  if (error.validation !== undefined) return 'VALIDATION_FAILED';
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'PAYLOAD_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'VALIDATION_FAILED';
    default:
      break;
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return error.statusCode === 404 ? 'NOT_FOUND' : 'VALIDATION_FAILED';
  }
  return undefined;
}

/** `{path, message}` per failing field, the path dotted from the zod issue path. */
function validationErrors(
  validation: ReadonlyArray<{ instancePath: string; message?: string }>,
): Array<{ path: string; message: string }> {
  return validation.map((v) => {
    const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    return { path: path.length > 0 ? path : '(root)', message: v.message ?? 'invalid' };
  });
}

/**
 * gRPC statuses of a store that is slow or away rather than of a bad request: CANCELLED (1),
 * DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8), ABORTED (10), UNAVAILABLE (14).
 */
const STORE_UNAVAILABLE: ReadonlySet<number> = new Set([1, 4, 8, 10, 14]);

/** One error handler: problem+json everywhere, 5xx details logged with the trace id, never sent. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (isAppError(error)) {
      if (error.code === 'DEPENDENCY_UNAVAILABLE' || error.code === 'RATE_LIMITED') {
        // Written for the client (what is down, when to retry); the cause stays in the log.
        if (error.code === 'DEPENDENCY_UNAVAILABLE') {
          request.log.warn(
            { err: error, trace_id: traceId() },
            'request refused: a dependency is unavailable',
          );
        }
        if (!reply.hasHeader('retry-after')) reply.header('retry-after', '5');
        return sendProblem(reply, request, error.code, error.message);
      }
      if (error.status >= 500) {
        request.log.error({ err: error, trace_id: traceId() }, 'request failed');
        return sendProblem(reply, request, error.code, undefined);
      }
      const extensions =
        error instanceof BookingConflictError ? { conflicts: error.conflicts } : {};
      return sendProblem(reply, request, error.code, error.message, error.errors, extensions);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = validationErrors(error.validation);
      const where = error.validationContext ?? 'request';
      const detail = `${where}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`;
      return sendProblem(reply, request, 'VALIDATION_FAILED', detail, errors);
    }
    // A gRPC status from Firestore: INVALID_ARGUMENT (3) means an id or value Firestore refuses.
    const grpcCode = (error as unknown as { code?: unknown }).code;
    if (typeof grpcCode === 'number' && STORE_UNAVAILABLE.has(grpcCode)) {
      // The store is slow or away (its deadline passed, it is overloaded or restarting): the
      // request may succeed on a retry, so 503 with Retry-After, never a 500.
      request.log.warn(
        { err: error, trace_id: traceId() },
        'request refused: the store did not answer in time',
      );
      reply.header('retry-after', '5');
      return sendProblem(
        reply,
        request,
        'DEPENDENCY_UNAVAILABLE',
        'the store did not answer in time; retry shortly',
      );
    }
    if (grpcCode === 3) {
      request.log.warn({ err: error }, 'Firestore refused an argument from the request');
      return sendProblem(
        reply,
        request,
        'VALIDATION_FAILED',
        'an identifier in the request is not valid',
      );
    }
    const code = codeForFastifyError(error);
    if (code !== undefined) return sendProblem(reply, request, code, error.message);
    request.log.error({ err: error, trace_id: traceId() }, 'unhandled error');
    return sendProblem(reply, request, 'INTERNAL', undefined);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      'NOT_FOUND',
      `no route ${request.method} ${request.url.split('?')[0]}`,
    ),
  );
}
