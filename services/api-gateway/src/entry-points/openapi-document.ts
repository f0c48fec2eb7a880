import type { FastifySchema } from 'fastify';
import { ErrorCatalogue } from '@wacrm/contracts';
import { API_TAGS } from './documented.js';
import { streamDocument } from './stream-document.js';
import { webhookDocument } from './webhook-document.js';

type Json = Record<string, unknown>;

const TEXT_RESPONSES: Record<string, string> = {
  '/metrics': 'text/plain; version=0.0.4',
  // The file with the type it was stored with (image/jpeg, audio/ogg, application/pdf, …).
  '/api/threads/{threadId}/messages/{messageId}/media': '*/*',
  '/api/admin/failed-jobs/export': 'application/x-ndjson',
  '/api/crm/performers/{performerId}/calendar.ics': 'text/calendar',
  '/api/crm/exports/{kind}': 'text/csv',
};

/** Operations whose body is a file sent as multipart/form-data (streamed, not a JSON schema). */
const MULTIPART_BODIES: Record<string, Json> = {
  '/api/media': {
    type: 'object',
    required: ['file'],
    properties: {
      file: { type: 'string', format: 'binary', description: 'The file (one part named file).' },
    },
  },
};

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const CAMEL_CASE = /^[a-z][a-zA-Z0-9]*$/;

const titles = new Map<number, string>(
  Object.values(ErrorCatalogue).map((e) => [e.status, e.title]),
);

/**
 * Wraps the zod schema transform: a route's `bodyExample` (required with a body by
 * documentedRoutes) becomes its request body's example in the document.
 */
export function withBodyExamples<
  I extends { schema: FastifySchema },
  O extends { schema: FastifySchema },
>(transform: (input: I) => O): (input: I) => O {
  return (input) => {
    const { bodyExample, ...schema } = input.schema as FastifySchema & { bodyExample?: unknown };
    const out = transform({ ...input, schema });
    const body = out.schema.body as Json | undefined;
    if (bodyExample !== undefined && body !== undefined) {
      out.schema = { ...out.schema, body: { ...body, examples: [bodyExample] } };
    }
    return out;
  };
}

/** An RFC 9457 problem (errorResponses); a 4xx/5xx with another body (/health's 503) keeps it. */
function isProblem(schema: Json | undefined): boolean {
  const properties = schema?.properties as Json | undefined;
  return properties?.type !== undefined && properties.title !== undefined;
}

/** Operations that answer Server-Sent Events: their frames' schema (a components schema). */
const EVENT_STREAMS = new Set(['/api/stream']);

/**
 * Finishes the generated OpenAPI document: error answers are `application/problem+json` with
 * the catalogue's titles, the SSE and metrics routes declare their real media types (the SSE
 * route with its frames' schema and the event payloads as components), every
 * operation states its security, the tags are declared, and the webhooks (with their signature
 * scheme) are described. Refuses an operation without a camelCase operationId or with one
 * another operation already has.
 */
export function finishOpenApiDocument(doc: Json): Json {
  const stream = streamDocument();
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  const operationIds = new Set<string>();
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!METHODS.has(method)) continue;
      const id = operation.operationId;
      if (typeof id !== 'string' || !CAMEL_CASE.test(id) || operationIds.has(id)) {
        throw new Error(
          `${method.toUpperCase()} ${path}: operationId ${String(id)} is missing, not camelCase or not unique`,
        );
      }
      operationIds.add(id);
      operation.security ??= doc.security;
      const responses = (operation.responses ?? {}) as Record<string, Json>;
      const upload = MULTIPART_BODIES[path];
      if (method === 'post' && upload !== undefined && operation.requestBody === undefined) {
        operation.requestBody = {
          required: true,
          content: { 'multipart/form-data': { schema: upload } },
        };
      }
      // A body schema that admits null (zod .nullish()) is an optional body: none may be sent.
      const body = operation.requestBody as
        { required?: boolean; content?: Record<string, { schema?: Json }> } | undefined;
      const bodySchema = body?.content?.['application/json']?.schema;
      if (body !== undefined && Array.isArray(bodySchema?.anyOf)) {
        if ((bodySchema.anyOf as Json[]).some((s) => s.type === 'null')) body.required = false;
      }
      // Answers Fastify gives any operation that takes a body, before the route runs.
      const problem = (responses['400']?.content as Json | undefined)?.['application/json'];
      if (operation.requestBody !== undefined && problem !== undefined) {
        for (const status of ['413', '415'])
          responses[status] ??= { content: { 'application/json': problem } };
      }
      for (const [status, response] of Object.entries(responses)) {
        const code = Number(status);
        const content = response.content as Record<string, { schema?: Json }> | undefined;
        const json = content?.['application/json'];
        if (json?.schema?.type === 'null') {
          // z.null(): an answer without a body (304, 416).
          delete response.content;
        } else if (code >= 400 && json !== undefined) {
          if (isProblem(json.schema)) response.content = { 'application/problem+json': json };
          response.description = titles.get(code) ?? 'Error';
        } else if (code < 300) {
          response.description = 'Success';
          const media = TEXT_RESPONSES[path];
          if (EVENT_STREAMS.has(path)) {
            response.content = { 'text/event-stream': { schema: stream.frame } };
          } else if (media !== undefined && json !== undefined) {
            response.content = { [media]: json };
          }
        }
      }
    }
  }
  const used = new Set(
    Object.values(paths).flatMap((item) =>
      Object.values(item).flatMap((op) => (op.tags ?? []) as string[]),
    ),
  );
  doc.tags = Object.entries(API_TAGS)
    .filter(([name]) => used.has(name) || name === 'webhooks')
    .map(([name, description]) => ({ name, description }));
  const { webhooks, securityScheme } = webhookDocument();
  const components = (doc.components ?? {}) as Json;
  components.schemas = { ...(components.schemas as Json | undefined), ...stream.schemas };
  components.securitySchemes = {
    ...(components.securitySchemes as Json | undefined),
    webhookSignature: securityScheme,
  };
  doc.components = components;
  doc.webhooks = webhooks;
  return doc;
}
