import { createHash, randomBytes } from 'node:crypto';
import { proto, type WAMessage } from '@whiskeysockets/baileys';
import { WebSocket } from 'ws';
import { decodeWebMessage } from '../simulator/message-factory.js';
import { CLOSE_CODE_BASE, type ServerFrame } from '../simulator/network.protocol.js';
import {
  closeError,
  type OpenOptions,
  type WaConnection,
  type WaDriver,
  type WaEvents,
} from './driver.port.js';

const REQUEST_TIMEOUT_MS = 15_000;
/** WhatsApp's own ceiling for a document; images and audio are far smaller. */
const MEDIA_MAX_BYTES = 100 * 1024 * 1024;

/**
 * Connects an account to the simulated WhatsApp network over a loopback WebSocket and turns its
 * frames into the same events, with the same proto objects, a Baileys socket emits.
 */
export function simulatorDriver(networkUrl: string): WaDriver {
  const socketUrl = `${networkUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/socket`;
  return { name: 'simulator', open: (options) => openSimulated(socketUrl, options) };
}

function openSimulated(url: string, options: OpenOptions): WaConnection {
  const ws = new WebSocket(url);
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextReq = 1;
  let closed = false;
  let me: { id: string; name: string } | undefined;
  // Events are handled strictly in order: each waits for the previous, and is acked after.
  let chain = Promise.resolve();

  const deliver = (events: WaEvents, ackSeq?: number) => {
    chain = chain.then(async () => {
      try {
        await options.onEvents(events);
        if (ackSeq !== undefined && ws.readyState === ws.OPEN) {
          ws.send(JSON.stringify({ t: 'ack', seq: ackSeq }));
        }
      } catch (error) {
        // Not acked: the network redelivers it on the next connection.
        options.logger.error({ err: error }, 'event handling failed; closing for redelivery');
        ws.close(CLOSE_CODE_BASE + 428, 'event handling failed');
      }
    });
  };

  ws.on('open', () => {
    deliver({ 'connection.update': { connection: 'connecting' } });
    ws.send(
      JSON.stringify({
        t: 'hello',
        accountId: options.accountId,
        instanceId: options.instanceId,
        identity: Buffer.from(options.auth.creds.noiseKey.public).toString('base64'),
        registered: options.auth.creds.registered === true || options.auth.creds.me !== undefined,
      }),
    );
  });
  ws.on('message', (raw: Buffer) => {
    const frame = JSON.parse(raw.toString('utf8')) as ServerFrame;
    switch (frame.t) {
      case 'qr':
        deliver({ 'connection.update': { qr: frame.qr } });
        return;
      case 'paired':
        me = frame.me;
        deliver({
          // The simulated pair-success: a session counts as paired once `creds.account` is set.
          'creds.update': { me: frame.me, registered: true, platform: frame.platform, account: {} },
          'connection.update': { isNewLogin: true, qr: undefined },
        });
        return;
      case 'open':
        me = frame.me;
        deliver({
          'connection.update': { connection: 'open', receivedPendingNotifications: true },
        });
        return;
      case 'ev':
        deliver(toEvents(frame.name, frame.data), frame.seq);
        return;
      case 'result': {
        const waiter = pending.get(frame.reqId);
        pending.delete(frame.reqId);
        if (frame.ok) waiter?.resolve(frame.value);
        else waiter?.reject(new Error(frame.error ?? 'simulator request failed'));
        return;
      }
    }
  });
  ws.on('error', (error) => options.logger.debug({ err: error }, 'simulator socket error'));
  ws.on('close', (code, reason) => {
    closed = true;
    for (const waiter of pending.values()) waiter.reject(closeError(428, 'connection closed'));
    pending.clear();
    const disconnect = code >= CLOSE_CODE_BASE ? code - CLOSE_CODE_BASE : 428;
    deliver({
      'connection.update': {
        connection: 'close',
        lastDisconnect: {
          error: closeError(disconnect, reason.toString() || 'closed'),
          date: new Date(),
        },
      },
    });
  });

  const request = <T>(frame: Record<string, unknown>): Promise<T> => {
    if (closed || ws.readyState !== ws.OPEN) {
      return Promise.reject(closeError(428, 'connection closed'));
    }
    const reqId = nextReq++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(reqId);
        reject(closeError(408, 'simulator request timed out'));
      }, REQUEST_TIMEOUT_MS);
      pending.set(reqId, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      ws.send(JSON.stringify({ ...frame, reqId }));
    });
  };

  return {
    async sendMessage(jid, content, { messageId, quoted }) {
      const message = await toProtoMessage(content, quoted, me?.id);
      const encoded = Buffer.from(proto.Message.encode(message).finish()).toString('base64');
      const sent = await request<string>({ t: 'send', jid, messageId, message: encoded });
      return decodeWebMessage(sent) as WAMessage;
    },
    async logout() {
      await request({ t: 'logout' });
    },
    requestPairingCode(phone) {
      return request<string>({ t: 'pairing-code', phone });
    },
    async fetchHistory({ threads, messagesPerThread }) {
      await request({ t: 'backfill', threads, messagesPerThread });
    },
    end() {
      if (ws.readyState === ws.CONNECTING || ws.readyState === ws.OPEN) {
        ws.close(CLOSE_CODE_BASE + 428, 'closed by gateway');
      }
    },
  };
}

function toEvents(name: string, data: unknown): WaEvents {
  switch (name) {
    case 'messages.upsert': {
      const d = data as { type: 'notify' | 'append'; messages: string[] };
      return {
        'messages.upsert': {
          type: d.type,
          messages: d.messages.map((m) => decodeWebMessage(m) as WAMessage),
        },
      };
    }
    case 'messaging-history.set': {
      const d = data as WaEvents['messaging-history.set'] & { messages: unknown[] };
      return {
        'messaging-history.set': {
          ...d,
          messages: (d.messages as string[]).map((m) => decodeWebMessage(m) as WAMessage),
        },
      };
    }
    case 'messages.update':
      return { 'messages.update': data as NonNullable<WaEvents['messages.update']> };
    case 'message-receipt.update':
      return { 'message-receipt.update': data as NonNullable<WaEvents['message-receipt.update']> };
    default:
      return { 'lid-mapping.update': data as NonNullable<WaEvents['lid-mapping.update']> };
  }
}

/**
 * The subset of Baileys' content shapes the gateway sends, as the proto Baileys would build:
 * media is downloaded from its URL (as Baileys does before encrypting and uploading it), so its
 * length and SHA-256 are the real file's; a reply carries the quoted message in `contextInfo`.
 */
async function toProtoMessage(
  content: Parameters<WaConnection['sendMessage']>[1],
  quoted: WAMessage | undefined,
  meJid: string | undefined,
): Promise<proto.Message> {
  const c = content as Record<string, unknown>;
  const contextInfo = quoted ? quotedContext(quoted, meJid) : undefined;
  if (typeof c.text === 'string') {
    return proto.Message.fromObject(
      contextInfo
        ? { extendedTextMessage: { text: c.text, contextInfo } }
        : { conversation: c.text },
    );
  }
  for (const kind of ['image', 'video', 'audio', 'document'] as const) {
    if (c[kind] === undefined) continue;
    const bytes = await mediaBytes(c[kind]);
    const path = `/sim/${createHash('sha256').update(randomBytes(16)).digest('hex')}.enc`;
    return proto.Message.fromObject({
      [`${kind}Message`]: {
        url: `https://mmg.whatsapp.net${path}`,
        directPath: path,
        mimetype: c.mimetype,
        fileLength: bytes.length,
        fileSha256: createHash('sha256').update(bytes).digest(),
        mediaKey: randomBytes(32),
        mediaKeyTimestamp: Math.floor(Date.now() / 1000),
        ...(kind !== 'audio' && typeof c.caption === 'string' ? { caption: c.caption } : {}),
        ...(kind === 'document' ? { fileName: c.fileName, title: c.fileName } : {}),
        ...(contextInfo ? { contextInfo } : {}),
      },
    });
  }
  throw new Error('unsupported content for the simulated network');
}

/** Baileys' `contextInfo` for a reply: the quoted id, its author and its content. */
function quotedContext(quoted: WAMessage, meJid: string | undefined): proto.IContextInfo {
  const key = quoted.key;
  const participant = key.fromMe ? meJid : (key.participant ?? key.remoteJid);
  return {
    stanzaId: key.id ?? null,
    ...(participant ? { participant } : {}),
    quotedMessage: quoted.message ?? { conversation: '' },
  };
}

async function mediaBytes(source: unknown): Promise<Buffer> {
  if (Buffer.isBuffer(source)) return source;
  const url = (source as { url?: unknown } | null)?.url;
  if (typeof url !== 'string' && !(url instanceof URL)) {
    throw new Error('media must be a Buffer or { url }');
  }
  const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`media download failed: HTTP ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (bytes.length > MEDIA_MAX_BYTES) throw new Error('media larger than WhatsApp accepts');
  return bytes;
}
