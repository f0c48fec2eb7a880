import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealtimeEvent } from '@wacrm/contracts';
import { admin, useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * Structural checks of the OpenAPI 3.1 rules that matter to a client generator (no validator
 * package is installed here): version, info, path templates vs path parameters, responses,
 * media types, JSON Schema 2020-12 (no 3.0 `nullable`), resolvable $refs and security schemes.
 */
function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  if (typeof doc.openapi !== 'string' || !/^3\.1\.\d+$/.test(doc.openapi))
    problems.push('openapi must be 3.1.x');
  const info = doc.info as Json | undefined;
  if (typeof info?.title !== 'string' || typeof info.version !== 'string')
    problems.push('info.title and info.version are required');
  const schemes = ((doc.components as Json | undefined)?.securitySchemes ?? {}) as Json;
  const checkSecurity = (where: string, security: unknown) => {
    if (security === undefined) return;
    if (!Array.isArray(security)) return problems.push(`${where}: security must be an array`);
    for (const requirement of security as Json[]) {
      for (const name of Object.keys(requirement))
        if (!(name in schemes)) problems.push(`${where}: unknown security scheme ${name}`);
    }
  };
  checkSecurity('root', doc.security);
  const resolve = (ref: string) =>
    ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((node, key) => (node as Json | undefined)?.[key], doc);
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Json)) {
      if (key === 'nullable') problems.push(`${where}: "nullable" is OpenAPI 3.0, not 3.1`);
      if (key === '$ref' && (typeof value !== 'string' || resolve(value) === undefined))
        problems.push(`${where}: unresolved $ref ${String(value)}`);
      walk(value, `${where}.${key}`);
    }
  };
  walk(doc, '#');
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    if (!path.startsWith('/')) problems.push(`${path}: paths start with /`);
    const templated = [...path.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!);
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const operation = op as Json;
      if (typeof operation.operationId === 'string') {
        if (operationIds.has(operation.operationId))
          problems.push(`${where}: duplicate operationId`);
        operationIds.add(operation.operationId);
      }
      checkSecurity(where, operation.security);
      const params = (operation.parameters ?? []) as Json[];
      for (const p of params) {
        if (
          typeof p.name !== 'string' ||
          !['query', 'header', 'path', 'cookie'].includes(String(p.in))
        )
          problems.push(`${where}: bad parameter`);
        if (p.schema === undefined && p.content === undefined)
          problems.push(`${where}: parameter ${String(p.name)} has no schema`);
        if (p.in === 'path' && p.required !== true)
          problems.push(`${where}: path parameter ${String(p.name)} must be required`);
      }
      const pathParams = params
        .filter((p) => p.in === 'path')
        .map((p) => String(p.name))
        .sort();
      if (JSON.stringify(pathParams) !== JSON.stringify([...templated].sort()))
        problems.push(
          `${where}: path parameters ${pathParams.join(',')} vs template ${templated.join(',')}`,
        );
      const body = operation.requestBody as Json | undefined;
      if (body !== undefined) {
        const content = body.content as Record<string, Json> | undefined;
        if (content === undefined || Object.keys(content).length === 0)
          problems.push(`${where}: requestBody without content`);
        for (const [media, m] of Object.entries(content ?? {}))
          if (m.schema === undefined) problems.push(`${where}: ${media} body without schema`);
      }
      const responses = operation.responses as Record<string, Json> | undefined;
      if (responses === undefined || Object.keys(responses).length === 0) {
        problems.push(`${where}: no responses`);
        continue;
      }
      for (const [status, response] of Object.entries(responses)) {
        if (!/^([1-5](\d\d|XX)|default)$/.test(status))
          problems.push(`${where}: bad status key ${status}`);
        if (typeof response.description !== 'string')
          problems.push(`${where} ${status}: description is required`);
      }
      if (!Object.keys(responses).some((s) => s.startsWith('2')))
        problems.push(`${where}: no success response`);
    }
  }
  return problems;
}

let gw: TestGateway;

beforeAll(async () => {
  gw = await useGateway({
    WA_EMULATOR_URL: 'http://127.0.0.1:9',
    RATE_LIMIT_MAX: '5',
    CORS_ORIGINS: 'https://inbox.example, https://admin.example',
  });
  validateTraffic(gw);
}, 120_000);

afterAll(async () => {
  await gw?.dispose();
});

describe('OpenAPI document and docs page', () => {
  it('when /openapi.json is read without credentials, then it is a valid OpenAPI 3.1 document', async () => {
    const res = await gw.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<Json>();
    expect(openApiProblems(doc)).toEqual([]);
  });

  it('when the document is read, then every route has its request and response schemas and problem+json errors', async () => {
    const doc = (await gw.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, Json>>;
    }>();
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([m, op]) => ({ path, m, op })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(36);
    expect(
      operations
        .filter(({ op }) => Array.isArray(op.security) && op.security.length === 0)
        .map(({ m, path }) => `${m} ${path}`)
        .sort(),
    ).toEqual([
      // The calendar feed carries its own secret in the URL (tokenInUrl), as calendar apps need.
      'get /api/crm/performers/{performerId}/calendar.ics',
      'get /api/web-config',
      'get /health',
    ]);
    for (const { path, m, op } of operations) {
      const responses = op.responses as Record<
        string,
        { content?: Record<string, { schema?: unknown }> }
      >;
      const success = Object.entries(responses).filter(([s]) => s.startsWith('2'));
      expect(success.length, `${m} ${path}`).toBeGreaterThan(0);
      for (const [, r] of success)
        expect(Object.values(r.content ?? {})[0]?.schema, `${m} ${path}`).toBeDefined();
      // Public operations (security: []) answer no 401; the list of them is pinned below.
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      if (!isPublic) {
        expect(
          responses['401']?.content?.['application/problem+json']?.schema,
          `${m} ${path} 401`,
        ).toBeDefined();
        expect(
          responses['400']?.content?.['application/problem+json']?.schema,
          `${m} ${path} 400`,
        ).toBeDefined();
      }
      if (
        ['post', 'put', 'patch'].includes(m) &&
        !/regenerate-qr|logout|archive|revoke|disable|replay|scan|cancel$|approve$|reminders$|calendar-feed$/.test(
          path,
        )
      ) {
        expect((op.requestBody as Json | undefined)?.content, `${m} ${path} body`).toBeDefined();
      }
    }
    expect(Object.keys(doc.paths['/api/stream']!.get!.responses as Json)).toContain('200');
    expect(JSON.stringify(doc.paths['/api/stream']!.get!.responses)).toContain('text/event-stream');
    // The stream's frames and event payloads are in the document, one schema per event type.
    const stream = (doc.paths['/api/stream']!.get!.responses as Record<string, Json>)['200']!;
    expect(stream.content).toEqual({
      'text/event-stream': { schema: { $ref: '#/components/schemas/RealtimeFrame' } },
    });
    const schemas = (doc as { components?: { schemas?: Record<string, Json> } }).components
      ?.schemas;
    expect((schemas?.RealtimeEvent?.oneOf as Json[]).length).toBe(RealtimeEvent.options.length);
    expect(schemas?.RealtimeMessageStatus?.properties).toMatchObject({
      type: { const: 'message.status' },
      status: { enum: expect.arrayContaining(['sent', 'delivered', 'read']) as unknown },
    });
    const addAccount = JSON.stringify(doc.paths['/api/whatsapp/add-account']!.post!.requestBody);
    expect(addAccount).toContain('"name"');
    expect(addAccount).toContain('"phone"');
  });

  it('when the document is read, then every operation is named and described for SDK generators, every body has an example, and the webhooks are described', async () => {
    const doc = (await gw.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, Json>>;
      tags: Array<{ name: string; description: string }>;
      webhooks: Record<string, { post: Json }>;
      components: { securitySchemes: Record<string, Json> };
    }>();
    const declared = new Set(doc.tags.map((t) => t.name));
    const ids: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect(op.operationId, where).toMatch(/^[a-z][a-zA-Z0-9]*$/);
        ids.push(op.operationId as string);
        expect(op.summary, where).toEqual(expect.any(String));
        expect(op.description, where).toEqual(expect.any(String));
        expect(op.security, where).toBeDefined();
        for (const tag of op.tags as string[]) expect(declared, `${where} ${tag}`).toContain(tag);
        const body = (op.requestBody as { content?: Record<string, Json> } | undefined)?.content;
        if (body?.['application/json'] !== undefined)
          expect(body['application/json'].example, `${where} example`).toBeDefined();
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['sendMessage', 'listThreads', 'addAccount']));
    expect(Object.keys(doc.webhooks).sort()).toEqual([
      'account.status',
      'message.created',
      'message.status',
      'thread.updated',
    ]);
    expect(doc.components.securitySchemes.webhookSignature).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-wacrm-signature',
    });
  });

  it('when /docs is opened, then the Swagger UI page and its assets are served (Node 20 included)', async () => {
    const page = await gw.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('swagger-ui');
    for (const asset of [
      '/docs/static/swagger-ui-bundle.js',
      '/docs/static/swagger-initializer.js',
      '/docs/static/swagger-ui.css',
    ]) {
      expect((await gw.app.inject({ method: 'GET', url: asset })).statusCode, asset).toBe(200);
    }
    const init = await gw.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.body).toContain('/openapi.json');
  });
});

describe('rate limits and CORS', () => {
  it('when one caller exceeds RATE_LIMIT_MAX, then 429 problem+json with Retry-After, and another caller is unaffected', async () => {
    const created = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/api-keys',
      headers: admin,
      payload: { name: 'rl', scopes: ['read'] },
    });
    const key = created.json<{ key: string }>().key;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push(
        (await gw.app.inject({ method: 'GET', url: '/api/me', headers: { 'x-api-key': key } }))
          .statusCode,
      );
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    const limited = await gw.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { 'x-api-key': key },
    });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json<{ code: string }>().code).toBe('RATE_LIMITED');
    // The counter lives in Redis under this gateway's prefix, so every replica shares it.
    expect(
      (await gw.redis.connection.keys(`${gw.config.QUEUE_PREFIX}:ratelimit:*`)).length,
    ).toBeGreaterThan(0);
    const other = await gw.app.inject({
      method: 'POST',
      url: '/api/admin/api-keys',
      headers: admin,
      payload: { name: 'rl2', scopes: ['read'] },
    });
    const otherKey = other.json<{ key: string }>().key;
    expect(
      (await gw.app.inject({ method: 'GET', url: '/api/me', headers: { 'x-api-key': otherKey } }))
        .statusCode,
    ).toBe(200);
    // /health is never limited (orchestrators probe it).
    for (let i = 0; i < 8; i++)
      expect((await gw.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('when an allowed origin sends a preflight, then CORS allows it; another origin gets no CORS headers', async () => {
    const ok = await gw.app.inject({
      method: 'OPTIONS',
      url: '/api/threads',
      headers: {
        origin: 'https://inbox.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://inbox.example');
    const evil = await gw.app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'https://evil.example' },
    });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });
});
