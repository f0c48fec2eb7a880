import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_CONNECTION_CONFIG } from '@whiskeysockets/baileys';
import type { z } from 'zod';
import {
  describeIssues,
  SimulatorAccountParams,
  SimulatorDisconnectBody,
  WaEmulatorExpireMediaBody,
  WaEmulatorFaultBody,
  WaEmulatorHistoryBody,
  WaEmulatorInboundBody,
  WaEmulatorPairingCodeBody,
  WaEmulatorRetryRequestBody,
  WaEmulatorScanBody,
  type SimulatorSentList,
  type WaEmulatorAccountView,
} from '@wacrm/contracts';
import { EmulatorError } from './emulator-error.js';

export type FaultKind = WaEmulatorFaultBody;

/** The emulator operations the control API drives. */
export interface EmulatorControl {
  scan(accountId: string, qr: string): Promise<{ jid: string; lid: string }>;
  disconnect(accountId: string, code: number): Promise<number>;
  fault(accountId: string, fault: FaultKind): Promise<number>;
  accountViews(): WaEmulatorAccountView[];
  /** See `WaEmulator.currentClientRevision`. */
  readonly currentClientRevision: number | null;
  readonly replacedSockets: number;
  inbound(
    accountId: string,
    input: WaEmulatorInboundBody,
  ): Promise<{ messageId: string; devices: number; queued: number }>;
  history(
    accountId: string,
    input: WaEmulatorHistoryBody,
  ): Promise<{ chunks: number; messages: number; messageIds: string[] }>;
  retryRequest(accountId: string, messageId: string): Promise<{ devices: number }>;
  expireMedia(accountId: string, input: WaEmulatorExpireMediaBody): Promise<{ directPath: string }>;
  pairingCode(accountId: string, code: string): Promise<{ jid: string; lid: string }>;
  receipts(accountId: string): Array<{ messageId: string; type: string; to: string }>;
  sent(accountId: string): SimulatorSentList['messages'];
  sentMediaBytesOf(accountId: string, messageId: string): Buffer | undefined;
  readonly mediaCertPem: string;
}

const MAX_BODY_BYTES = 64 * 1024;
/** Inbound bodies may carry media as base64 (16 MiB decoded). */
const MAX_INBOUND_BODY_BYTES = 23 * 1024 * 1024;

/**
 * The JSON control API on loopback. Paths follow the simulator's
 * (`POST /accounts/:accountId/scan|disconnect`) plus `faults`; errors are problem+json.
 */
export async function handleControlRequest(
  emulator: EmulatorControl,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    await route(emulator, req, res);
  } catch (error) {
    const status = error instanceof EmulatorError ? error.status : 500;
    const title = error instanceof EmulatorError ? error.message : 'internal error';
    const errors = error instanceof InvalidRequest ? error.errors : undefined;
    sendJson(
      res,
      status,
      { type: 'about:blank', title, status, ...(errors !== undefined ? { errors } : {}) },
      'application/problem+json',
    );
    if (status >= 500) throw error;
  }
}

async function route(
  emulator: EmulatorControl,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/health') {
    sendJson(res, 200, { status: 'ok' });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/sw.js') {
    // web.whatsapp.com's service worker names the current client revision this way. With no
    // version pinned every one is accepted, and the one Baileys bundles is announced.
    const revision = emulator.currentClientRevision ?? DEFAULT_CONNECTION_CONFIG.version[2];
    res.writeHead(200, { 'content-type': 'application/javascript' });
    res.end(
      `self.__swData=JSON.parse('{"dynamic_data":{"SiteData":{"client_revision":${revision}}}}');`,
    );
    return;
  }
  if (req.method === 'GET' && url.pathname === '/accounts') {
    sendJson(res, 200, {
      accounts: emulator.accountViews(),
      replacedSockets: emulator.replacedSockets,
    });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/media-ca.pem') {
    res.writeHead(200, { 'content-type': 'application/x-pem-file' });
    res.end(emulator.mediaCertPem);
    return;
  }
  const mediaMatch = /^\/accounts\/([^/]+)\/sent\/([^/]+)\/media$/.exec(url.pathname);
  if (req.method === 'GET' && mediaMatch) {
    const { accountId } = parse(SimulatorAccountParams, {
      accountId: decodeURIComponent(mediaMatch[1]!),
    });
    const bytes = emulator.sentMediaBytesOf(accountId, decodeURIComponent(mediaMatch[2]!));
    if (!bytes) throw new EmulatorError(404, 'no decrypted media for this message');
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(bytes.length),
    });
    res.end(bytes);
    return;
  }
  const listMatch = /^\/accounts\/([^/]+)\/(receipts|sent)$/.exec(url.pathname);
  if (req.method === 'GET' && listMatch) {
    const { accountId } = parse(SimulatorAccountParams, {
      accountId: decodeURIComponent(listMatch[1]!),
    });
    if (listMatch[2] === 'sent') {
      const list: SimulatorSentList = { accountId, messages: emulator.sent(accountId) };
      sendJson(res, 200, list);
    } else {
      sendJson(res, 200, { accountId, receipts: emulator.receipts(accountId) });
    }
    return;
  }
  const match =
    /^\/accounts\/([^/]+)\/(scan|inbound|disconnect|faults|history|retry-request|pairing-code|expire-media)$/.exec(
      url.pathname,
    );
  if (!match || req.method !== 'POST') throw new EmulatorError(404, 'not found');
  const { accountId } = parse(SimulatorAccountParams, {
    accountId: decodeURIComponent(match[1]!),
  });
  const body = await readJson(
    req,
    match[2] === 'inbound' ? MAX_INBOUND_BODY_BYTES : MAX_BODY_BYTES,
  );
  switch (match[2]) {
    case 'scan': {
      const { qr } = parse(WaEmulatorScanBody, body);
      const paired = await emulator.scan(accountId, qr);
      sendJson(res, 202, { accountId, status: 'paired', ...paired });
      return;
    }
    case 'inbound': {
      const inbound = parse(WaEmulatorInboundBody, body);
      const sent = await emulator.inbound(accountId, inbound);
      sendJson(res, 202, {
        accountId,
        messageIds: [sent.messageId],
        status: `delivered to ${sent.devices} device(s), queued for ${sent.queued}`,
      });
      return;
    }
    case 'history': {
      const history = parse(WaEmulatorHistoryBody, body);
      const result = await emulator.history(accountId, history);
      sendJson(res, 202, {
        accountId,
        messageIds: result.messageIds,
        status: `${result.messages} message(s) in ${result.chunks} history chunk(s)`,
      });
      return;
    }
    case 'retry-request': {
      const { messageId } = parse(WaEmulatorRetryRequestBody, body);
      const result = await emulator.retryRequest(accountId, messageId);
      sendJson(res, 202, { accountId, status: `retry asked of ${result.devices} device(s)` });
      return;
    }
    case 'expire-media': {
      const input = parse(WaEmulatorExpireMediaBody, body);
      const expired = await emulator.expireMedia(accountId, input);
      sendJson(res, 202, {
        accountId,
        status: `media of ${input.messageId} expired on the CDN${input.phoneHasIt ? '' : ' and lost by the phone'}${input.phoneAnswers ? '' : '; the phone will not answer'}`,
        directPath: expired.directPath,
      });
      return;
    }
    case 'pairing-code': {
      const { code } = parse(WaEmulatorPairingCodeBody, body);
      const paired = await emulator.pairingCode(accountId, code);
      sendJson(res, 202, { accountId, status: 'paired', ...paired });
      return;
    }
    case 'disconnect': {
      const { reason } = parse(SimulatorDisconnectBody, body);
      const closed = await emulator.disconnect(accountId, reason);
      sendJson(res, 202, { accountId, status: `closed ${closed} connection(s) with ${reason}` });
      return;
    }
    default: {
      const fault = parse(WaEmulatorFaultBody, body);
      const hit = await emulator.fault(accountId, fault);
      sendJson(res, 202, { accountId, status: `${fault.kind} on ${hit} connection(s)` });
    }
  }
}

class InvalidRequest extends EmulatorError {
  constructor(readonly errors: unknown) {
    super(400, 'invalid request');
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidRequest(describeIssues(result.error));
  return result.data;
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new EmulatorError(413, 'body too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new EmulatorError(413, 'body too large');
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new EmulatorError(400, 'body is not valid JSON');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json') {
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify(body));
}
