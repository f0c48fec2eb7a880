import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { proto } from '@whiskeysockets/baileys';
import { WebSocketServer, type WebSocket } from 'ws';
import type { z } from 'zod';
import {
  describeIssues,
  SimulatorAccountParams,
  SimulatorDisconnectBody,
  SimulatorHistoryBody,
  SimulatorInboundBody,
} from '@wacrm/contracts';
import type {
  SimulatorAccepted as SimulatorAcceptedSchema,
  SimulatorSentList,
  SimulatorSentMessage,
} from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';
import {
  buildHistoryMessage,
  buildInboundMessage,
  encodeWebMessage,
  phoneJid,
  simMessageId,
} from './message-factory.js';
import {
  ClientFrame,
  CLOSE_CODE_BASE,
  type NetworkEventName,
  type ServerFrame,
} from './network.protocol.js';

export interface NetworkOptions {
  logger: Logger;
  deliveredMs: number;
  readMs: number;
  qrTtlMs: number;
  qrAttempts: number;
  historyChunk: number;
}

interface Pairing {
  identity: string;
  phone: string;
  me: { id: string; name: string };
}

interface Account {
  id: string;
  pairing: Pairing | null;
  socket: WebSocket | null;
  socketInstance: string | null;
  /** The identity of the socket waiting for a scan, and its current QR. */
  pendingQr: { identity: string; qr: string; timer: NodeJS.Timeout } | null;
  pairingCode: string | null;
  seq: number;
  /** Events not yet acknowledged by a gateway; redelivered on the next connection. */
  outbox: Array<{ seq: number; name: NetworkEventName; data: unknown }>;
  sentIds: Set<string>;
  /** What the server received from this account's clients, in order, one entry per message id. */
  received: Map<string, SimulatorSentMessage>;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly errors?: unknown,
  ) {
    super(title);
  }
}

const STATUS = proto.WebMessageInfo.Status;
type SimulatorAccepted = z.infer<typeof SimulatorAcceptedSchema>;

/**
 * A simulated WhatsApp network: the "phones" and chats of every simulated account. Gateways
 * connect over a loopback WebSocket; humans and tests drive it over the HTTP control API.
 */
export class SimulatedNetwork {
  private readonly accounts = new Map<string, Account>();
  private readonly wss = new WebSocketServer({ noServer: true });
  readonly server: Server;
  /** Times a second socket opened while one was already open for the same account. */
  replacedSockets = 0;

  constructor(private readonly options: NetworkOptions) {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        const problem =
          error instanceof HttpProblem ? error : new HttpProblem(500, 'internal error');
        if (problem.status >= 500) options.logger.error({ err: error }, 'simulator request failed');
        sendJson(
          res,
          problem.status,
          {
            type: 'about:blank',
            title: problem.title,
            status: problem.status,
            ...(problem.errors !== undefined ? { errors: problem.errors } : {}),
          },
          'application/problem+json',
        );
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      if (req.url !== '/socket') {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const account of this.accounts.values()) {
      if (account.pendingQr) clearTimeout(account.pendingQr.timer);
      account.socket?.terminate();
    }
    this.wss.close();
    // Keep-alive HTTP clients would otherwise hold close() open until they time out.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private account(id: string): Account {
    let account = this.accounts.get(id);
    if (!account) {
      account = {
        id,
        pairing: null,
        socket: null,
        socketInstance: null,
        pendingQr: null,
        pairingCode: null,
        seq: 0,
        outbox: [],
        sentIds: new Set(),
        received: new Map(),
      };
      this.accounts.set(id, account);
    }
    return account;
  }

  // ---- WebSocket side: the gateways ----

  private onSocket(ws: WebSocket): void {
    let account: Account | undefined;
    ws.on('message', (raw: Buffer) => {
      let frame: ClientFrame;
      try {
        frame = ClientFrame.parse(JSON.parse(raw.toString('utf8')));
      } catch {
        ws.close(1008, 'invalid frame');
        return;
      }
      if (frame.t === 'hello') {
        account = this.account(frame.accountId);
        this.onHello(account, ws, frame);
        return;
      }
      if (!account || account.socket !== ws) return;
      this.onFrame(account, ws, frame);
    });
    ws.on('close', () => {
      if (account && account.socket === ws) {
        account.socket = null;
        account.socketInstance = null;
        if (account.pendingQr) {
          clearTimeout(account.pendingQr.timer);
          account.pendingQr = null;
        }
      }
    });
    ws.on('error', () => undefined);
  }

  private onHello(account: Account, ws: WebSocket, hello: Extract<ClientFrame, { t: 'hello' }>) {
    const previous = account.socket;
    if (previous && previous !== ws) {
      // WhatsApp lets one client hold a session: the older connection is replaced (440).
      this.replacedSockets += 1;
      this.options.logger.warn(
        { accountId: account.id, previous: account.socketInstance, next: hello.instanceId },
        'second connection for one account; replacing the older one (440)',
      );
      account.socket = null;
      previous.close(CLOSE_CODE_BASE + 440, 'connection replaced');
    }
    if (account.pendingQr) {
      clearTimeout(account.pendingQr.timer);
      account.pendingQr = null;
    }
    account.socket = ws;
    account.socketInstance = hello.instanceId;
    if (account.pairing) {
      if (account.pairing.identity !== hello.identity) {
        this.closeAccountSocket(account, 401, 'unknown device credentials');
        return;
      }
      send(ws, { t: 'open', me: account.pairing.me });
      for (const event of account.outbox) send(ws, { t: 'ev', ...event });
      return;
    }
    if (hello.registered) {
      // Creds that claim a pairing this network does not know: the device was logged out.
      this.closeAccountSocket(account, 401, 'device not paired');
      return;
    }
    this.issueQr(account, ws, hello.identity, 1);
  }

  private issueQr(account: Account, ws: WebSocket, identity: string, attempt: number): void {
    if (attempt > this.options.qrAttempts) {
      account.pendingQr = null;
      this.closeAccountSocket(account, 408, 'QR refs attempts ended');
      return;
    }
    const qr = `2@${randomBytes(24).toString('base64')},${identity},${randomBytes(16).toString('base64')}`;
    const timer = setTimeout(
      () => this.issueQr(account, ws, identity, attempt + 1),
      this.options.qrTtlMs,
    );
    timer.unref();
    account.pendingQr = { identity, qr, timer };
    send(ws, { t: 'qr', qr });
  }

  private closeAccountSocket(account: Account, reason: number, text: string): void {
    const ws = account.socket;
    account.socket = null;
    account.socketInstance = null;
    ws?.close(CLOSE_CODE_BASE + reason, text);
  }

  private onFrame(account: Account, ws: WebSocket, frame: ClientFrame): void {
    switch (frame.t) {
      case 'ack':
        account.outbox = account.outbox.filter((e) => e.seq > frame.seq);
        return;
      case 'send':
        this.onSend(account, ws, frame);
        return;
      case 'logout':
        send(ws, { t: 'result', reqId: frame.reqId, ok: true });
        account.pairing = null;
        account.outbox = [];
        this.closeAccountSocket(account, 401, 'logged out');
        return;
      case 'pairing-code': {
        const code = randomBytes(4).toString('hex').toUpperCase();
        account.pairingCode = code;
        send(ws, { t: 'result', reqId: frame.reqId, ok: true, value: code });
        return;
      }
      case 'backfill': {
        send(ws, { t: 'result', reqId: frame.reqId, ok: true, value: 'requested' });
        this.emitHistory(account, frame.threads, frame.messagesPerThread, 'backfill');
        return;
      }
      case 'hello':
        return;
    }
  }

  private onSend(account: Account, ws: WebSocket, frame: Extract<ClientFrame, { t: 'send' }>) {
    const duplicate = account.sentIds.has(frame.messageId);
    const message = proto.Message.decode(Buffer.from(frame.message, 'base64'));
    const info = proto.WebMessageInfo.fromObject({
      key: { remoteJid: frame.jid, fromMe: true, id: frame.messageId },
      message: proto.Message.toObject(message),
      messageTimestamp: Math.floor(Date.now() / 1000),
      status: STATUS.SERVER_ACK,
    });
    send(ws, { t: 'result', reqId: frame.reqId, ok: true, value: encodeWebMessage(info) });
    // A resend of the same id is the same message: WhatsApp does not deliver it twice.
    if (duplicate) {
      const seen = account.received.get(frame.messageId);
      if (seen) seen.resends += 1;
      return;
    }
    account.sentIds.add(frame.messageId);
    account.received.set(frame.messageId, describeSent(frame.messageId, frame.jid, message));
    this.emit(account, 'messages.upsert', { type: 'append', messages: [encodeWebMessage(info)] });
    const key = { remoteJid: frame.jid, fromMe: true, id: frame.messageId };
    const later = (ms: number, status: number) =>
      setTimeout(
        () => this.emit(account, 'messages.update', [{ key, update: { status } }]),
        ms,
      ).unref();
    later(this.options.deliveredMs, STATUS.DELIVERY_ACK);
    later(Math.max(this.options.readMs, this.options.deliveredMs), STATUS.READ);
  }

  /** Queues an event for the account and sends it at once when a gateway is connected. */
  private emit(account: Account, name: NetworkEventName, data: unknown): void {
    account.seq += 1;
    const event = { seq: account.seq, name, data };
    account.outbox.push(event);
    if (account.socket && account.pairing) send(account.socket, { t: 'ev', ...event });
  }

  private emitHistory(
    account: Account,
    threads: number,
    perThread: number,
    source: 'history' | 'backfill',
  ): number {
    const syncType =
      source === 'backfill'
        ? proto.HistorySync.HistorySyncType.ON_DEMAND
        : proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP;
    const now = Math.floor(Date.now() / 1000);
    const total = threads * perThread;
    const chunk = this.options.historyChunk;
    let pending: string[] = [];
    let chats: unknown[] = [];
    let contacts: unknown[] = [];
    let sent = 0;
    let chunkOrder = 0;
    const flush = (isLast: boolean) => {
      chunkOrder += 1;
      this.emit(account, 'messaging-history.set', {
        chats,
        contacts,
        messages: pending,
        isLatest: isLast,
        progress: Math.round((sent / total) * 100),
        syncType,
        chunkOrder,
      });
      pending = [];
      chats = [];
      contacts = [];
    };
    for (let t = 0; t < threads; t++) {
      const phone = `+4076${String(hashNumber(`${account.id}|${t}`) % 10_000_000).padStart(7, '0')}`;
      const jid = phoneJid(phone);
      chats.push({ id: jid, name: `Client ${t + 1}`, unreadCount: 0, conversationTimestamp: now });
      contacts.push({ id: jid, name: `Client ${t + 1}`, notify: `Client ${t + 1}` });
      for (let i = 0; i < perThread; i++) {
        const message = buildHistoryMessage({
          accountId: account.id,
          contactPhone: phone,
          index: i,
          fromMe: i % 3 === 2,
          timestamp: now - (perThread - i) * 60 - t,
        });
        pending.push(encodeWebMessage(message));
        sent += 1;
        if (pending.length >= chunk) flush(sent === total);
      }
    }
    if (pending.length > 0 || chats.length > 0) flush(true);
    return chunkOrder;
  }

  // ---- HTTP side: the control API ----

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/health') {
      sendJson(res, 200, { status: 'ok', accounts: this.accounts.size });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/sockets') {
      sendJson(res, 200, {
        replacedSockets: this.replacedSockets,
        accounts: [...this.accounts.values()].map((a) => ({
          accountId: a.id,
          paired: a.pairing !== null,
          connected: a.socket !== null && a.pairing !== null && a.pendingQr === null,
          instanceId: a.socketInstance,
          qr: a.pendingQr?.qr ?? null,
          unacked: a.outbox.length,
        })),
      });
      return;
    }
    const sentMatch = /^\/accounts\/([^/]+)\/sent$/.exec(url.pathname);
    if (sentMatch && req.method === 'GET') {
      const { accountId } = parse(SimulatorAccountParams, { accountId: sentMatch[1] });
      const list: SimulatorSentList = {
        accountId,
        messages: [...(this.accounts.get(accountId)?.received.values() ?? [])],
      };
      sendJson(res, 200, list);
      return;
    }
    const match = /^\/accounts\/([^/]+)\/(scan|inbound|history|disconnect)$/.exec(url.pathname);
    if (!match || req.method !== 'POST') throw new HttpProblem(404, 'not found');
    const { accountId } = parse(SimulatorAccountParams, { accountId: match[1] });
    const body = await readJson(req);
    const account = this.accounts.get(accountId);
    let reply: SimulatorAccepted;
    switch (match[2]) {
      case 'scan':
        reply = this.scan(accountId, account);
        break;
      case 'inbound':
        reply = this.inbound(accountId, this.paired(account), parse(SimulatorInboundBody, body));
        break;
      case 'history': {
        const { threads, messagesPerThread } = parse(SimulatorHistoryBody, body);
        const chunks = this.emitHistory(
          this.paired(account),
          threads,
          messagesPerThread,
          'history',
        );
        reply = { accountId, status: `history queued in ${chunks} chunks` };
        break;
      }
      default: {
        const { reason } = parse(SimulatorDisconnectBody, body);
        reply = this.disconnect(accountId, account, reason);
      }
    }
    sendJson(res, 202, reply);
  }

  private paired(account: Account | undefined): Account {
    if (!account) throw new HttpProblem(404, 'unknown account: no gateway has connected it yet');
    if (!account.pairing) throw new HttpProblem(409, 'account not paired: scan its QR first');
    return account;
  }

  private scan(accountId: string, account: Account | undefined): SimulatorAccepted {
    if (!account) throw new HttpProblem(404, 'unknown account: no gateway has connected it yet');
    const pending = account.pendingQr;
    if (!pending || !account.socket) {
      throw new HttpProblem(409, account.pairing ? 'account already paired' : 'no QR waiting');
    }
    clearTimeout(pending.timer);
    account.pendingQr = null;
    const phone = `+4075${String(hashNumber(accountId) % 10_000_000).padStart(7, '0')}`;
    const me = { id: `${phone.slice(1)}:1@s.whatsapp.net`, name: `Sim ${accountId}` };
    account.pairing = { identity: pending.identity, phone, me };
    account.outbox = [];
    send(account.socket, { t: 'paired', me, platform: 'android' });
    // As WhatsApp does after a successful pairing: the client must open a fresh socket (515).
    const ws = account.socket;
    setTimeout(() => {
      if (account.socket === ws) this.closeAccountSocket(account, 515, 'restart required');
    }, 20).unref();
    this.options.logger.info({ accountId, phone }, 'simulated account paired');
    return { accountId, status: 'paired' };
  }

  private inbound(accountId: string, account: Account, body: SimulatorInboundBody) {
    const id = body.messageId ?? simMessageId('in', accountId, randomBytes(8).toString('hex'));
    const target = body.targetMessageId;
    const message = buildInboundMessage(
      body,
      id,
      target !== undefined && account.sentIds.has(target),
    );
    this.emit(account, 'messages.upsert', {
      type: 'notify',
      messages: [encodeWebMessage(message)],
    });
    return {
      accountId,
      messageIds: [id],
      status: account.socket ? 'delivered' : 'queued until the account connects',
    };
  }

  private disconnect(accountId: string, account: Account | undefined, reason: number) {
    if (!account?.socket) throw new HttpProblem(409, 'account not connected');
    if (reason === 401 || reason === 500 || reason === 411) {
      // The device is gone for WhatsApp: its creds will never open a session again.
      account.pairing = null;
      account.outbox = [];
    }
    this.closeAccountSocket(account, reason, `simulated disconnect ${reason}`);
    return { accountId, status: `closed with ${reason}` };
  }
}

/** What the server saw of one sent message: its kind, media metadata and the message it quotes. */
function describeSent(messageId: string, to: string, m: proto.IMessage): SimulatorSentMessage {
  const candidates = [
    ['image', m.imageMessage],
    ['video', m.videoMessage],
    ['audio', m.audioMessage],
    ['document', m.documentMessage],
  ] as const;
  const found = candidates.find(([, media]) => media != null);
  const kind = found?.[0];
  const media: {
    caption?: string | null;
    fileName?: string | null;
    mimetype?: string | null;
    fileLength?: number | { toNumber(): number } | null;
    fileSha256?: Uint8Array | null;
    contextInfo?: proto.IContextInfo | null;
  } | null = found?.[1] ?? null;
  const text = m.conversation ?? m.extendedTextMessage?.text ?? null;
  const context = m.extendedTextMessage?.contextInfo ?? media?.contextInfo ?? null;
  return {
    messageId,
    to,
    kind: kind ?? (text !== null ? 'text' : 'other'),
    text,
    caption: media?.caption ?? null,
    mimetype: media?.mimetype ?? null,
    fileName: media?.fileName ?? null,
    fileLength:
      media?.fileLength == null
        ? null
        : typeof media.fileLength === 'number'
          ? media.fileLength
          : media.fileLength.toNumber(),
    fileSha256Base64:
      media?.fileSha256 != null ? Buffer.from(media.fileSha256).toString('base64') : null,
    quotedMessageId: context?.stanzaId ?? null,
    quotedParticipant: context?.participant ?? null,
    receivedAt: new Date().toISOString(),
    resends: 0,
  };
}

function hashNumber(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

function send(ws: WebSocket, frame: ServerFrame): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new HttpProblem(400, 'invalid request', describeIssues(result.error));
  }
  return result.data;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1024 * 1024) throw new HttpProblem(413, 'body too large');
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpProblem(400, 'body is not valid JSON');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json') {
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify(body));
}
