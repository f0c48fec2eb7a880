import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

type Json = Record<string, unknown>;

/** One HTTP request and its answer, as a test client exchanged them. */
export interface HttpExchange {
  method: string;
  /** Path and query, e.g. `/api/threads?accountId=a`. */
  url: string;
  /** The raw request body; undefined or empty when none was sent. */
  requestBody?: string | undefined;
  status: number;
  /** The response's Content-Type header, if any. */
  contentType?: string | undefined;
  responseBody: string;
}

/** One Server-Sent Events frame with data, as a test client read it. */
export interface SseEvent {
  id?: string | undefined;
  event: string;
  /** The `data:` lines joined, JSON for every frame the API streams. */
  data: string;
}

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  literals: number;
  op: Json;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const isJson = (mediaType: string) =>
  mediaType === 'application/json' || mediaType.endsWith('+json');
const baseType = (value: string) => value.split(';')[0]!.trim().toLowerCase();

/** A problem+json answer's title and detail (empty for anything else). */
function problemDetail(exchange: HttpExchange): string {
  try {
    const problem = JSON.parse(exchange.responseBody) as { title?: unknown; detail?: unknown };
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    return `${text(problem.title)} ${text(problem.detail)}`;
  } catch {
    return '';
  }
}

/**
 * Checks HTTP traffic against an OpenAPI 3.1 document (JSON Schema 2020-12 through ajv):
 * - the answer's status is declared (exactly, as `4XX`, or `default`), its media type is one the
 *   operation declares, and a JSON body validates against the declared schema (so a field the
 *   document does not declare fails where the schema says `additionalProperties: false`);
 * - an operation that declares no request body is not refused (400) for a request without one,
 *   and does not accept (2xx) a body it does not declare; a declared JSON body the schema refuses
 *   is not accepted (2xx).
 * Paths the document does not describe (the docs page, the web client's files, bull-board) are
 * not checked, unless they are under /api/ and answered anything but 404.
 */
export function createOpenApiTrafficValidator(doc: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat('byte', true);
  const compiled = new Map<unknown, ValidateFunction>();
  // `$ref: '#/components/schemas/…'` resolves against the compiled schema's root, so each one
  // carries the document's components beside it.
  const components = doc.components;
  const validatorFor = (schema: unknown) => {
    let validate = compiled.get(schema);
    if (validate === undefined) {
      validate = ajv.compile({ ...(schema as Json), components });
      compiled.set(schema, validate);
    }
    return validate;
  };

  const operations: Operation[] = [];
  for (const [template, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    const segments = template.split('/');
    const source = segments
      .map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
      .join('/');
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (op === undefined) continue;
      operations.push({
        method,
        template,
        pattern: new RegExp(`^${source}$`),
        literals: segments.filter((s) => !s.startsWith('{')).length,
        op,
      });
    }
  }
  // A literal segment wins over a parameter (/api/webhooks/deliveries/… over /api/webhooks/{id}/…).
  operations.sort((a, b) => b.literals - a.literals);

  const schemaErrors = (validate: ValidateFunction) =>
    (validate.errors ?? [])
      .slice(0, 5)
      .map(
        (e) =>
          `${e.instancePath || '/'} ${e.message ?? ''}${
            e.keyword === 'additionalProperties'
              ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
              : ''
          }`,
      )
      .join('; ');

  const operationOf = (method: string, url: string) => {
    const path = url.split('?')[0]!;
    return operations.find((o) => o.method === method.toLowerCase() && o.pattern.test(path));
  };

  /**
   * The problems of Server-Sent Events frames a 200 answer of the operation streamed: each
   * `{ id, event, data }` (data parsed as JSON) must match its text/event-stream schema.
   */
  function checkEvents(method: string, url: string, frames: readonly SseEvent[]): string[] {
    const match = operationOf(method, url);
    const where = `${method.toUpperCase()} ${url.split('?')[0]!} events`;
    const responses = (match?.op.responses ?? {}) as Record<
      string,
      { content?: Record<string, { schema?: unknown }> }
    >;
    const schema = responses['200']?.content?.['text/event-stream']?.schema;
    if (schema === undefined) return [`${where}: the document declares no text/event-stream`];
    const validate = validatorFor(schema);
    const problems: string[] = [];
    for (const frame of frames) {
      let data: unknown;
      try {
        data = JSON.parse(frame.data);
      } catch {
        problems.push(`${where}: the data of a ${frame.event} frame is not JSON`);
        continue;
      }
      const value = {
        ...(frame.id !== undefined ? { id: frame.id } : {}),
        event: frame.event,
        data,
      };
      if (!validate(value))
        problems.push(
          `${where}: a ${frame.event} frame does not match the document: ${schemaErrors(validate)}`,
        );
    }
    return problems;
  }

  /** The problems of one exchange; empty when it matches the document. */
  function check(exchange: HttpExchange): string[] {
    const method = exchange.method.toLowerCase();
    const path = exchange.url.split('?')[0]!;
    const match = operationOf(method, path);
    const where = `${exchange.method.toUpperCase()} ${path} → ${exchange.status}`;
    if (match === undefined) {
      const undocumented =
        path.startsWith('/api/') &&
        exchange.status !== 404 &&
        exchange.status !== 405 &&
        method !== 'options';
      return undocumented ? [`${where}: the document has no such operation`] : [];
    }
    const problems: string[] = [];
    const at = `${where} (${match.op.operationId as string})`;
    const ok = exchange.status >= 200 && exchange.status < 300;

    // The request body: exactly what the operation declares.
    const sent = exchange.requestBody !== undefined && exchange.requestBody.length > 0;
    const requestBody = match.op.requestBody as
      { required?: boolean; content?: Record<string, { schema?: unknown }> } | undefined;
    if (requestBody === undefined) {
      if (!sent && exchange.status === 400 && /\bbody\b/i.test(problemDetail(exchange)))
        problems.push(`${at}: refused a request without a body, and the operation declares none`);
      if (sent && ok) problems.push(`${at}: accepted a body the operation does not declare`);
    } else if (sent && ok) {
      const schema = requestBody.content?.['application/json']?.schema;
      if (schema !== undefined) {
        let parsed: unknown;
        try {
          // A leading byte order mark may be ignored by a JSON parser (RFC 8259 §8.1), as ours does.
          parsed = JSON.parse(exchange.requestBody!.replace(/^\uFEFF/, ''));
        } catch {
          problems.push(`${at}: accepted a request body that is not JSON`);
        }
        if (parsed !== undefined) {
          const validate = validatorFor(schema);
          if (!validate(parsed))
            problems.push(`${at}: accepted a body the document refuses: ${schemaErrors(validate)}`);
        }
      }
    } else if (!sent && ok && requestBody.required === true) {
      problems.push(`${at}: accepted a request without the body the document requires`);
    }

    // The answer: a declared status, media type and body.
    const responses = (match.op.responses ?? {}) as Record<
      string,
      { content?: Record<string, { schema?: unknown }> }
    >;
    const declared =
      responses[String(exchange.status)] ??
      responses[`${String(exchange.status)[0]}XX`] ??
      responses.default;
    if (declared === undefined) {
      problems.push(
        `${at}: status ${exchange.status} is not declared (declared: ${Object.keys(responses).join(', ')})`,
      );
      return problems;
    }
    if (exchange.responseBody.length === 0 || exchange.status === 204 || method === 'head')
      return problems;
    const content = declared.content;
    if (content === undefined) {
      problems.push(`${at}: answered a body where the document declares none`);
      return problems;
    }
    const mediaType = baseType(exchange.contentType ?? '');
    // An exact media type, else a declared range (`audio/*`, `*/*`).
    const media =
      Object.entries(content).find(([key]) => baseType(key) === mediaType)?.[1] ??
      Object.entries(content).find(([key]) => {
        const range = baseType(key);
        return (
          range === '*/*' || (range.endsWith('/*') && mediaType.startsWith(range.slice(0, -1)))
        );
      })?.[1];
    if (media === undefined) {
      problems.push(
        `${at}: media type ${mediaType || '(none)'} is not declared (declared: ${Object.keys(content).join(', ')})`,
      );
      return problems;
    }
    if (isJson(mediaType) && media.schema !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(exchange.responseBody);
      } catch {
        problems.push(`${at}: the ${mediaType} body is not JSON`);
        return problems;
      }
      const validate = validatorFor(media.schema);
      if (!validate(parsed))
        problems.push(`${at}: the body does not match the document: ${schemaErrors(validate)}`);
    }
    return problems;
  }

  const fail = (problems: string[]) => {
    if (problems.length > 0) throw new OpenApiTrafficMismatch(problems);
  };
  return {
    check,
    checkEvents,
    /** Throws with every problem of the exchange (a test that exchanged it fails). */
    assert(exchange: HttpExchange): void {
      fail(check(exchange));
    },
    /** Throws with every problem of the streamed frames. */
    assertEvents(method: string, url: string, frames: readonly SseEvent[]): void {
      fail(checkEvents(method, url, frames));
    },
  };
}
export type OpenApiTrafficValidator = ReturnType<typeof createOpenApiTrafficValidator>;

/**
 * An exchange the document does not describe. Its own class, so a test that retries through
 * faults (connection refused, timeouts) can still let this one fail it.
 */
export class OpenApiTrafficMismatch extends Error {
  constructor(readonly problems: string[]) {
    super(`HTTP traffic does not match the OpenAPI document:\n${problems.join('\n')}`);
    this.name = 'OpenApiTrafficMismatch';
  }
}

/**
 * A fetch that checks every exchange against the document (for tests that call a listening
 * server). The body is read once to check it and handed back intact.
 */
export function validatingFetch(
  validator: OpenApiTrafficValidator,
  baseFetch: typeof fetch = fetch,
): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const requestBody = request.body !== null ? await request.clone().text() : undefined;
    const response = await baseFetch(request);
    const url = new URL(request.url);
    // Streams (SSE) are not read here: their status and media type are still checked.
    const streaming = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
    const responseBody = streaming ? '' : await response.clone().text();
    validator.assert({
      method: request.method,
      url: `${url.pathname}${url.search}`,
      requestBody,
      status: response.status,
      contentType: response.headers.get('content-type') ?? undefined,
      responseBody,
    });
    return response;
  };
}
