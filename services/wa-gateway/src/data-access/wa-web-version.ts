import type { Redis } from 'ioredis';
import type { Logger } from '@wacrm/observability';
import { boundedFetch, parseOutboundPolicy, type OutboundPolicy } from '@wacrm/net';

/** A WhatsApp Web version as Baileys takes it: `[2, 3000, revision]`. */
export type WaWebVersion = [number, number, number];

export interface WaWebVersionOptions {
  /** `WHATSAPP_WEB_VERSION`: used as is, never fetched. */
  override?: string;
  /** `WHATSAPP_WEB_VERSION_URL`: web.whatsapp.com's service worker, which names `client_revision`. */
  url: string;
  policy: OutboundPolicy;
  redis: Redis;
  /** The queue prefix: the last version fetched is kept at `<prefix>:wa:web-version`. */
  prefix: string;
  logger: Logger;
  /** Default 5 s. */
  timeoutMs?: number;
}

/** The service worker is a few hundred KB; more is not the page we expect. */
const MAX_BYTES = 4 * 1024 * 1024;
/** `"client_revision":1023456789`, possibly with escaped quotes, as Baileys' own helper reads it. */
const CLIENT_REVISION = /\\?"client_revision\\?":\s*(\d{1,12})/;

/**
 * The policy the version is fetched under: `OUTBOUND_ALLOW_HOSTS`, and the host of
 * `WHATSAPP_WEB_VERSION_URL` itself — the operator named it (on `npm start`, the WhatsApp network
 * emulator on loopback), so it is reached even when private; nothing a caller supplies is.
 */
export function versionFetchPolicy(url: string, allowHosts: readonly string[]): OutboundPolicy {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return parseOutboundPolicy(allowHosts.includes(host) ? allowHosts : [...allowHosts, host]);
}

/** `2.3000.1023456789` → `[2, 3000, 1023456789]`; undefined for anything else. */
export function parseWaWebVersion(text: string | undefined | null): WaWebVersion | undefined {
  const parts = /^(\d{1,4})\.(\d{1,6})\.(\d{1,12})$/.exec(text ?? '');
  return parts ? [Number(parts[1]), Number(parts[2]), Number(parts[3])] : undefined;
}

export function formatWaWebVersion(version: WaWebVersion | undefined): string {
  return version ? version.join('.') : "Baileys' bundled version";
}

/**
 * Which WhatsApp Web version sockets announce: the override, else the current one read from
 * WhatsApp (bounded fetch, timeout), else the last one read (Redis, shared by every instance),
 * else undefined — Baileys' bundled version, which WhatsApp refuses with 405 once it is outdated.
 */
export class WaWebVersionSource {
  private known: WaWebVersion | undefined;
  private readonly override: WaWebVersion | undefined;

  constructor(private readonly options: WaWebVersionOptions) {
    this.override = parseWaWebVersion(options.override);
    this.known = this.override;
  }

  /** The version for the next socket (no I/O). */
  get current(): WaWebVersion | undefined {
    return this.known;
  }

  /** Reads the current version: at start, and after WhatsApp refused ours (405). */
  async refresh(): Promise<WaWebVersion | undefined> {
    if (this.override) return this.override;
    const fetched = await this.fetchCurrent();
    if (fetched) {
      this.known = fetched;
      await this.options.redis
        .set(
          this.cacheKey,
          JSON.stringify({ version: fetched, fetchedAt: new Date().toISOString() }),
        )
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'could not cache the WhatsApp Web version'),
        );
      return fetched;
    }
    const cached = await this.cached();
    if (cached) this.known = cached;
    return this.known;
  }

  private get cacheKey(): string {
    return `${this.options.prefix}:wa:web-version`;
  }

  private async cached(): Promise<WaWebVersion | undefined> {
    try {
      const text = await this.options.redis.get(this.cacheKey);
      if (text === null) return undefined;
      const { version } = JSON.parse(text) as { version?: unknown };
      return Array.isArray(version) ? parseWaWebVersion(version.join('.')) : undefined;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not read the cached WhatsApp Web version');
      return undefined;
    }
  }

  private async fetchCurrent(): Promise<WaWebVersion | undefined> {
    try {
      const response = await boundedFetch(this.options.url, {
        policy: this.options.policy,
        maxBytes: MAX_BYTES,
        timeoutMs: this.options.timeoutMs ?? 5_000,
        maxRedirects: 2,
      });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      const revision = CLIENT_REVISION.exec(response.body.toString('utf8'))?.[1];
      if (revision === undefined) throw new Error('no client_revision in the page');
      const version: WaWebVersion = [2, 3000, Number(revision)];
      this.options.logger.info({ version: version.join('.') }, 'current WhatsApp Web version');
      return version;
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        'could not read the current WhatsApp Web version; using the last one known',
      );
      return undefined;
    }
  }
}
