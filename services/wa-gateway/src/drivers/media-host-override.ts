import { connect as tlsConnect } from 'node:tls';
import { Agent as UndiciAgent } from 'undici';

/**
 * Baileys' media options that connect every media host to one loopback address (the WhatsApp
 * network emulator's CDN): downloads — history chunks come from https://mmg.whatsapp.net whatever
 * media_conn says — go through `options.dispatcher`. TLS still checks the host name Baileys asked
 * for, against the CA the process trusts (NODE_EXTRA_CA_CERTS: the emulator's media CA). Uploads go
 * to the host media_conn names, which the emulator points at its CDN already.
 */
export function mediaHostOverride(hostPort: string): {
  options: { dispatcher: UndiciAgent };
  close: () => Promise<void>;
} {
  const separator = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, separator);
  const port = Number(hostPort.slice(separator + 1));
  const dispatcher = new UndiciAgent({
    connect: (opts, callback) => {
      const socket = tlsConnect({
        host,
        port,
        servername: opts.hostname === host ? undefined : opts.hostname,
        ALPNProtocols: ['http/1.1'],
      });
      socket.once('secureConnect', () => callback(null, socket));
      socket.once('error', (error: Error) => callback(error, null));
    },
  });
  return { options: { dispatcher }, close: () => dispatcher.close() };
}
