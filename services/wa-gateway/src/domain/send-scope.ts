import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * One message sent through Baileys, seen from inside it. Baileys encrypts a message, writes its
 * frame, and only then commits the Signal keys it advanced (its key-store transaction wraps the
 * whole relay). The driver runs each send inside this scope; the auth state, called by that
 * commit in the same async context, records here when the keys will be durable, and the driver
 * holds the message's frame until then — a frame never reaches WhatsApp ahead of its keys.
 */
export interface SendScope {
  readonly messageId: string;
  /** Resolves once every key change made during this send is stored; null: none was made. */
  durable: Promise<void> | null;
}

export const sendScope = new AsyncLocalStorage<SendScope>();
