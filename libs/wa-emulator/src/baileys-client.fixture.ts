import { Agent as HttpsAgent } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { Agent as UndiciAgent } from 'undici';
import makeWASocket, {
  Browsers,
  BufferJSON,
  initAuthCreds,
  type AuthenticationCreds,
  type AuthenticationState,
  type ConnectionState,
  type SignalDataSet,
  type SignalDataTypeMap,
  type WAMessage,
  type UserFacingSocketConfig,
  type WASocket,
} from '@whiskeysockets/baileys';
import { createLogger } from '@wacrm/observability';

/**
 * Test-only: a real Baileys socket with an in-memory auth state that can be serialised the way a
 * store would (BufferJSON), and a record of what the socket reported.
 */
export class MemoryAuth {
  creds: AuthenticationCreds = initAuthCreds();
  private keys = new Map<string, unknown>();

  state(): AuthenticationState {
    return {
      creds: this.creds,
      keys: {
        get: <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
          const found: { [id: string]: SignalDataTypeMap[T] } = {};
          for (const id of ids) {
            const value = this.keys.get(`${type}:${id}`);
            if (value !== undefined) found[id] = value as SignalDataTypeMap[T];
          }
          return found;
        },
        set: (data: SignalDataSet) => {
          for (const [type, entries] of Object.entries(data)) {
            for (const [id, value] of Object.entries(entries ?? {})) {
              if (value === null || value === undefined) this.keys.delete(`${type}:${id}`);
              else this.keys.set(`${type}:${id}`, value);
            }
          }
        },
      },
    };
  }

  /** A copy through JSON, as if the creds and keys had been saved and loaded by another process. */
  reloaded(): MemoryAuth {
    const copy = new MemoryAuth();
    const text = JSON.stringify(
      { creds: this.creds, keys: [...this.keys.entries()] },
      BufferJSON.replacer,
    );
    const parsed = JSON.parse(text, BufferJSON.reviver) as {
      creds: AuthenticationCreds;
      keys: Array<[string, unknown]>;
    };
    copy.creds = parsed.creds;
    copy.keys = new Map(parsed.keys);
    return copy;
  }
}

export interface ClientRun {
  socket: WASocket;
  startedAt: number;
  qrs: string[];
  /** Resolves with the first QR. */
  qr: Promise<string>;
  /** Resolves with ms from socket creation to `connection: 'open'`. */
  opened: Promise<number>;
  /** Resolves with the DisconnectReason status code of the close. */
  closed: Promise<number | undefined>;
  /** Every message Baileys emitted in `messages.upsert`, in order. */
  messages: WAMessage[];
  /** History bootstraps Baileys emitted (`messaging-history.set`). */
  historySets: number;
  /** Ids of the messages every `messaging-history.set` carried, in order (duplicates kept). */
  historyMessageIds: string[];
  /** LID↔PN mappings the history sets carried (Baileys' buffer may drop them; see README). */
  historyMappings: Array<{ lid: string; pn: string }>;
  /** Chat ids the history sets carried. */
  historyChatIds: string[];
  /** Status updates (`messages.update`) by message id, in order. */
  statuses: Map<string, number[]>;
}

const baileysLogger = createLogger({ service: 'wa-emulator-test', version: '0', level: 'silent' });

/**
 * What a Baileys client needs to use the emulator's media CDN, through Baileys' own options:
 * uploads go over `https.request` with `fetchAgent`, downloads over `fetch` with
 * `options.dispatcher`. The dispatcher trusts the emulator's certificate and connects every host
 * to the CDN, because Baileys fetches history chunks from https://mmg.whatsapp.net whatever
 * media_conn said.
 */
export function emulatorMediaOptions(emulator: {
  mediaHost: string;
  mediaCertPem: string;
}): Pick<UserFacingSocketConfig, 'fetchAgent' | 'options'> & { dispatcher: UndiciAgent } {
  const ca = emulator.mediaCertPem;
  const port = Number(emulator.mediaHost.slice(emulator.mediaHost.lastIndexOf(':') + 1));
  const dispatcher = new UndiciAgent({
    connect: (opts, callback) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        ca,
        servername: opts.hostname === '127.0.0.1' ? undefined : opts.hostname,
        ALPNProtocols: ['http/1.1'],
      });
      socket.once('secureConnect', () => callback(null, socket));
      socket.once('error', (error: Error) => callback(error, null));
    },
  });
  return {
    fetchAgent: new HttpsAgent({ ca }),
    options: { dispatcher },
    dispatcher,
  };
}

export function connectClient(
  url: string,
  auth: MemoryAuth,
  options: { keepAliveIntervalMs?: number; config?: Partial<UserFacingSocketConfig> } = {},
): ClientRun {
  const startedAt = Date.now();
  const socket = makeWASocket({
    ...options.config,
    auth: auth.state(),
    waWebSocketUrl: url,
    logger: baileysLogger,
    browser: Browsers.ubuntu('wacrm-test'),
    markOnlineOnConnect: false,
    syncFullHistory: false,
    connectTimeoutMs: 10_000,
    ...(options.keepAliveIntervalMs !== undefined
      ? { keepAliveIntervalMs: options.keepAliveIntervalMs }
      : {}),
  });
  const qrs: string[] = [];
  let onQr: (qr: string) => void = () => undefined;
  let onOpen: (ms: number) => void = () => undefined;
  let onClose: (code: number | undefined) => void = () => undefined;
  const qr = new Promise<string>((resolve) => (onQr = resolve));
  const closed = new Promise<number | undefined>((resolve) => (onClose = resolve));
  const opened = new Promise<number>((resolve, reject) => {
    onOpen = resolve;
    void closed.then((code) => reject(new Error(`closed with ${code} before open`)));
  });
  opened.catch(() => undefined);
  socket.ev.on('connection.update', (update: Partial<ConnectionState>) => {
    if (update.qr) {
      qrs.push(update.qr);
      onQr(update.qr);
    }
    if (update.connection === 'open') onOpen(Date.now() - startedAt);
    if (update.connection === 'close') {
      const error = update.lastDisconnect?.error as
        { output?: { statusCode?: number } } | undefined;
      onClose(error?.output?.statusCode);
    }
  });
  const run: ClientRun = {
    socket,
    startedAt,
    qrs,
    qr,
    opened,
    closed,
    messages: [],
    historySets: 0,
    historyMessageIds: [],
    historyMappings: [],
    historyChatIds: [],
    statuses: new Map(),
  };
  socket.ev.on('messages.update', (updates) => {
    for (const { key, update } of updates) {
      if (!key.id || typeof update.status !== 'number') continue;
      run.statuses.set(key.id, [...(run.statuses.get(key.id) ?? []), update.status]);
    }
  });
  socket.ev.on('messages.upsert', ({ messages }) => run.messages.push(...messages));
  socket.ev.on('messaging-history.set', ({ messages, chats, lidPnMappings }) => {
    run.historySets += 1;
    run.historyChatIds.push(...chats.map((c) => c.id ?? ''));
    run.historyMessageIds.push(...messages.map((m) => m.key.id ?? ''));
    run.historyMappings.push(...(lidPnMappings ?? []));
  });
  return run;
}
