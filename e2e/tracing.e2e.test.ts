import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@wacrm/emulators';
import { eventually, startLauncher, type LauncherProcess } from './launcher-process.js';
import {
  connectedAccount,
  contactWrites,
  ok,
  sseFrames,
  systemApi,
  type SystemApi,
} from './system-api.js';

// Every process of the system exports its spans over OTLP/HTTP to a receiver in this test; one
// send and one inbound message must each be one trace across the services, with a complete tree.

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

/** A received span, flattened: its service and attributes as plain values. */
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  service: string;
  attributes: Record<string, string | number | boolean>;
}

function plain(value: OtlpValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.boolValue !== undefined) return value.boolValue;
  return value.doubleValue ?? '';
}

/** Hex ids in OTLP/JSON; base64 if an exporter ever sends protobuf-style JSON ids. */
function hexId(id: string | undefined): string | undefined {
  if (id === undefined || id === '') return undefined;
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

class OtlpReceiver {
  readonly spans: Span[] = [];
  readonly rejected: string[] = [];
  private server: Server | undefined;

  async start(port: number): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        (status) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end('{}');
        },
        () => {
          res.writeHead(400);
          res.end();
        },
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${port}`;
  }

  private async handle(req: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/traces') return 404;
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/json')) {
      // The services' exporter speaks OTLP/JSON; protobuf would mean a configuration change.
      this.rejected.push(type);
      return 415;
    }
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const request = JSON.parse(body.toString('utf8')) as OtlpRequest;
    for (const rs of request.resourceSpans ?? []) {
      const resource = Object.fromEntries(
        (rs.resource?.attributes ?? []).map((a) => [a.key, plain(a.value)]),
      );
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: hexId(s.traceId)!,
            spanId: hexId(s.spanId)!,
            parentSpanId: hexId(s.parentSpanId),
            name: s.name,
            service: String(resource['service.name']),
            attributes: Object.fromEntries(
              (s.attributes ?? []).map((a) => [a.key, plain(a.value)]),
            ),
          });
        }
      }
    }
    return 200;
  }

  trace(traceId: string): Span[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** The spans from `span` up to its trace's root, following parent ids. */
function ancestry(span: Span, trace: Span[]): Span[] {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  const chain = [span];
  let current = span;
  while (current.parentSpanId !== undefined) {
    const parent = byId.get(current.parentSpanId);
    if (parent === undefined) break;
    chain.push(parent);
    current = parent;
  }
  return chain;
}

/**
 * Whether every parent a span names has arrived. Each process exports in its own batches, so a
 * child (the api-gateway's relay) can reach the receiver before its parent (ingest's publish).
 */
function complete(trace: Span[]): boolean {
  const ids = new Set(trace.map((s) => s.spanId));
  return trace.every((s) => s.parentSpanId === undefined || ids.has(s.parentSpanId));
}

/** Asserts one tree: exactly one root, and every other span's parent is in the trace. */
function expectOneTree(trace: Span[], rootName: string): Span {
  const ids = new Set(trace.map((s) => s.spanId));
  const roots = trace.filter((s) => s.parentSpanId === undefined);
  expect(roots.map((r) => `${r.service}:${r.name}`)).toEqual([expect.stringContaining(rootName)]);
  const orphans = trace.filter((s) => s.parentSpanId !== undefined && !ids.has(s.parentSpanId));
  expect(orphans.map((o) => `${o.service}:${o.name}`)).toEqual([]);
  return roots[0]!;
}

/** Renders a trace as an indented tree, for failure messages. */
function render(trace: Span[]): string {
  const children = new Map<string | undefined, Span[]>();
  for (const s of trace) children.set(s.parentSpanId, [...(children.get(s.parentSpanId) ?? []), s]);
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      lines.push(`${'  '.repeat(depth)}${s.service}: ${s.name}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join('\n');
}

const CLIENT = '+40722333555';
const INBOUND_TEXT = 'Bună, aveți liber pe 3 martie pentru Spiderman?';
const OUTBOUND_TEXT = 'Da, 3 martie e liber.';
const INBOUND_ID = 'TRACEINBOUND0001';

const receiver = new OtlpReceiver();
let dataDir: string;
let launcher: LauncherProcess;
let api: SystemApi;
let accountId: string;
const sse = { text: '', controller: new AbortController() };

beforeAll(async () => {
  const endpoint = await receiver.start(await freePort());
  dataDir = await mkdtemp(join(tmpdir(), 'wacrm-tracing-'));
  launcher = startLauncher({
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    FIREBASE_PROJECT_ID: 'demo-tracing',
    REDIS_URL: '',
    FIRESTORE_EMULATOR_HOST: '',
    ADMIN_TOKEN: '',
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    // The SDK's batch processor reads this: spans reach the receiver within moments.
    OTEL_BSP_SCHEDULE_DELAY: '200',
  });
  const base = await launcher.ready;
  api = await systemApi(base, (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim());
});

afterAll(async () => {
  sse.controller.abort();
  await launcher?.interrupt();
  await receiver.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Opens the SSE stream and keeps appending what arrives to `sse.text`. */
async function openStream(): Promise<void> {
  const { response } = await api.GET('/api/stream', {
    params: { query: { accountId } },
    parseAs: 'stream',
    signal: sse.controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      sse.text += decoder.decode(value, { stream: true });
    }
  })();
  await eventually('the SSE stream to open', () =>
    sse.text.includes('retry:') ? true : undefined,
  );
}

const noSecretsIn = (trace: Span[]) => {
  const values = JSON.stringify(trace.map((s) => s.attributes));
  expect(values).not.toContain(CLIENT.slice(1));
  expect(values).not.toContain(INBOUND_TEXT);
  expect(values).not.toContain(OUTBOUND_TEXT);
};

describe('traces across the whole system (OTLP/HTTP to a receiver on loopback)', () => {
  beforeAll(async () => {
    accountId = await connectedAccount(api, 'WA-TRACE');
    await openStream();
  });

  it('when a message arrives, then the socket event, ingest and the SSE push are one trace', async () => {
    await contactWrites(api, accountId, {
      from: CLIENT,
      name: 'Ioana',
      text: INBOUND_TEXT,
      messageId: INBOUND_ID,
    });

    const { root, trace } = await eventually('the inbound trace with its SSE push', () => {
      const root = receiver.spans.find(
        (s) => s.name === 'wa.events' && s.attributes['wa.message.id'] === INBOUND_ID,
      );
      if (root === undefined) return undefined;
      const trace = receiver.trace(root.traceId);
      const push = trace.find(
        (s) => s.name === 'sse.push' && s.attributes['wacrm.event.type'] === 'message.created',
      );
      return push !== undefined && complete(trace) ? { root, trace } : undefined;
    });
    expect(receiver.rejected).toEqual([]);
    const tree = render(trace);

    expect(root.service, tree).toBe('wa-gateway');
    expect(root.attributes['wa.account.id']).toBe(accountId);
    expect(expectOneTree(trace, 'wa.events')).toBe(root);
    expect(new Set(trace.map((s) => s.service)), tree).toEqual(
      new Set(['wa-gateway', 'ingest', 'api-gateway']),
    );
    // socket event → wa-inbound job → ingest → realtime publish → relay → SSE push
    const push = trace.find(
      (s) => s.name === 'sse.push' && s.attributes['wacrm.event.type'] === 'message.created',
    )!;
    const path = ancestry(push, trace).map((s) => `${s.service}:${s.name}`);
    expect(path.at(-1), tree).toBe('wa-gateway:wa.events');
    expect(path, tree).toContain('api-gateway:realtime.relay');
    expect(path, tree).toContain('ingest:realtime.publish');
    expect(
      path.some((p) => p.startsWith('ingest:') && p.includes('wa-inbound')),
      tree,
    ).toBe(true);
    noSecretsIn(trace);
  });

  it('when the operator sends, then the request, outbox, gateway, server ack and status update are one trace', async () => {
    const sent = await api.POST('/api/whatsapp/send', {
      body: { accountId, to: CLIENT, text: OUTBOUND_TEXT },
    });
    expect(sent.response.status).toBe(202);
    const { messageId } = ok(sent);

    const { root, trace } = await eventually('the send trace up to the status push', () => {
      const root = receiver.spans.find(
        (s) => s.name === 'POST /api/whatsapp/send' && s.attributes['wa.message.id'] === messageId,
      );
      if (root === undefined) return undefined;
      const trace = receiver.trace(root.traceId);
      const ack = trace.find((s) => s.name === 'wa.send');
      const gatewayProcess = trace.find((s) => s.spanId === ack?.parentSpanId);
      if (gatewayProcess === undefined) return undefined;
      const statusPush = trace.find(
        (s) =>
          s.name === 'sse.push' &&
          s.attributes['wacrm.event.type'] === 'message.status' &&
          ancestry(s, trace).includes(gatewayProcess),
      );
      return statusPush !== undefined && complete(trace) ? { root, trace } : undefined;
    });
    expect(receiver.rejected).toEqual([]);
    const tree = render(trace);

    expect(root.service, tree).toBe('api-gateway');
    expect(root.attributes['http.route']).toBe('/api/whatsapp/send');
    expect(root.attributes['http.response.status_code']).toBe(202);
    expect(expectOneTree(trace, 'POST /api/whatsapp/send')).toBe(root);
    expect(new Set(trace.map((s) => s.service)), tree).toEqual(
      new Set(['api-gateway', 'outbox-sender', 'wa-gateway', 'ingest']),
    );

    // request → outbox job → outbox-sender → wa-commands job → wa-gateway → server ack
    const ack = trace.find((s) => s.name === 'wa.send')!;
    expect(ack.service).toBe('wa-gateway');
    expect(ack.attributes).toMatchObject({
      'wa.account.id': accountId,
      'wa.message.id': messageId,
    });
    expect(String(ack.attributes['wa.peer.hash'])).toMatch(/^[0-9a-f]{16}$/);
    const ackPath = ancestry(ack, trace).map((s) => s.service);
    expect(ackPath.at(-1)).toBe('api-gateway');
    expect(ackPath, tree).toContain('outbox-sender');
    const sender = trace.find(
      (s) => s.service === 'outbox-sender' && s.attributes['wa.message.id'] === messageId,
    );
    expect(sender, tree).toBeDefined();

    // → record-send-result job → ingest status update → realtime → SSE push, under the gateway
    const gatewayProcess = trace.find((s) => s.spanId === ack.parentSpanId)!;
    const statusPush = trace.find(
      (s) =>
        s.name === 'sse.push' &&
        s.attributes['wacrm.event.type'] === 'message.status' &&
        ancestry(s, trace).includes(gatewayProcess),
    )!;
    const statusPath = ancestry(statusPush, trace).map((s) => `${s.service}:${s.name}`);
    expect(
      statusPath.some((p) => p.startsWith('ingest:')),
      tree,
    ).toBe(true);
    expect(statusPath, tree).toContain('api-gateway:realtime.relay');
    expect(
      await eventually('the sent status on SSE', () =>
        sse.text.includes(`"messageId":"${messageId}","status":"sent"`) ? true : undefined,
      ),
    ).toBe(true);
    // Every frame the stream carried so far is one the document describes.
    const frames = sseFrames(sse.text);
    expect(frames.map((f) => f.event)).toContain('message.status');
    api.validator.assertEvents('GET', '/api/stream', frames);
    noSecretsIn(trace);
  });
});
