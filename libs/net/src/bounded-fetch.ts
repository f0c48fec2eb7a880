import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/**
 * Which internal hosts a server-side fetch may reach. Everything else that is not a public
 * unicast address — loopback, private, link-local (the cloud metadata service), unique-local,
 * carrier-grade NAT, unspecified, IPv4-mapped — is refused when the socket connects, on every hop.
 */
export interface OutboundPolicy {
  /** Trusted internal hosts: IP addresses or CIDR ranges (checked on the address connected to) and host names. */
  readonly allow: readonly string[];
}

export const PUBLIC_ONLY: OutboundPolicy = { allow: [] };

/** The address is not one this process may reach: permanent, retrying changes nothing. */
export class OutboundRefusedError extends Error {
  constructor(url: string, reason: string) {
    super(`refused to fetch ${safeUrl(url)}: ${reason}`);
    this.name = 'OutboundRefusedError';
  }
}

/** The fetch ran and failed (status, size, time); `permanent` when a retry cannot help. */
export class OutboundFetchError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'OutboundFetchError';
  }
}

export interface BoundedFetchOptions {
  policy: OutboundPolicy;
  /** The body is cut off, and the fetch failed, past this many bytes. */
  maxBytes: number;
  /** For the whole fetch, redirects included. */
  timeoutMs: number;
  /** 0 refuses any redirect (webhooks); media follows a few, each hop checked again. */
  maxRedirects: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The resolver (the system's by default); whatever it answers is checked before connecting. */
  lookup?: LookupFunction;
}

export interface BoundedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Where the body came from after redirects. */
  url: string;
}

/** The validator of the allow list: throws at start on an entry that is neither a host, an IP nor a CIDR. */
export function parseOutboundPolicy(entries: readonly string[]): OutboundPolicy {
  const allow = entries.map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== '');
  for (const entry of allow) {
    if (isIP(entry) !== 0) continue;
    if (entry.includes('/')) {
      ipaddr.parseCIDR(entry);
      continue;
    }
    if (!/^[a-z0-9.-]{1,253}$/.test(entry)) throw new Error(`not a host, IP or CIDR: ${entry}`);
  }
  return { allow };
}

const agents = new WeakMap<OutboundPolicy, { http: http.Agent; https: https.Agent }>();

function agentsFor(policy: OutboundPolicy): { http: http.Agent; https: https.Agent } {
  let pair = agents.get(policy);
  if (pair === undefined) {
    const options = {
      allowPrivateIPAddress: false,
      allowMetaIPAddress: false,
      allowIPAddressList: policy.allow.filter((entry) => isIP(entry) !== 0 || entry.includes('/')),
      denyIPAddressList: [],
    };
    pair = {
      http: new RequestFilteringHttpAgent(options),
      https: new RequestFilteringHttpsAgent(options),
    };
    agents.set(policy, pair);
  }
  return pair;
}

function hostNameOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/** Query strings can carry tokens: messages name the origin and path only. */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * A server-side HTTP fetch of a URL a caller chose: only http(s), only public addresses unless
 * the policy trusts the host, every redirect hop checked the same way, the body capped at
 * `maxBytes` and the whole exchange at `timeoutMs`.
 */
export async function boundedFetch(
  url: string,
  options: BoundedFetchOptions,
): Promise<BoundedResponse> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  let current = url;
  for (let hop = 0; ; hop += 1) {
    const response = await fetchOnce(current, options, deadline);
    const location = response.headers.location;
    if (response.status >= 300 && response.status < 400 && location !== undefined) {
      if (hop >= options.maxRedirects) {
        throw new OutboundFetchError(
          `${safeUrl(current)} redirects (HTTP ${response.status}); redirects are not followed here`,
          true,
          response.status,
        );
      }
      current = new URL(location, current).toString();
      continue;
    }
    return { ...response, url: current };
  }
}

function fetchOnce(
  url: string,
  options: BoundedFetchOptions,
  deadline: AbortSignal,
): Promise<Omit<BoundedResponse, 'url'>> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(new OutboundRefusedError(url, 'not a URL'));
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return Promise.reject(
      new OutboundRefusedError(url, `scheme ${parsed.protocol} is not http(s)`),
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return Promise.reject(new OutboundRefusedError(url, 'credentials in the URL'));
  }
  const trustedName = options.policy.allow.includes(hostNameOf(parsed));
  const pair = agentsFor(options.policy);
  const client = parsed.protocol === 'https:' ? https : http;
  const agent = trustedName ? undefined : parsed.protocol === 'https:' ? pair.https : pair.http;
  return new Promise((resolve, reject) => {
    if (deadline.aborted) {
      reject(new OutboundFetchError(`${safeUrl(url)} timed out`, false));
      return;
    }
    const request = client.request(
      parsed,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        signal: deadline,
        ...(options.lookup !== undefined ? { lookup: options.lookup } : {}),
        ...(agent !== undefined ? { agent } : { agent: false }),
      },
      (response) => {
        const declared = Number(response.headers['content-length']);
        if (Number.isFinite(declared) && declared > options.maxBytes) {
          response.destroy();
          reject(tooLarge(url, options.maxBytes));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            response.destroy();
            reject(tooLarge(url, options.maxBytes));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', (error) => reject(failure(url, error, deadline)));
      },
    );
    request.on('error', (error) => reject(failure(url, error, deadline)));
    request.end(options.body);
  });
}

function tooLarge(url: string, maxBytes: number): OutboundFetchError {
  return new OutboundFetchError(`${safeUrl(url)} is larger than ${maxBytes} bytes`, true);
}

function failure(url: string, error: Error, deadline: AbortSignal): Error {
  if (deadline.aborted) return new OutboundFetchError(`${safeUrl(url)} timed out`, false);
  // request-filtering-agent's refusal, raised when the socket resolves or connects.
  if (/is not allowed\. Because/.test(error.message)) {
    return new OutboundRefusedError(url, 'it resolves to an internal address');
  }
  return new OutboundFetchError(`${safeUrl(url)}: ${error.message}`, false);
}
