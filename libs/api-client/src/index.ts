import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths, webhooks } from './schema.js';

export type { components, operations, paths, webhooks };

type Responses<Op extends keyof operations> = operations[Op]['responses'];

/** What an operation answers with a status (200 by default), as JSON. */
export type ApiResponse<
  Op extends keyof operations,
  Status extends number = 200,
> = Status extends keyof Responses<Op>
  ? Responses<Op>[Status] extends { content: { 'application/json': infer T } }
    ? T
    : never
  : never;

/** A problem+json error answer (the same shape for every operation and status). */
export type ApiProblem =
  operations['getMe']['responses'][401]['content']['application/problem+json'];

/** A request body an operation takes. */
export type ApiRequestBody<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { 'application/json': infer T } };
}
  ? T
  : never;

/** An event of GET /api/stream (a frame's `data`, its `type` being the frame's `event:` name). */
export type RealtimeEvent = components['schemas']['RealtimeEvent'];

/** One frame of GET /api/stream as `{ id, event, data }`: an event, a `resync` or an `end`. */
export type RealtimeFrame = components['schemas']['RealtimeFrame'];

export type ApiClient = Client<paths>;

/**
 * The wacrm API's typed client (openapi-fetch over the generated `paths`): every path, method,
 * parameter, body and answer is checked at compile time against the OpenAPI document.
 */
export function createApiClient(options: ClientOptions = {}): ApiClient {
  return createClient<paths>(options);
}
