import makeWASocket, {
  Browsers,
  getHistoryMsg,
  PROCESSABLE_HISTORY_TYPES,
  proto,
  WA_CERT_DETAILS,
  type AuthenticationState,
  type BaileysEventMap,
  type UserFacingSocketConfig,
  type WAMessage,
} from '@whiskeysockets/baileys';
import { Disconnect } from '../domain/reconnect-policy.js';
import { sendScope, type SendScope } from '../domain/send-scope.js';
import { onMediaRetryAnswers, sendMediaRetryRequest } from './media-retry.js';
import {
  closeError,
  type OpenOptions,
  type WaConnection,
  type WaDriver,
  type WaEvents,
} from './driver.port.js';
import { ReceiptGate } from './receipt-gate.js';

/** Longest a delivery receipt waits for its message to be stored before the socket is given up. */
const RECEIPT_HOLD_MAX_MS = 30_000;
/**
 * Longest the receipt of a history notification waits for its chunk to be downloaded and stored
 * (a chunk may hold thousands of messages) before the socket is given up.
 */
const HISTORY_HOLD_MAX_MS = 5 * 60_000;
/**
 * Longest a sent message's frame waits for the Signal keys it used to be stored (the auth-state
 * store unreachable or overloaded) before the socket is given up and the send fails, to be
 * retried. Frames are Noise-ordered, so everything after it waits too, Baileys' keepalive ping
 * included; Baileys gives a socket up after 35 s without a frame from WhatsApp.
 */
const KEYS_HOLD_MAX_MS = 30_000;
/** Longest end() waits for the events in flight to be stored. */
const DRAIN_MAX_MS = 10_000;

export interface BaileysDriverOptions {
  /**
   * WhatsApp's endpoint when undefined. `{accountId}` in it becomes the account's id, URL-encoded:
   * the WhatsApp network emulator tells accounts apart by `?account={accountId}`.
   */
  waWebSocketUrl?: string;
  connectTimeoutMs?: number;
  /**
   * How Baileys reaches media hosts (uploads: `fetchAgent`; downloads, history chunks included:
   * `options.dispatcher`). Undefined in production; the emulator's CDN needs its own.
   */
  media?: Pick<UserFacingSocketConfig, 'fetchAgent' | 'options'>;
  /** See {@link KEYS_HOLD_MAX_MS}. */
  keysHoldMaxMs?: number;
}

const CONSUMED = [
  'connection.update',
  'creds.update',
  // 'messages.upsert', 'messaging-history.set', 'messages.update' and 'message-receipt.update'
  // are taken as Baileys emits them (see open()).
  'lid-mapping.update',
] as const;

/** Real Baileys sockets. Baileys never reconnects by itself: the session applies the policy. */
export function baileysDriver(driverOptions: BaileysDriverOptions): WaDriver {
  return {
    name: 'baileys',
    open(options: OpenOptions): WaConnection {
      const history = historyOptions(options.syncFullHistory);
      /** History notifications whose chunk Baileys is downloading: their receipts wait for it. */
      const chunksPending: Array<{ chunk: string; id: string }> = [];
      const gate = new ReceiptGate({
        timeoutMs: RECEIPT_HOLD_MAX_MS,
        keysTimeoutMs: driverOptions.keysHoldMaxMs ?? KEYS_HOLD_MAX_MS,
        onFail: (reason) => {
          options.logger.error(
            { reason },
            'receipts withheld; closing the socket for a redelivery',
          );
          void socket.end(closeError(Disconnect.connectionClosed, `receipts withheld: ${reason}`));
        },
      });
      const storeAuthNow = options.storeAuthNow;
      const socket = makeWASocket({
        // Baileys uploads new one-time pre-keys right after setting them: the upload waits until
        // they and the creds that count them are stored, or a crash in between would leave
        // WhatsApp handing out keys this account no longer has.
        auth:
          storeAuthNow === undefined
            ? options.auth
            : onPreKeysSet(options.auth, () => gate.holdUntilStored(storeAuthNow())),
        // Baileys is chatty at info; its warnings and errors still reach our logs. The gate sees
        // its receipt line whatever the level.
        logger: gate.logger(
          options.logger.child(
            { lib: 'baileys' },
            { level: options.logger.levelVal > 40 ? options.logger.level : 'warn' },
          ),
        ),
        ...history,
        ...(options.version !== undefined ? { version: options.version } : {}),
        markOnlineOnConnect: false,
        // Our own sends are not echoed as `messages.upsert`: the conversation gets a send from its
        // outbox document (ingest's record-outbound, and record-send-result at WhatsApp's ack),
        // so the echo was one more wa-inbound job per send that ingest dropped as a duplicate.
        // Sends from the account's other devices still come from WhatsApp as messages.
        emitOwnEvents: false,
        ...(driverOptions.waWebSocketUrl !== undefined
          ? { waWebSocketUrl: socketUrlFor(driverOptions.waWebSocketUrl, options.accountId) }
          : {}),
        ...(driverOptions.connectTimeoutMs !== undefined
          ? { connectTimeoutMs: driverOptions.connectTimeoutMs }
          : {}),
        ...driverOptions.media,
        ...(options.getMessage !== undefined ? { getMessage: options.getMessage } : {}),
        ...(options.msgRetryCounterCache !== undefined
          ? { msgRetryCounterCache: options.msgRetryCounterCache }
          : {}),
      });
      // `socket` is protected in Baileys' types; the gate fails loudly if it is not there.
      gate.attach(
        (socket.ws as unknown as { socket?: Parameters<ReceiptGate['attach']>[0] }).socket,
      );

      // Events are handled one batch at a time, in the order Baileys emits them.
      let chain = Promise.resolve();
      const handle = (picked: WaEvents, messageIds: string[], statusIds: string[] = []) => {
        chain = chain.then(async () => {
          try {
            await options.onEvents(picked);
            gate.stored(messageIds);
            gate.statusStored(statusIds);
          } catch (error) {
            options.logger.error({ err: error }, 'baileys event handling failed');
            const reason = error instanceof Error ? error.message : String(error);
            gate.notStored(messageIds, reason);
            gate.statusNotStored(statusIds, reason);
          }
        });
        return chain;
      };
      const ev = socket.ev;
      const emit = ev.emit.bind(ev);
      ev.emit = (event: keyof BaileysEventMap, data: unknown) => {
        // A received message comes to us as Baileys emits it, never parked in its event buffer
        // (held there through the initial sync, and dropped by end()): its receipt waits for it.
        if (event === 'messages.upsert') {
          const upsert = data as BaileysEventMap['messages.upsert'];
          const ids: string[] = [];
          for (const m of upsert.messages) {
            const id = m.key.id ?? '';
            if (id === '') continue;
            // A history notification stands for its chunk, which Baileys downloads and emits next
            // (messaging-history.set): its receipt waits until the chunk's messages are stored.
            const chunk = chunkOf(m, history.shouldSyncHistoryMessage);
            if (chunk === undefined) ids.push(id);
            else {
              chunksPending.push({ chunk, id });
              gate.waitLonger([id], HISTORY_HOLD_MAX_MS);
            }
          }
          void handle({ 'messages.upsert': upsert }, ids);
          return true;
        }
        if (event === 'messaging-history.set') {
          const set = data as BaileysEventMap['messaging-history.set'];
          const chunk = chunkKey(set.syncType, set.chunkOrder);
          const at = chunksPending.findIndex((p) => p.chunk === chunk);
          const [notification] = chunksPending.splice(at === -1 ? 0 : at, 1);
          void handle({ 'messaging-history.set': set }, notification ? [notification.id] : []);
          return true;
        }
        // A status (a contact's receipt) likewise: Baileys acks the receipt right after emitting
        // it, and WhatsApp drops an acked receipt, so the ack waits until the status is stored.
        if (event === 'messages.update' || event === 'message-receipt.update') {
          // A group's receipts come as message-receipt.update, acked the same way.
          const updates = data as BaileysEventMap['messages.update' | 'message-receipt.update'];
          const ids = updates.map((u) => u.key.id ?? '').filter((id) => id !== '');
          gate.statusEvents(ids);
          void handle({ [event]: updates }, [], ids);
          return true;
        }
        // end() discards what Baileys still buffers: hand it over before the close.
        if (
          event === 'connection.update' &&
          (data as BaileysEventMap['connection.update']).connection === 'close'
        ) {
          ev.flush();
          gate.closed('connection closed');
        }
        return emit(event, data as never);
      };
      ev.process((events) => {
        const picked: WaEvents = {};
        for (const name of CONSUMED) {
          if (events[name] !== undefined) Object.assign(picked, { [name]: events[name] });
        }
        if (Object.keys(picked).length === 0) return;
        void handle(picked, []);
      });
      // The phone answers a re-upload request whenever it can: heard for as long as the socket lives.
      const onAnswer = options.onMediaRetryAnswer;
      if (onAnswer !== undefined) onMediaRetryAnswers(socket, onAnswer);
      /** Everything handed over so far has been handled (bounded: a stuck store must not hang a stop). */
      const drained = () =>
        Promise.race([chain, new Promise<void>((r) => setTimeout(r, DRAIN_MAX_MS).unref())]);
      return {
        async sendMessage(jid, content, { messageId, quoted }) {
          // Baileys writes the frame, then commits the keys it advanced; the gate holds the
          // frame until they are stored, and the send is done once the frame is written.
          const scope: SendScope = { messageId, durable: null };
          try {
            const sent = await sendScope.run(scope, () =>
              socket.sendMessage(jid, content, { messageId, ...(quoted ? { quoted } : {}) }),
            );
            // The frame is released once the keys are stored; written() rejects if the socket
            // is given up first (the keys' deadline, a close).
            if (scope.durable === null) gate.keysStored(messageId);
            else {
              scope.durable.then(
                () => gate.keysStored(messageId),
                (error: Error) => gate.abandon(messageId, error.message),
              );
            }
            await gate.written(messageId);
            return sent;
          } catch (error) {
            // Unwritten, it must never go later: the socket is given up with what it holds.
            gate.abandon(messageId, error instanceof Error ? error.message : String(error));
            throw error;
          }
        },
        logout: () => socket.logout(),
        readMessages: (keys) => socket.readMessages(keys),
        requestPairingCode: (phone) => socket.requestPairingCode(phone),
        async fetchHistory({ messagesPerThread, anchors }) {
          for (const anchor of anchors) {
            await socket.fetchMessageHistory(messagesPerThread, anchor.key, anchor.timestamp);
          }
        },
        async end({ drain = true } = {}) {
          // What Baileys buffers goes to our handler, and what is in flight is stored (its
          // receipts released) before the socket closes.
          ev.flush();
          if (drain) await drained();
          gate.closed('socket ended');
          await socket.end(undefined);
        },
        reuploadMedia: ({ key, mediaKey }) => sendMediaRetryRequest(socket, key, mediaKey),
      };
    },
  };
}

/**
 * The browser identity and history filter. WhatsApp sends the full history (FULL chunks) only to
 * a desktop companion that asked for it, and Baileys' default filter drops FULL chunks: with full
 * history on, the account links as WhatsApp Desktop on macOS and every chunk type is kept.
 */
export function historyOptions(
  syncFullHistory: boolean,
): Required<
  Pick<UserFacingSocketConfig, 'browser' | 'syncFullHistory' | 'shouldSyncHistoryMessage'>
> {
  if (!syncFullHistory) {
    return {
      browser: Browsers.ubuntu('wacrm'),
      syncFullHistory: false,
      // Baileys' default: everything but FULL.
      shouldSyncHistoryMessage: ({ syncType }) =>
        Number(syncType) !== Number(proto.HistorySync.HistorySyncType.FULL),
    };
  }
  return {
    browser: Browsers.macOS('Desktop'),
    syncFullHistory: true,
    shouldSyncHistoryMessage: () => true,
  };
}

/**
 * The chunk a message announces, when it is a history notification Baileys will download and emit
 * as `messaging-history.set` (as its `upsertMessage` and `processMessage` decide: from our own
 * phone, a processable type our filter keeps); undefined for any other message.
 */
function chunkOf(
  message: WAMessage,
  shouldSync: NonNullable<UserFacingSocketConfig['shouldSyncHistoryMessage']>,
): string | undefined {
  if (!message.message || message.key.fromMe !== true) return undefined;
  const notification = getHistoryMsg(message.message);
  const syncType = notification?.syncType;
  if (!notification || syncType === null || syncType === undefined) return undefined;
  if (!PROCESSABLE_HISTORY_TYPES.map(Number).includes(Number(syncType))) return undefined;
  if (!shouldSync(notification)) return undefined;
  return chunkKey(syncType, notification.chunkOrder);
}

function chunkKey(syncType: unknown, chunkOrder: unknown): string {
  return `${Number(syncType)}:${Number(chunkOrder ?? 0)}`;
}

/** The WebSocket URL of one account: `{accountId}` in the template becomes its id, URL-encoded. */
export function socketUrlFor(template: string, accountId: string): string {
  return template.replaceAll('{accountId}', encodeURIComponent(accountId));
}

/** WhatsApp's own certificate root has issuer serial 0; the emulator's preload swaps it for a test root. */
const WHATSAPP_ROOT_SERIAL = 0;

/**
 * Which root Baileys checks the server's certificate chain against in this process: `whatsapp`,
 * or `test` when the emulator's preload (`NODE_OPTIONS=--import …/wa-emulator/dist/preload.js`)
 * was loaded. The test root's private key is published, so a production process must never trust it.
 */
export function certificateRoot(): 'whatsapp' | 'test' {
  return WA_CERT_DETAILS.SERIAL === WHATSAPP_ROOT_SERIAL ? 'whatsapp' : 'test';
}

/** `auth` whose keys call `onSet` right after Baileys sets new one-time pre-keys. */
function onPreKeysSet(auth: AuthenticationState, onSet: () => void): AuthenticationState {
  const keys = auth.keys;
  return {
    get creds() {
      return auth.creds;
    },
    keys: {
      get: (type, ids) => keys.get(type, ids),
      set: (data) => {
        const done = keys.set(data);
        if (Object.values(data['pre-key'] ?? {}).some((key) => key !== null && key !== undefined)) {
          onSet();
        }
        return done;
      },
      ...(keys.clear !== undefined ? { clear: () => keys.clear!() } : {}),
    },
  };
}
