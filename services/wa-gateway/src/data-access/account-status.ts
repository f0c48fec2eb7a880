import type { Firestore } from 'firebase-admin/firestore';
import { Collections, type AccountStatus } from '@wacrm/contracts';
import type { Logger } from '@wacrm/observability';

export interface AccountStatusChange {
  accountId: string;
  status: AccountStatus;
  qr: string | null;
  qrExpiresAt: Date | null;
  pairingCode: string | null;
  phone: string | null;
  ownerInstanceId: string | null;
  lastError: string | null;
  connectedAt: Date | null;
}

/**
 * The direct write of `accounts/{id}` status fields. Ingest owns account documents and applies
 * the `update-account` jobs the gateway emits; until it does, WA_WRITE_ACCOUNT_STATUS keeps this
 * direct write on. It is fenced by the caller, and only updates an existing document.
 */
export class AccountStatusWriter {
  constructor(
    private readonly db: Firestore,
    private readonly logger: Logger,
  ) {}

  async write(change: AccountStatusChange): Promise<void> {
    const fields: Record<string, unknown> = {
      status: change.status,
      qr: change.qr,
      qrExpiresAt: change.qrExpiresAt,
      pairingCode: change.pairingCode,
      ownerInstanceId: change.ownerInstanceId,
      lastError: change.lastError,
      updatedAt: new Date(),
    };
    if (change.phone !== null) fields.phone = change.phone;
    if (change.connectedAt !== null) fields.lastConnectedAt = change.connectedAt;
    try {
      await this.db.collection(Collections.accounts).doc(change.accountId).update(fields);
    } catch (error) {
      // NOT_FOUND: the account document is not there (deleted or a test account); nothing to do.
      if ((error as { code?: number }).code === 5) return;
      this.logger.warn(
        { err: error, accountId: change.accountId },
        'account status write failed; the update-account job still carries it',
      );
    }
  }
}
