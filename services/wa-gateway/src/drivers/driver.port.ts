import type {
  AnyMessageContent,
  CacheStore,
  proto,
  AuthenticationState,
  BaileysEventMap,
  WAMessage,
  WAMessageKey,
} from '@whiskeysockets/baileys';
import type { Logger } from '@wacrm/observability';

/** The socket events the gateway consumes, in Baileys' own shapes (both drivers emit these). */
export type WaEvents = Partial<
  Pick<
    BaileysEventMap,
    | 'connection.update'
    | 'creds.update'
    | 'messages.upsert'
    | 'messaging-history.set'
    | 'messages.update'
    | 'message-receipt.update'
    | 'lid-mapping.update'
  >
>;

export interface OpenOptions {
  accountId: string;
  instanceId: string;
  auth: AuthenticationState;
  logger: Logger;
  syncFullHistory: boolean;
  /** The WhatsApp Web version to announce; Baileys' bundled one when undefined. */
  version?: [number, number, number];
  /** A message this account sent, for a contact's retry receipt Baileys cannot answer from memory. */
  getMessage?: (key: WAMessageKey) => Promise<proto.IMessage | undefined>;
  /** Baileys' retry counts per message, kept by the session across its sockets. */
  msgRetryCounterCache?: CacheStore;
  /**
   * Receives every batch of events. Where the driver can, it acknowledges events to the network
   * only after this resolves, so an event is never lost between socket and queue.
   */
  onEvents(events: WaEvents): Promise<void>;
  /** The phone answered a media re-upload request (any this account sent, on any socket). */
  onMediaRetryAnswer?: (answer: MediaRetryAnswer) => void;
  /**
   * Writes `auth` (its creds as they are now and every key set so far), resolving once stored and
   * rejecting when it never will be: what the driver must not announce to WhatsApp before it is
   * stored (new one-time pre-keys) waits for it.
   */
  storeAuthNow?: () => Promise<void>;
}

/** The phone's answer to a media re-upload request, readable only under the message's media key. */
export interface MediaRetryAnswer {
  /** The message's id (its key's id). */
  messageId: string;
  /** The new direct path; throws `MediaReuploadRefused` when the phone cannot upload it again. */
  read(mediaKey: Buffer): { directPath: string };
}

export interface HistoryAnchor {
  key: WAMessageKey;
  /** Seconds. */
  timestamp: number;
}

/** One open WhatsApp socket of one account. */
export interface WaConnection {
  sendMessage(
    jid: string,
    content: AnyMessageContent,
    options: { messageId: string; quoted?: WAMessage },
  ): Promise<WAMessage | undefined>;
  logout(): Promise<void>;
  /** Digits only, country code first. Returns the code the user types on the phone. */
  requestPairingCode(phoneDigits: string): Promise<string>;
  /** On-demand history: `count` messages before each anchor (the oldest known per thread). */
  fetchHistory(request: {
    threads: number;
    messagesPerThread: number;
    anchors: HistoryAnchor[];
  }): Promise<void>;
  /**
   * Asks the phone to upload a received message's media again (the media server dropped it):
   * resolves once the request is sent. The phone's answer comes later, to `onMediaRetryAnswer`.
   * Drivers without a phone to ask leave it out.
   */
  reuploadMedia?(request: { key: WAMessageKey; mediaKey: Buffer }): Promise<void>;
  /** Tells the contacts these received messages were read (blue ticks; Baileys readMessages). */
  readMessages(keys: WAMessageKey[]): Promise<void>;
  /**
   * Closes the socket without logging out (hand-off, shutdown, lease lost), after handing over
   * the events still buffered and, with `drain` (default), storing those in flight first (bounded)
   * so their receipts go out. Without it the socket closes at once: receipts still held are never
   * sent and WhatsApp delivers those messages again, to the account's next owner.
   */
  end(options?: { drain?: boolean }): void | Promise<void>;
}

/** The port: Baileys against WhatsApp (or a stand-in), or the simulated network. */
export interface WaDriver {
  readonly name: 'baileys';
  open(options: OpenOptions): WaConnection;
}

/** The DisconnectReason carried by a close error (Boom's `output.statusCode`). */
export function disconnectCodeOf(error: unknown): number | undefined {
  const output = (error as { output?: { statusCode?: unknown } } | undefined)?.output;
  return typeof output?.statusCode === 'number' ? output.statusCode : undefined;
}

/** A Boom-shaped close error, as Baileys reports `lastDisconnect.error`. */
export function closeError(code: number, message: string): Error {
  return Object.assign(new Error(message), {
    isBoom: true,
    output: { statusCode: code, payload: { statusCode: code, message } },
  });
}

/** The phone answered a media re-upload request: it cannot upload the file again. */
export class MediaReuploadRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaReuploadRefused';
  }
}
