import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, useGateway, type TestGateway, validateTraffic } from '../test/gateway.fixture.js';

// Issue 21: routes take exactly the bodies they declare, and the traffic the tests exchange is
// checked against the OpenAPI document (validateTraffic), down to an undocumented response field.
let gw: TestGateway;
/** Set by a test: a field added to the next JSON answers, before the document check sees them. */
let planted: Record<string, unknown> | undefined;

beforeAll(async () => {
  gw = await useGateway();
  // Below the validator: what the test client receives is what the gateway answered, plus the
  // planted field when a test sets one.
  const inject = gw.app.inject.bind(gw.app);
  gw.app.inject = (async (opts: InjectOptions) => {
    const response = await inject(opts);
    if (planted !== undefined) {
      response.body = JSON.stringify({ ...response.json<Record<string, unknown>>(), ...planted });
    }
    return response;
  }) as typeof gw.app.inject;
  validateTraffic(gw);
}, 120_000);

afterAll(async () => {
  await gw?.dispose();
});

async function newKey(): Promise<{ id: string; key: string }> {
  const created = await gw.app.inject({
    method: 'POST',
    url: '/api/admin/api-keys',
    headers: admin,
    payload: { name: 'bodies', scopes: ['read'] },
  });
  expect(created.statusCode, created.body).toBe(201);
  return created.json<{ id: string; key: string }>();
}

const me = (key: string) =>
  gw.app.inject({ method: 'GET', url: '/api/me', headers: { 'x-api-key': key } });

describe('request bodies exactly as the document declares them', () => {
  it('when a body is sent to an operation that declares none, then 400 problem+json and the operation does not run', async () => {
    const { id, key } = await newKey();
    for (const payload of ['{}', '{"reason":"x"}']) {
      const refused = await gw.app.inject({
        method: 'POST',
        url: `/api/admin/api-keys/${id}/revoke`,
        headers: { ...admin, 'content-type': 'application/json' },
        payload,
      });
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(refused.json<{ code: string; detail: string }>()).toMatchObject({
        code: 'VALIDATION_FAILED',
        detail: expect.stringMatching(/takes no request body/) as unknown,
      });
    }
    // Not revoked by the refused calls; revoked by one without a body (Content-Type or not).
    expect((await me(key)).statusCode).toBe(200);
    const revoked = await gw.app.inject({
      method: 'POST',
      url: `/api/admin/api-keys/${id}/revoke`,
      headers: { ...admin, 'content-type': 'application/json' },
    });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect((await me(key)).statusCode).toBe(401);
  });

  it('when a GET carries a body, then 400; the same GET without one answers', async () => {
    const refused = await gw.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { ...admin, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(
      (await gw.app.inject({ method: 'GET', url: '/api/me', headers: admin })).statusCode,
    ).toBe(200);
  });
});

describe('responses exactly as the document declares them', () => {
  it('when an answer carries a field the document does not declare, then the exchange fails the test, naming the field', async () => {
    planted = { passwordHash: 'planted' };
    try {
      await expect(
        gw.app.inject({ method: 'GET', url: '/api/me', headers: admin }),
      ).rejects.toThrow(
        '(getMe): the body does not match the document: / must NOT have additional properties (passwordHash)',
      );
    } finally {
      planted = undefined;
    }
    expect(
      (await gw.app.inject({ method: 'GET', url: '/api/me', headers: admin })).statusCode,
    ).toBe(200);
  });
});
