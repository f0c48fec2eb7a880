import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  createOpenApiTrafficValidator,
  OpenApiTrafficMismatch,
  validatingFetch,
} from './openapi-traffic.js';

// The document GET /openapi.json serves, as committed beside the generated client.
const doc = JSON.parse(
  readFileSync(new URL('../../api-client/openapi.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const validator = createOpenApiTrafficValidator(doc);

const me = { kind: 'user', id: 'u1', role: 'admin', scopes: ['read'], allowedAccounts: null };
const json = 'application/json; charset=utf-8';

describe('OpenAPI traffic validation', () => {
  it('when an answer matches the document, then there is no problem', () => {
    expect(
      validator.check({
        method: 'GET',
        url: '/api/me',
        status: 200,
        contentType: json,
        responseBody: JSON.stringify(me),
      }),
    ).toEqual([]);
  });

  it('when an answer carries a field the document does not declare, then it is a problem naming it', () => {
    const problems = validator.check({
      method: 'GET',
      url: '/api/me',
      status: 200,
      contentType: json,
      responseBody: JSON.stringify({ ...me, passwordHash: 'x' }),
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('(getMe)');
    expect(problems[0]).toContain('additional properties (passwordHash)');
  });

  it('when an answer has a status or media type the operation does not declare, then it is a problem', () => {
    expect(
      validator.check({
        method: 'GET',
        url: '/api/me',
        status: 418,
        contentType: json,
        responseBody: '{}',
      })[0],
    ).toMatch(/status 418 is not declared/);
    expect(
      validator.check({
        method: 'GET',
        url: '/api/me',
        status: 200,
        contentType: 'text/html',
        responseBody: '<p>',
      })[0],
    ).toMatch(/media type text\/html is not declared/);
  });

  it('when an answer has a media type inside a declared range (*/*), then it is not a problem', () => {
    expect(
      validator.check({
        method: 'GET',
        url: '/api/threads/t1/messages/m1/media',
        status: 200,
        contentType: 'audio/ogg',
        responseBody: 'OggS',
      }),
    ).toEqual([]);
  });

  it('when an operation without a body refuses a request without one, or accepts one with a body, then it is a problem', () => {
    const scan = '/api/dev/simulator/accounts/acc1/scan';
    expect(
      validator.check({
        method: 'POST',
        url: scan,
        status: 400,
        contentType: 'application/problem+json',
        responseBody: JSON.stringify({
          type: 'about:blank',
          title: 'Validation failed',
          status: 400,
          code: 'VALIDATION_FAILED',
          detail: "Body cannot be empty when content-type is set to 'application/json'",
        }),
      })[0],
    ).toMatch(/simulateScan\): refused a request without a body/);
    expect(
      validator.check({
        method: 'POST',
        url: scan,
        requestBody: '{}',
        status: 202,
        contentType: json,
        responseBody: JSON.stringify({ accountId: 'acc1', status: 'scanned' }),
      })[0],
    ).toMatch(/accepted a body the operation does not declare/);
  });

  it('when a body the document refuses is accepted, then it is a problem; refused, it is not', () => {
    const exchange = {
      method: 'POST',
      url: '/api/whatsapp/add-account',
      requestBody: JSON.stringify({ name: 'x', phone: 12 }),
      contentType: json,
    };
    expect(
      validator.check({
        ...exchange,
        status: 201,
        responseBody: JSON.stringify({ accountId: 'a', status: 'connecting', commandJobId: '1' }),
      })[0],
    ).toMatch(/addAccount\): accepted a body the document refuses: \/phone must be string/);
    expect(
      validator.check({
        ...exchange,
        status: 400,
        contentType: 'application/problem+json',
        responseBody: JSON.stringify({
          type: 'about:blank',
          title: 'Validation failed',
          status: 400,
          code: 'VALIDATION_FAILED',
        }),
      }),
    ).toEqual([]);
  });

  it('when a streamed frame carries an undocumented field or event name, then it is a problem; documented frames are not', () => {
    const created = {
      type: 'message.created',
      accountId: 'acc1',
      threadId: 't1',
      messageIds: ['M1'],
      at: '2026-12-07T08:00:00.000Z',
    };
    const ok = [
      { id: '1700000000000-0', event: 'message.created', data: JSON.stringify(created) },
      { event: 'resync', data: JSON.stringify({ reason: 'gap', oldestId: '1-0' }) },
      { event: 'end', data: JSON.stringify({ reason: 'revoked' }) },
    ];
    expect(validator.checkEvents('GET', '/api/stream?accountId=acc1', ok)).toEqual([]);
    const planted = validator.checkEvents('GET', '/api/stream', [
      { id: '1-0', event: 'message.created', data: JSON.stringify({ ...created, text: 'x' }) },
    ]);
    expect(planted).toHaveLength(1);
    expect(planted[0]).toMatch(/message\.created frame does not match the document/);
    expect(
      validator.checkEvents('GET', '/api/stream', [
        { id: '1-0', event: 'message.deleted', data: JSON.stringify(created) },
      ]),
    ).toHaveLength(1);
  });

  it('when a path is not in the document, then only /api/ answers other than 404 are problems', () => {
    const answer = { method: 'GET', status: 200, contentType: 'text/html', responseBody: '<p>' };
    expect(validator.check({ ...answer, url: '/docs' })).toEqual([]);
    expect(validator.check({ ...answer, url: '/api/nowhere', status: 404 })).toEqual([]);
    expect(validator.check({ ...answer, url: '/api/nowhere' })[0]).toMatch(/no such operation/);
  });

  it('when a listening server answers a call with an undocumented field, then the validating fetch the whole-system tests use fails the call; a documented answer passes intact', async () => {
    let answer: unknown = me;
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': json }).end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const call = validatingFetch(validator);
      const documented = await call(`${base}/api/me`, { headers: { authorization: 'Bearer t' } });
      expect(await documented.json()).toEqual(me);

      answer = { ...me, passwordHash: 'x' };
      await expect(call(`${base}/api/me`)).rejects.toThrow(
        /GET \/api\/me → 200 \(getMe\): the body does not match the document: .*additional properties \(passwordHash\)/,
      );
      // Its own class: the chaos tests retry through refused connections, never through this.
      await expect(call(`${base}/api/me`)).rejects.toBeInstanceOf(OpenApiTrafficMismatch);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
