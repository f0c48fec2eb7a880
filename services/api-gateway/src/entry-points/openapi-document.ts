import { ErrorCatalogue } from '@wacrm/contracts';

type Json = Record<string, unknown>;

const TEXT_RESPONSES: Record<string, string> = {
  '/api/stream': 'text/event-stream',
  '/metrics': 'text/plain; version=0.0.4',
  '/api/threads/{threadId}/messages/{messageId}/media': 'application/octet-stream',
};

const titles = new Map<number, string>(
  Object.values(ErrorCatalogue).map((e) => [e.status, e.title]),
);

/**
 * Finishes the generated OpenAPI document: error answers are `application/problem+json` with
 * the catalogue's titles, and the SSE and metrics routes declare their real media types.
 */
export function finishOpenApiDocument(doc: Json): Json {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [path, operations] of Object.entries(paths)) {
    for (const operation of Object.values(operations)) {
      const responses = (operation.responses ?? {}) as Record<string, Json>;
      for (const [status, response] of Object.entries(responses)) {
        const code = Number(status);
        const content = response.content as Record<string, unknown> | undefined;
        if (code >= 400 && content?.['application/json'] !== undefined) {
          response.content = { 'application/problem+json': content['application/json'] };
          response.description = titles.get(code) ?? 'Error';
        } else if (code < 300) {
          response.description = 'Success';
          const media = TEXT_RESPONSES[path];
          if (media !== undefined && content?.['application/json'] !== undefined) {
            response.content = { [media]: content['application/json'] };
          }
        }
      }
    }
  }
  return doc;
}
