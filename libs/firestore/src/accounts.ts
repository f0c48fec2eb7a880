import type { AccountDoc } from '@wacrm/contracts';

/** A just-added account: waiting for a gateway to connect it, no history yet. */
export function newAccountDoc(name: string, phone: string | null, now: Date): AccountDoc {
  return {
    name,
    phone,
    status: 'connecting',
    qr: null,
    qrExpiresAt: null,
    pairingCode: null,
    ownerInstanceId: null,
    history: {
      status: 'idle',
      threads: 0,
      messages: 0,
      percent: null,
      startedAt: null,
      completedAt: null,
    },
    lastError: null,
    lastConnectedAt: null,
    createdAt: now,
    updatedAt: now,
  };
}
