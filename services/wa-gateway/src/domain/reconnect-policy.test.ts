import { describe, expect, it } from 'vitest';
import { backoffDelay, decideOnClose, Disconnect } from './reconnect-policy.js';

const backoff = { baseMs: 1_000, maxMs: 60_000, random: 0.5 };

describe('decideOnClose', () => {
  const table: Array<[string, number | undefined, boolean, string, string, boolean?]> = [
    ['loggedOut', 401, true, 'logged-out', 'logged_out'],
    ['pairing failed', 401, false, 'needs-qr', 'needs_qr'],
    ['forbidden', 403, true, 'stop', 'disconnected'],
    ['outdated WhatsApp Web version', 405, true, 'outdated', 'outdated_client'],
    ['outdated version before pairing', 405, false, 'outdated', 'outdated_client'],
    ['connectionLost/timedOut', 408, true, 'reconnect', 'connecting'],
    ['QR attempts ended', 408, false, 'needs-qr', 'needs_qr', true],
    ['handshake timed out before any QR', 408, false, 'reconnect', 'connecting'],
    ['multideviceMismatch: the login decides', 411, true, 'reconnect', 'connecting'],
    ['connectionClosed', 428, true, 'reconnect', 'connecting'],
    ['connectionClosed before pairing', 428, false, 'reconnect', 'connecting'],
    ['connectionReplaced', 440, true, 'stop', 'disconnected'],
    ['badSession or an error without a code', 500, true, 'reconnect', 'connecting'],
    ['badSession before pairing', 500, false, 'reconnect', 'connecting'],
    ['unavailableService', 503, true, 'reconnect', 'connecting'],
    ['restartRequired', 515, true, 'reconnect', 'connecting'],
    ['restartRequired right after pairing', 515, false, 'reconnect', 'connecting'],
    ['no code (socket died)', undefined, true, 'reconnect', 'connecting'],
    ['unknown code', 499, true, 'reconnect', 'connecting'],
  ];
  for (const [name, code, registered, action, status, qrShown = false] of table) {
    it(`when the socket closes with ${String(code)} (${name}), then the action is ${action}`, () => {
      const decision = decideOnClose({ code, registered, attempt: 0, qrShown }, backoff);
      expect(decision.action).toBe(action);
      expect(decision.status).toBe(status);
    });
  }

  it('when the session was logged out (401), then no attempt count ever makes it reconnect', () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      expect(
        decideOnClose({ code: 401, registered: true, attempt, qrShown: false }, backoff).action,
      ).toBe('logged-out');
    }
  });

  it('when restart is required (515), then the new socket opens with no delay', () => {
    const d = decideOnClose(
      { code: Disconnect.restartRequired, registered: true, attempt: 3, qrShown: false },
      backoff,
    );
    expect(d).toMatchObject({ action: 'reconnect', delayMs: 0 });
  });

  it('when a 500 keeps coming, then the creds are never wiped and the delay stays capped', () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const d = decideOnClose({ code: 500, registered: true, attempt, qrShown: false }, backoff);
      expect(d).toMatchObject({ action: 'reconnect' });
      expect((d as { delayMs: number }).delayMs).toBeLessThanOrEqual(backoff.maxMs);
    }
  });

  it('when a pairing fails (401 before pair-success), then its creds are discarded for a new QR', () => {
    expect(
      decideOnClose({ code: 401, registered: false, attempt: 0, qrShown: true }, backoff),
    ).toMatchObject({ action: 'needs-qr', wipeCreds: true });
  });
});

describe('backoffDelay', () => {
  it('when attempts grow, then the delay doubles up to the cap, with jitter in [exp/2, exp]', () => {
    expect(backoffDelay(0, { ...backoff, random: 0 })).toBe(500);
    expect(backoffDelay(0, { ...backoff, random: 0.999999 })).toBe(1_000);
    expect(backoffDelay(3, { ...backoff, random: 0 })).toBe(4_000);
    expect(backoffDelay(20, { ...backoff, random: 0 })).toBe(30_000);
    expect(backoffDelay(1000, { ...backoff, random: 0.999999 })).toBe(60_000);
  });
});
