import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { trace } from '@opentelemetry/api';
import type { AppError } from '@wacrm/contracts';
import { ErrorCatalogue, isAppError, type ErrorCode, type ProblemDetails } from '@wacrm/contracts';

function traceId(): string | undefined {
  return trace.getActiveSpan()?.spanContext().traceId;
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  code: ErrorCode,
  detail: string | undefined,
  errors?: ProblemDetails['errors'],
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
  const id = traceId();
  if (id !== undefined) body.traceId = id;
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

/** One error handler: problem+json everywhere, 5xx details logged with the trace id, never sent. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (isAppError(error)) {
      if (error.status >= 500) {
        request.log.error({ err: error, trace_id: traceId() }, 'request failed');
        return sendProblem(reply, request, error.code, undefined);
      }
      return sendProblem(reply, request, error.code, error.message, error.errors);
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
