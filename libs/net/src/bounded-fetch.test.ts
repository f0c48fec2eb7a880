import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  boundedFetch,
  OutboundFetchError,
  OutboundRefusedError,
  parseOutboundPolicy,
  PUBLIC_ONLY,
  type BoundedFetchOptions,
} from './bounded-fetch.js';

/**
 * Every target here is on loopback: the refusals are proven against addresses that exist and
 * answer (a request that got through would be counted), never by sending traffic elsewhere.
 */
type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let port: number;
const hits: string[] = [];
let handler: Handler = (_req, res) => res.end('ok');

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const base = (over: Partial<BoundedFetchOptions> = {}): BoundedFetchOptions => ({
  policy: PUBLIC_ONLY,
  maxBytes: 1024,
  timeoutMs: 2000,
  maxRedirects: 3,
  ...over,
});

async function refusal(url: string, options = base()): Promise<unknown> {
  return boundedFetch(url, options).then(
    () => new Error(`fetched ${url}`),
    (error: unknown) => error,
  );
}

describe('boundedFetch', () => {
  it.each([
    ['loopback IPv4', () => `http://127.0.0.1:${port}/a`],
    ['another loopback address', () => `http://127.0.0.2:${port}/a`],
    ['localhost by name', () => `http://localhost:${port}/a`],
    ['the unspecified address', () => `http://0.0.0.0:${port}/a`],
    ['IPv4-mapped IPv6 loopback', () => `http://[::ffff:127.0.0.1]:${port}/a`],
  ])(
    'when the URL points at %s, then nothing is requested and the fetch is refused',
    async (_l, url) => {
      hits.length = 0;
      expect(await refusal(url())).toBeInstanceOf(OutboundRefusedError);
      expect(hits).toEqual([]);
    },
  );

  it('when a public-looking name resolves to loopback (DNS rebinding), then the connection is refused', async () => {
    hits.length = 0;
    const toLoopback: LookupFunction = (_host, options, callback) => {
      if (options.all === true) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    };
    const url = `http://media.example.com:${port}/a`;
    expect(await refusal(url, base({ lookup: toLoopback }))).toBeInstanceOf(OutboundRefusedError);
    expect(hits).toEqual([]);
    // The same resolver, with the address trusted: the request goes through, so the check above
    // is what stopped it.
    handler = (_req, res) => res.end('ok');
    const res = await boundedFetch(
      url,
      base({ lookup: toLoopback, policy: parseOutboundPolicy(['127.0.0.1']) }),
    );
    expect(res.body.toString()).toBe('ok');
    expect(hits).toEqual(['/a']);
  });

  it('when the scheme is not http(s) or the URL carries credentials, then it is refused', async () => {
    expect(await refusal('file:///etc/passwd')).toBeInstanceOf(OutboundRefusedError);
    expect(await refusal(`http://user:secret@127.0.0.1:${port}/a`)).toBeInstanceOf(
      OutboundRefusedError,
    );
  });

  it('when the allow list trusts the address, a CIDR or the name, then the body is fetched', async () => {
    handler = (_req, res) => res.end('bytes');
    for (const allow of [['127.0.0.1'], ['127.0.0.0/8'], ['localhost']]) {
      const host = allow[0] === 'localhost' ? 'localhost' : '127.0.0.1';
      const res = await boundedFetch(
        `http://${host}:${port}/ok`,
        base({ policy: parseOutboundPolicy(allow) }),
      );
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('bytes');
    }
  });

  it('when a trusted host redirects to an internal one, then the hop is checked and refused', async () => {
    hits.length = 0;
    handler = (req, res) => {
      if (req.url === '/hop') res.writeHead(302, { location: `http://127.0.0.1:${port}/inside` });
      res.end();
    };
    const error = await refusal(
      `http://localhost:${port}/hop`,
      base({ policy: parseOutboundPolicy(['localhost']) }),
    );
    expect(error).toBeInstanceOf(OutboundRefusedError);
    expect(hits).toEqual(['/hop']);
  });

  it('when redirects are not allowed, then a redirect fails permanently', async () => {
    handler = (_req, res) => res.writeHead(301, { location: '/elsewhere' }).end();
    const error = await refusal(
      `http://127.0.0.1:${port}/r`,
      base({ policy: parseOutboundPolicy(['127.0.0.1']), maxRedirects: 0 }),
    );
    expect(error).toBeInstanceOf(OutboundFetchError);
    expect((error as OutboundFetchError).permanent).toBe(true);
  });

  it('when the body is larger than the cap, declared or streamed, then the fetch fails permanently', async () => {
    const policy = parseOutboundPolicy(['127.0.0.1']);
    handler = (_req, res) => res.writeHead(200, { 'content-length': 5000 }).end('x'.repeat(5000));
    const declared = await refusal(`http://127.0.0.1:${port}/big`, base({ policy }));
    expect((declared as OutboundFetchError).permanent).toBe(true);
    handler = (_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 10; i += 1) res.write('y'.repeat(500));
      res.end();
    };
    const streamed = await refusal(`http://127.0.0.1:${port}/chunked`, base({ policy }));
    expect(streamed).toBeInstanceOf(OutboundFetchError);
    expect((streamed as Error).message).toContain('larger than 1024 bytes');
  });

  it('when the server never answers, then the fetch times out as a retryable failure', async () => {
    handler = () => undefined;
    const started = Date.now();
    const error = await refusal(
      `http://127.0.0.1:${port}/silent`,
      base({ policy: parseOutboundPolicy(['127.0.0.1']), timeoutMs: 300 }),
    );
    expect(error).toBeInstanceOf(OutboundFetchError);
    expect((error as OutboundFetchError).permanent).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('when an allow-list entry is neither a host, an IP nor a CIDR, then the policy is rejected', () => {
    expect(() => parseOutboundPolicy(['10.0.0.0/99'])).toThrow();
    expect(() => parseOutboundPolicy(['http://x'])).toThrow();
    expect(() => parseOutboundPolicy(['media host'])).toThrow(/not a host/);
  });
});
