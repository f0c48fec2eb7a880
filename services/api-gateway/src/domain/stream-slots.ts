import { AppError } from '@wacrm/contracts';

/**
 * Open SSE streams on one replica, capped per principal and overall: each stream holds memory,
 * a Redis subscription share and a socket, so no caller may hoard them (issue 15).
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();
  private total = 0;

  constructor(readonly limits: { perPrincipal: number; total: number }) {
    if (limits.perPrincipal < 1 || limits.total < limits.perPrincipal) {
      throw new Error('stream limits: perPrincipal >= 1 and total >= perPrincipal');
    }
  }

  /** Takes a slot for `principalKey`, or throws RATE_LIMITED; the result gives it back once. */
  acquire(principalKey: string): () => void {
    const held = this.open.get(principalKey) ?? 0;
    if (held >= this.limits.perPrincipal) {
      throw new AppError(
        'RATE_LIMITED',
        `at most ${this.limits.perPrincipal} open streams per credential; close one first`,
      );
    }
    if (this.total >= this.limits.total) {
      throw new AppError('RATE_LIMITED', 'this server has no free streams; retry shortly');
    }
    this.open.set(principalKey, held + 1);
    this.total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.open.get(principalKey) ?? 1) - 1;
      if (left === 0) this.open.delete(principalKey);
      else this.open.set(principalKey, left);
    };
  }

  get size(): number {
    return this.total;
  }
}
