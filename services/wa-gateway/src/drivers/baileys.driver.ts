import makeWASocket, { Browsers } from '@whiskeysockets/baileys';
import type { OpenOptions, WaConnection, WaDriver, WaEvents } from './driver.port.js';

export interface BaileysDriverOptions {
  /** WhatsApp's endpoint when undefined; tests point it at a local WebSocket server. */
  waWebSocketUrl?: string;
  connectTimeoutMs?: number;
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
          ? { waWebSocketUrl: driverOptions.waWebSocketUrl }
          : {}),
        ...(driverOptions.connectTimeoutMs !== undefined
          ? { connectTimeoutMs: driverOptions.connectTimeoutMs }
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
