import type { AccountStatus } from '@wacrm/contracts';

/** Baileys' DisconnectReason codes (numbers, so this pure module needs no Baileys import). */
export const Disconnect = {
  loggedOut: 401,
  forbidden: 403,
  /** `<failure reason="405">`: WhatsApp no longer accepts the client's WhatsApp Web version. */
  clientOutdated: 405,
  connectionLost: 408,
  multideviceMismatch: 411,
  connectionClosed: 428,
  connectionReplaced: 440,
  badSession: 500,
  unavailableService: 503,
  restartRequired: 515,
} as const;

export interface CloseFacts {
  /** DisconnectReason code of the close; undefined when the socket died without one. */
  code: number | undefined;
  /** Whether the account had paired (creds.registered / creds.me) when the socket closed. */
  registered: boolean;
  /** Consecutive reconnects so far without reaching `open`. */
  attempt: number;
  /** Whether this connection showed a QR: 408 then means every QR expired unscanned. */
  qrShown: boolean;
}

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
  /** 0 ≤ random < 1; injected so the table test is deterministic. */
  random: number;
}

export type CloseDecision =
  | { action: 'reconnect'; delayMs: number; status: AccountStatus; reason: string }
  /** 401: the phone removed this device. Creds are wiped and never reused; nothing reconnects. */
  | { action: 'logged-out'; status: 'logged_out'; reason: string }
  /** The creds are unusable or the QR ran out: wait for a human (`connect`/`regenerate-qr`). */
  | { action: 'needs-qr'; status: 'needs_qr'; reason: string; wipeCreds: boolean }
  /**
   * 405: WhatsApp refuses our WhatsApp Web version. The session reads the current version and
   * reconnects once with it if it is newer; otherwise it stops as `outdated_client`.
   */
  | { action: 'outdated'; status: 'outdated_client'; reason: string }
  /** Someone else took the session over (440) or WhatsApp refuses us: stop and report. */
  | { action: 'stop'; status: 'disconnected'; reason: string };

/** Capped exponential backoff with "equal jitter": half fixed, half random. */
export function backoffDelay(attempt: number, settings: BackoffSettings): number {
  const exp = Math.min(settings.maxMs, settings.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (exp / 2) * settings.random);
}

/**
 * What to do when a socket closes: the reconnect policy of issue 3, in one pure function.
 * Creds are discarded only on a definitive answer: a logout (401) of a paired account, or a pairing
 * that failed (401 before pair-success). Baileys reports unknown stream errors and WebSocket errors
 * without a code as 500, so 500 (and 411) reconnect with the creds: if WhatsApp really removed the
 * device, the next login is refused with 401 and that decides.
 */
export function decideOnClose(facts: CloseFacts, backoff: BackoffSettings): CloseDecision {
  const { code, registered, attempt, qrShown } = facts;
  switch (code) {
    case Disconnect.loggedOut:
      if (!registered) {
        return {
          action: 'needs-qr',
          status: 'needs_qr',
          reason: 'pairing failed (401); a new QR is needed',
          wipeCreds: true,
        };
      }
      return { action: 'logged-out', status: 'logged_out', reason: 'logged out from the phone' };
    case Disconnect.connectionReplaced:
      return {
        action: 'stop',
        status: 'disconnected',
        reason: 'connection replaced by another client (440); not fighting for the session',
      };
    case Disconnect.forbidden:
      return {
        action: 'stop',
        status: 'disconnected',
        reason: 'WhatsApp refused the account (403)',
      };
    case Disconnect.clientOutdated:
      return {
        action: 'outdated',
        status: 'outdated_client',
        reason: 'WhatsApp refused this WhatsApp Web version (405); set WHATSAPP_WEB_VERSION',
      };
    case Disconnect.restartRequired:
      // Expected right after pairing: WhatsApp asks for a fresh socket at once.
      return { action: 'reconnect', delayMs: 0, status: 'connecting', reason: 'restart required' };
    case Disconnect.connectionLost:
      if (!registered && qrShown) {
        // Baileys closes with 408 when every QR of the connection expired unscanned: no loop.
        return {
          action: 'needs-qr',
          status: 'needs_qr',
          reason: 'QR expired unscanned',
          wipeCreds: false,
        };
      }
      break;
    default:
      break;
  }
  return {
    action: 'reconnect',
    delayMs: backoffDelay(attempt, backoff),
    status: 'connecting',
    reason: `connection closed (${code ?? 'no code'})`,
  };
}
