import type { SocketConfig } from '@whiskeysockets/baileys';
import { sendScope } from '../domain/send-scope.js';

type ILogger = SocketConfig['logger'];

/**
 * The debug line Baileys 7 writes in `sendReceipt` (Socket/messages-send.js) with the receipt's
 * attrs and message ids, synchronously before it encodes the node and writes its frame.
 */
export const RECEIPT_LOG_LINE = 'sending receipt for messages';

/**
 * The debug line Baileys 7 writes in `sendMessageAck` (Socket/messages-recv.js) with the stanza it
 * acks (`recv`), synchronously before it encodes the `<ack>` and writes its frame. Baileys acks a
 * contact's receipt right after emitting its status (`messages.update`); WhatsApp then drops it.
 */
export const ACK_LOG_LINE = 'sent ack';

/**
 * The debug line Baileys 7 writes in `relayMessage` (Socket/messages-send.js) with the message id,
 * `sending message to <n> devices`, synchronously before it encodes the message and writes its
 * frame — a frame encrypted under Signal keys Baileys commits only after the write.
 */
export const SEND_LOG_PREFIX = 'sending message to ';
const SEND_LOG_SUFFIX = ' devices';

/**
 * Receipt types that tell WhatsApp a received message was delivered (it then drops its copy):
 * none (delivery), `inactive` (delivery while not online), `sender` (our own message from another
 * device), `peer_msg`. Read, played, retry and hist_sync receipts are not held.
 */
const DELIVERY_TYPES = new Set<string | undefined>([undefined, 'inactive', 'sender', 'peer_msg']);

type SendCallback = (error?: Error) => void;
interface Transport {
  send(data: unknown, options?: unknown, cb?: SendCallback): void;
}
interface Held {
  data: unknown;
  options: unknown;
  /** What the frame waits for (a held receipt's message ids, a sent message's keys); null: nothing. */
  ids: string[] | null;
  /** The id of the message this frame carries, for one of our sends. */
  send: string | null;
}

/** One of our sends whose frame the gate saw: written to WhatsApp, or dropped with the socket. */
interface SendFrame {
  written: boolean;
  done: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Holds Baileys' delivery receipts until the messages they acknowledge are stored (for a history
 * notification: the messages of its chunk), and its acks of contacts' and group members'
 * receipts (`<ack class="receipt">`, {@link ACK_LOG_LINE}) until their statuses are.
 *
 * Baileys sends the receipt for a message before it emits `messages.upsert`, awaiting the write,
 * and offers no hook between the two; its modules are closures, so nothing in them can be
 * replaced. The gate works at the two edges Baileys does expose:
 * - the logger we pass it: `sendReceipt` logs {@link RECEIPT_LOG_LINE} with the receipt's attrs
 *   and ids right before it writes, so the next frame written is that receipt;
 * - the socket's transport (`ws.socket.send`): frames are Noise-encrypted in order, so once a
 *   receipt is held every later frame is held behind it. Each held write is reported done at once,
 *   so Baileys goes on to emit the message; when our handler has stored it, the frames up to the
 *   next receipt still waiting are written, in order.
 * A message that cannot be stored fails the gate: the held frames are never written and the socket
 * is closed, so WhatsApp, which keeps a message until its receipt, delivers it again.
 * `session-receipts.int.test.ts` fails if a Baileys upgrade moves either edge.
 */
export class ReceiptGate {
  private next: string[] | null = null;
  /** The message id of the frame Baileys is about to write for a send (its log line). */
  private nextSend: string | null = null;
  private readonly sends = new Map<string, SendFrame>();
  private readonly held: Held[] = [];
  private readonly waiting = new Map<string, number>();
  /** When the held receipt of each waiting message id is given up (ms since epoch). */
  private readonly deadlines = new Map<string, number>();
  /** Message ids whose status events were handed to our handler and are not stored yet. */
  private readonly statusPending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** The key the next frame waits under for keys being stored (see holdUntilStored). */
  private barrier: string | null = null;
  private barriers = 0;
  private failed = false;
  private write: ((data: unknown, options: unknown, cb?: SendCallback) => void) | null = null;
  /** Delivery receipts held until their message was stored (for logs and tests). */
  heldReceipts = 0;

  constructor(
    private readonly options: {
      /** Longest a receipt may wait for its message's event before the socket is given up. */
      timeoutMs: number;
      /** Longest a sent message's frame may wait for its keys to be stored (default `timeoutMs`). */
      keysTimeoutMs?: number;
      onFail(reason: string): void;
    },
  ) {}

  /** Baileys' logger, seeing the receipt line; everything is passed on to `target` unchanged. */
  logger(target: ILogger): ILogger {
    const onDebug = (obj: unknown, msg?: string) => {
      if (msg === RECEIPT_LOG_LINE) this.receiptComing(obj);
      else if (msg === ACK_LOG_LINE) this.ackComing(obj);
      else if (msg?.startsWith(SEND_LOG_PREFIX) && msg.endsWith(SEND_LOG_SUFFIX)) {
        this.sendComing(obj);
      }
    };
    const wrap = (inner: ILogger): ILogger => ({
      get level() {
        return inner.level;
      },
      set level(level: string) {
        inner.level = level;
      },
      child: (bindings) => wrap(inner.child(bindings)),
      trace: (obj, msg) => inner.trace(obj, msg),
      debug: (obj, msg) => {
        onDebug(obj, msg);
        inner.debug(obj, msg);
      },
      info: (obj, msg) => inner.info(obj, msg),
      warn: (obj, msg) => inner.warn(obj, msg),
      error: (obj, msg) => inner.error(obj, msg),
    });
    return wrap(target);
  }

  /** Wraps the WebSocket Baileys writes its frames to. */
  attach(transport: Transport | null | undefined): void {
    if (!transport || typeof transport.send !== 'function') {
      throw new Error('Baileys socket has no transport to hold receipts on (ws.socket.send)');
    }
    const original: Transport['send'] = transport.send.bind(transport);
    this.write = (data, options, cb) =>
      options === undefined ? original(data, cb) : original(data, options, cb);
    transport.send = (data: unknown, optionsOrCb?: unknown, maybeCb?: SendCallback) => {
      const cb = typeof optionsOrCb === 'function' ? (optionsOrCb as SendCallback) : maybeCb;
      const options = typeof optionsOrCb === 'function' ? undefined : optionsOrCb;
      let ids = this.next;
      this.next = null;
      // One of our sends (the driver runs it in a SendScope): its frame waits for its keys.
      const send =
        this.nextSend !== null && sendScope.getStore()?.messageId === this.nextSend
          ? this.nextSend
          : null;
      this.nextSend = null;
      // Only the first frame after a hold waits under its key: the rest wait behind it.
      const barrier = this.barrier;
      this.barrier = null;
      if (this.failed) {
        cb?.(new Error('receipt gate closed: an event could not be stored'));
        return;
      }
      if (ids === null && send === null && barrier === null && this.held.length === 0) {
        this.write?.(data, options, cb);
        return;
      }
      if (ids !== null) {
        this.heldReceipts += 1;
        this.wait(ids, this.options.timeoutMs);
      }
      if (barrier !== null) {
        ids = [...(ids ?? []), barrier];
        this.wait([barrier], this.options.keysTimeoutMs ?? this.options.timeoutMs);
      }
      if (send !== null) {
        this.sends.set(send, sendFrame());
        ids = [...(ids ?? []), sendKey(send)];
        this.wait([sendKey(send)], this.options.keysTimeoutMs ?? this.options.timeoutMs);
      }
      this.held.push({ data, options, ids, send });
      // Reported written: Baileys goes on and emits the message the receipt is for.
      if (cb) queueMicrotask(() => cb());
    };
  }

  /** Holds these ids until stored (or their deadline, `ms` from now, passes). */
  private wait(ids: readonly string[], ms: number): void {
    const deadline = Date.now() + ms;
    for (const id of ids) {
      this.waiting.set(id, (this.waiting.get(id) ?? 0) + 1);
      this.deadlines.set(id, Math.max(this.deadlines.get(id) ?? 0, deadline));
    }
    this.arm();
  }

  /**
   * Frames written from now on wait until `stored` resolves: for Baileys' pre-key upload, whose
   * one-time pre-keys (and the creds that count them) must be stored before WhatsApp can hand
   * them to a contact. If it rejects while a frame waits, the socket is given up with what it
   * holds (the upload never reached WhatsApp); a frame waiting past `keysTimeoutMs` does the same.
   */
  holdUntilStored(stored: Promise<void>): void {
    this.barriers += 1;
    const key = sendKey(`pre-keys#${this.barriers}`);
    this.barrier = key;
    stored.then(
      () => {
        if (this.barrier === key) this.barrier = null;
        this.stored([key]);
      },
      (error: unknown) => {
        if (this.barrier === key) this.barrier = null;
        if (this.waiting.has(key)) {
          this.fail(`keys not stored: ${error instanceof Error ? error.message : String(error)}`);
        }
      },
    );
  }

  /**
   * The keys Baileys used for this sent message are stored: its frame may go (once what is held
   * before it has gone).
   */
  keysStored(messageId: string): void {
    this.stored([sendKey(messageId)]);
  }

  /**
   * Resolves once the frame of this sent message was written to WhatsApp; rejects when it was
   * dropped unwritten (the socket was given up or closed): WhatsApp never saw it, and a retry
   * with the same id sends it once. Resolves at once for a send whose frame the gate did not see.
   */
  async written(messageId: string): Promise<void> {
    const frame = this.sends.get(messageId);
    if (frame === undefined) return;
    try {
      await frame.done;
    } finally {
      this.sends.delete(messageId);
    }
  }

  /**
   * A send failed before its frame was released (its keys will not be stored, Baileys threw):
   * if the frame is held, it and everything after it is never written and the socket is given up.
   */
  abandon(messageId: string, reason: string): void {
    const frame = this.sends.get(messageId);
    this.sends.delete(messageId);
    if (frame === undefined || frame.written) return;
    this.fail(`send ${messageId} failed before its frame went: ${reason}`);
  }

  /**
   * The socket is closed: held frames can never be written. Sends among them are rejected; the
   * messages of held receipts are delivered again by WhatsApp.
   */
  closed(reason: string): void {
    if (this.held.length === 0 && this.sends.size === 0) return;
    this.fail(`socket closed: ${reason}`, false);
  }

  /** Our handler stored the events of these messages: their receipts may go. */
  stored(messageIds: readonly string[]): void {
    for (const id of messageIds) {
      const count = this.waiting.get(id);
      if (count === undefined) continue;
      if (count <= 1) {
        this.waiting.delete(id);
        this.deadlines.delete(id);
      } else this.waiting.set(id, count - 1);
    }
    this.release();
  }

  /**
   * The held receipts of these messages may wait up to `ms` from now (instead of the gate's
   * `timeoutMs`): what they stand for takes longer to store, e.g. a history chunk to download.
   */
  waitLonger(messageIds: readonly string[], ms: number): void {
    const deadline = Date.now() + ms;
    for (const id of messageIds) {
      if (this.waiting.has(id)) {
        this.deadlines.set(id, Math.max(this.deadlines.get(id) ?? 0, deadline));
      }
    }
  }

  /** Status events of these messages were handed to our handler: acks of their receipts wait. */
  statusEvents(messageIds: readonly string[]): void {
    for (const id of messageIds) this.statusPending.set(id, (this.statusPending.get(id) ?? 0) + 1);
  }

  /** The status events of these messages are stored: the acks of their receipts may go. */
  statusStored(messageIds: readonly string[]): void {
    for (const id of messageIds) {
      const count = this.statusPending.get(id) ?? 0;
      if (count <= 1) this.statusPending.delete(id);
      else this.statusPending.set(id, count - 1);
    }
    this.stored(messageIds.map(ackKey));
  }

  /** The status events of these messages could not be stored: see {@link notStored}. */
  statusNotStored(messageIds: readonly string[], reason: string): boolean {
    for (const id of messageIds) this.statusPending.delete(id);
    return this.notStored(messageIds.map(ackKey), reason);
  }

  /**
   * These messages could not be stored. If a receipt for one of them is held, it and everything
   * after it is never written and the socket is given up (`onFail`): WhatsApp delivers them again.
   * Returns whether that happened.
   */
  notStored(messageIds: readonly string[], reason: string): boolean {
    if (!messageIds.some((id) => this.waiting.has(id))) return false;
    this.fail(reason);
    return true;
  }

  private fail(reason: string, giveUpSocket = true): void {
    if (this.failed) return;
    this.failed = true;
    this.held.length = 0;
    this.waiting.clear();
    this.deadlines.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const frame of this.sends.values()) {
      if (!frame.written) frame.reject(new Error(`message frame not written: ${reason}`));
    }
    if (giveUpSocket) this.options.onFail(reason);
  }

  /** The timer fires at the earliest deadline of a waiting receipt; one past its deadline fails. */
  private arm(): void {
    if (this.timer !== null || this.waiting.size === 0) return;
    let earliest = Infinity;
    for (const id of this.waiting.keys()) {
      earliest = Math.min(earliest, this.deadlines.get(id) ?? 0);
    }
    this.timer = setTimeout(
      () => {
        this.timer = null;
        if (this.failed) return;
        const now = Date.now();
        const late = [...this.waiting.keys()].filter((id) => (this.deadlines.get(id) ?? 0) <= now);
        if (late.some(isSendKey)) this.fail('a frame waited past its deadline for its keys');
        else if (late.length > 0)
          this.fail('a held receipt waited past its deadline for its message');
        else this.arm();
      },
      Math.max(0, earliest - Date.now()),
    );
  }

  private receiptComing(obj: unknown): void {
    const { attrs, messageIds } = (obj ?? {}) as {
      attrs?: { type?: string };
      messageIds?: unknown;
    };
    if (!Array.isArray(messageIds) || !DELIVERY_TYPES.has(attrs?.type)) return;
    this.next = messageIds.filter((id): id is string => typeof id === 'string');
    // Written synchronously after the log line; if the write never happened, forget it.
    queueMicrotask(() => (this.next = null));
  }

  private sendComing(obj: unknown): void {
    const { msgId } = (obj ?? {}) as { msgId?: unknown };
    if (typeof msgId !== 'string') return;
    this.nextSend = msgId;
    queueMicrotask(() => (this.nextSend = null));
  }

  /** An `<ack class="receipt">` for a receipt whose status is not stored yet: held like a receipt. */
  private ackComing(obj: unknown): void {
    const { recv } = (obj ?? {}) as { recv?: { tag?: string; attrs?: { id?: string } } };
    const id = recv?.attrs?.id;
    if (recv?.tag !== 'receipt' || id === undefined || !this.statusPending.has(id)) return;
    this.next = [ackKey(id)];
    queueMicrotask(() => (this.next = null));
  }

  private release(): void {
    while (this.held.length > 0) {
      const first = this.held[0]!;
      if (first.ids !== null && first.ids.some((id) => this.waiting.has(id))) break;
      this.held.shift();
      this.write?.(first.data, first.options);
      if (first.send !== null) {
        const frame = this.sends.get(first.send);
        if (frame) {
          frame.written = true;
          frame.resolve();
        }
      }
    }
    if (this.waiting.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

/** Held acks wait under their own key: a message id may also have a held delivery receipt. */
function ackKey(messageId: string): string {
  return `ack:${messageId}`;
}

/** A sent message's frame (or a pre-key upload's) waits under its own key for its keys to be stored. */
function sendKey(messageId: string): string {
  return `keys:${messageId}`;
}

function isSendKey(key: string): boolean {
  return key.startsWith('keys:');
}

function sendFrame(): SendFrame {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting yet when it is dropped.
  done.catch(() => undefined);
  return { written: false, done, resolve, reject };
}
