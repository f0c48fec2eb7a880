import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '@wacrm/observability';
import { sha256 } from './media-crypto.js';
import type { MediaTlsIdentity } from './media-tls.js';

/** What WhatsApp's CDN path for an encrypted file looks like here: `/v/t62.7118-24/<32 hex>.enc`. */
const FILE_PATH = /^\/v\/t62\.7118-24\/([0-9a-f]{32})\.enc$/;
/** Baileys uploads to `<MEDIA_PATH_MAP[type]>/<fileEncSha256 base64url>?auth=…&token=…`. */
const UPLOAD_PATH = /^\/mms\/(image|video|audio|document|md-app-state)\/([\w-]{43})$/;

export interface MediaServerOptions {
  logger: Logger;
  tls: MediaTlsIdentity;
  /** Encrypted files are kept here (`media/`) so queued messages survive a restart. */
  dataDir: string | undefined;
  /** Largest encrypted file accepted or stored. */
  maxFileBytes: number;
  /** Largest total of encrypted files kept; the oldest go first. */
  maxTotalBytes: number;
  /** The `auth` a client must present on upload (the media_conn answer's). */
  uploadAuth: string;
}

/**
 * The emulator's media CDN on loopback, over TLS like WhatsApp's: serves encrypted files by path
 * to any host name (Baileys downloads history from mmg.whatsapp.net, media from the url host) and
 * takes Baileys' uploads, checking that the body hashes to the token it was uploaded under.
 */
export class MediaServer {
  private readonly server: Server;
  private readonly files = new Map<string, Buffer>();
  /** Files the CDN no longer serves (410), as WhatsApp drops media after some weeks. */
  private readonly expired = new Set<string>();
  private totalBytes = 0;
  private port = 0;

  private constructor(private readonly options: MediaServerOptions) {
    this.server = createServer(
      { key: options.tls.keyPem, cert: options.tls.certPem },
      (req, res) => {
        this.handle(req, res).catch((error: unknown) => {
          options.logger.warn({ err: error }, 'media request failed');
          if (!res.headersSent) res.writeHead(500).end();
          else res.destroy();
        });
      },
    );
  }

  static async start(options: MediaServerOptions, port = 0): Promise<MediaServer> {
    if (options.dataDir !== undefined)
      await mkdir(join(options.dataDir, 'media'), { recursive: true });
    const media = new MediaServer(options);
    await new Promise<void>((resolve, reject) => {
      media.server.once('error', reject);
      media.server.listen(port, '127.0.0.1', () => resolve());
    });
    media.port = (media.server.address() as AddressInfo).port;
    return media;
  }

  /** `127.0.0.1:<port>`: the media_conn host and the host of every media url. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get certPem(): string {
    return this.options.tls.certPem;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Stores an encrypted file and returns its direct path and full url. */
  async put(file: Buffer): Promise<{ directPath: string; url: string }> {
    if (file.length > this.options.maxFileBytes)
      throw new Error('media file larger than the limit');
    const id = randomBytes(16).toString('hex');
    const directPath = `/v/t62.7118-24/${id}.enc`;
    this.remember(id, file);
    if (this.options.dataDir !== undefined) {
      await writeFile(join(this.options.dataDir, 'media', `${id}.enc`), file, { mode: 0o600 });
    }
    return { directPath, url: `https://${this.host}${directPath}` };
  }

  /** The encrypted file at a direct path or url (query ignored), from memory or disk. */
  async get(pathOrUrl: string): Promise<Buffer | undefined> {
    const id = fileId(pathOrUrl);
    if (id === undefined || this.expired.has(id)) return undefined;
    return this.load(id);
  }

  /** The CDN stops serving this file (410 Gone); a phone that kept it can upload it again. */
  async expire(pathOrUrl: string): Promise<boolean> {
    const id = fileId(pathOrUrl);
    if (id === undefined || (await this.load(id)) === undefined) return false;
    this.expired.add(id);
    return true;
  }

  /** A phone uploads its copy of an expired file again: the same bytes under a new direct path. */
  async reupload(pathOrUrl: string): Promise<{ directPath: string; url: string } | undefined> {
    const id = fileId(pathOrUrl);
    const file = id === undefined ? undefined : await this.load(id);
    return file === undefined ? undefined : this.put(file);
  }

  private async load(id: string): Promise<Buffer | undefined> {
    const cached = this.files.get(id);
    if (cached) return cached;
    if (this.options.dataDir === undefined) return undefined;
    try {
      const file = await readFile(join(this.options.dataDir, 'media', `${id}.enc`));
      this.remember(id, file);
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private remember(id: string, file: Buffer): void {
    this.files.set(id, file);
    this.totalBytes += file.length;
    while (this.totalBytes > this.options.maxTotalBytes && this.files.size > 1) {
      const [oldest, bytes] = this.files.entries().next().value!;
      this.files.delete(oldest);
      this.totalBytes -= bytes.length;
      if (this.options.dataDir !== undefined) {
        void rm(join(this.options.dataDir, 'media', `${oldest}.enc`), { force: true });
      }
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    if (req.method === 'GET') {
      const id = fileId(url.pathname);
      if (id !== undefined && this.expired.has(id)) {
        res.writeHead(410).end();
        return;
      }
      const file = await this.get(url.pathname);
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(file.length),
      });
      res.end(file);
      return;
    }
    const upload = UPLOAD_PATH.exec(url.pathname);
    if (req.method !== 'POST' || !upload) {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('auth') !== this.options.uploadAuth) {
      sendJson(res, 401, { error: 'bad auth' });
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.options.maxFileBytes) {
      sendJson(res, 413, { error: 'too large' });
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.options.maxFileBytes) {
        sendJson(res, 413, { error: 'too large' });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    }
    const file = Buffer.concat(chunks);
    // The token is the file's encrypted hash: an upload that does not match it is corrupt.
    if (sha256(file).toString('base64url') !== upload[2]) {
      sendJson(res, 400, { error: 'hash mismatch' });
      return;
    }
    const stored = await this.put(file);
    sendJson(res, 200, { url: stored.url, direct_path: stored.directPath });
  }
}

/** The file id of a direct path or url (query ignored). */
function fileId(pathOrUrl: string): string | undefined {
  try {
    return FILE_PATH.exec(new URL(pathOrUrl, 'https://mmg.whatsapp.net').pathname)?.[1];
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
