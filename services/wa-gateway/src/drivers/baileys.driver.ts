import makeWASocket, {
  Browsers,
  WA_CERT_DETAILS,
  type UserFacingSocketConfig,
} from '@whiskeysockets/baileys';
import type { OpenOptions, WaConnection, WaDriver, WaEvents } from './driver.port.js';

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
}

const CONSUMED = [
  'connection.update',
  'creds.update',
  'messages.upsert',
  'messaging-history.set',
  'messages.update',
  'message-receipt.update',
  'lid-mapping.update',
] as const;

/** Real Baileys sockets. Baileys never reconnects by itself: the session applies the policy. */
export function baileysDriver(driverOptions: BaileysDriverOptions): WaDriver {
  return {
    name: 'baileys',
    open(options: OpenOptions): WaConnection {
      const socket = makeWASocket({
        auth: options.auth,
        // Baileys is chatty at info; its warnings and errors still reach our logs.
        logger: options.logger.child(
          { lib: 'baileys' },
          { level: options.logger.levelVal > 40 ? options.logger.level : 'warn' },
        ),
        browser: Browsers.ubuntu('wacrm'),
        markOnlineOnConnect: false,
        syncFullHistory: options.syncFullHistory,
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
      // ev.process hands over Baileys' buffered batches in order; we keep them in order too.
      let chain = Promise.resolve();
      socket.ev.process((events) => {
        const picked: WaEvents = {};
        for (const name of CONSUMED) {
          if (events[name] !== undefined) Object.assign(picked, { [name]: events[name] });
        }
        if (Object.keys(picked).length === 0) return;
        chain = chain.then(() =>
          options.onEvents(picked).catch((error: unknown) => {
            options.logger.error({ err: error }, 'baileys event handling failed');
          }),
        );
      });
      return {
        sendMessage: (jid, content, { messageId, quoted }) =>
          socket.sendMessage(jid, content, { messageId, ...(quoted ? { quoted } : {}) }),
        logout: () => socket.logout(),
        requestPairingCode: (phone) => socket.requestPairingCode(phone),
        async fetchHistory({ messagesPerThread, anchors }) {
          for (const anchor of anchors) {
            await socket.fetchMessageHistory(messagesPerThread, anchor.key, anchor.timestamp);
          }
        },
        end: () => void socket.end(undefined),
      };
    },
  };
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
