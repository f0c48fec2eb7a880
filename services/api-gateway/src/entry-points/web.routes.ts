import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WebConfigResponse } from '@wacrm/contracts';
import { sendProblem } from './problem.js';
import { errorResponses } from './error-responses.js';
import { documentedRoutes } from './documented.js';

/** One built file of the web client, held in memory (the whole build is a few hundred KB). */
interface WebFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
  /** Vite's content-hashed files under /assets/ never change; everything else is revalidated. */
  immutable: boolean;
}

export interface WebAssets {
  files: ReadonlyMap<string, WebFile>;
  index: WebFile;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.txt']);

/** Paths the SPA never answers: the API, the operator pages and missing assets keep their 404s. */
const RESERVED = ['/api', '/docs', '/admin', '/metrics', '/health', '/openapi.json', '/assets'];

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]),
    ),
  );
  return nested.flat();
}

/**
 * Reads the built web client (services/web/dist) once at start. Undefined when it has not been
 * built, so the API still runs (and says so in the log).
 */
export async function loadWebAssets(root: string): Promise<WebAssets | undefined> {
  let paths: string[];
  try {
    paths = await walk(root);
  } catch {
    return undefined;
  }
  const files = new Map<string, WebFile>();
  for (const path of paths) {
    const ext = extname(path).toLowerCase();
    const type = TYPES[ext];
    if (type === undefined) continue;
    const url = `/${relative(root, path).split(sep).join('/')}`;
    const body = await readFile(path);
    const gzip = COMPRESSIBLE.has(ext) && body.length > 1024 ? gzipSync(body) : undefined;
    files.set(url, {
      body,
      gzip,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      immutable: url.startsWith('/assets/'),
    });
  }
  const index = files.get('/index.html');
  return index !== undefined ? { files, index } : undefined;
}

function send(request: FastifyRequest, reply: FastifyReply, file: WebFile): FastifyReply {
  reply
    .header('content-type', file.type)
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('etag', file.etag);
  // Keep what CORS may already vary on (Origin).
  const vary = reply.getHeader('vary');
  reply.header('vary', vary !== undefined ? `${String(vary)}, accept-encoding` : 'accept-encoding');
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  const accepts = request.headers['accept-encoding'];
  if (file.gzip !== undefined && typeof accepts === 'string' && /\bgzip\b/.test(accepts)) {
    return reply.header('content-encoding', 'gzip').send(file.gzip);
  }
  return reply.send(file.body);
}

function pathOf(url: string): string | undefined {
  try {
    return decodeURIComponent(url.split('?')[0]!);
  } catch {
    return undefined;
  }
}

/**
 * The web client at `/`: built files by exact path (no file system lookups per request, so no
 * traversal), and index.html for any other page a browser navigates to (SPA routes). API paths
 * and non-HTML requests for unknown paths keep the problem+json 404.
 */
export function webRoutes(assets: WebAssets) {
  return (app: FastifyInstance): Promise<void> => {
    const handler = (request: FastifyRequest, reply: FastifyReply) => {
      const path = pathOf(request.url);
      const file = path !== undefined ? assets.files.get(path) : undefined;
      if (file !== undefined) return send(request, reply, file);
      const accept = request.headers.accept ?? '';
      // Client routes may hold dots (thread ids end in @s.whatsapp.net), so no extension test.
      const isPage =
        path !== undefined &&
        (path === '/' ||
          (accept.includes('text/html') &&
            !RESERVED.some((p) => path === p || path.startsWith(`${p}/`))));
      if (isPage) return send(request, reply, assets.index);
      return sendProblem(
        reply,
        request,
        'NOT_FOUND',
        `no route ${request.method} ${request.url.split('?')[0]}`,
      );
    };
    const options = { config: { public: true }, schema: { hide: true } };
    app.get('/', options, handler);
    app.get('/*', options, handler);
    return Promise.resolve();
  };
}

export type WebConfig = WebConfigResponse;

/** `GET /api/web-config`: how the web client may sign in (public, nothing secret). */
export function webConfigRoutes(config: WebConfig) {
  return (root: FastifyInstance): Promise<void> => {
    const app = documentedRoutes(root);
    app.get(
      '/api/web-config',
      {
        config: { public: true },
        schema: {
          tags: ['auth'],
          operationId: 'getWebConfig',
          description:
            'What the web client needs to sign in (the Firebase web configuration, when one is set). Public.',
          summary: 'How the web client signs in (public)',
          security: [],
          response: { 200: WebConfigResponse, 429: errorResponses[429] },
        },
      },
      (_request, reply) => {
        reply.header('cache-control', 'no-cache');
        return Promise.resolve(config);
      },
    );
    return Promise.resolve();
  };
}
