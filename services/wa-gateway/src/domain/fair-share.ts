/** The most accounts one instance should hold: an even split plus a little slack against churn. */
export function fairShare(accounts: number, liveInstances: number, slack: number): number {
  if (accounts === 0) return 0;
  return Math.ceil(accounts / Math.max(1, liveInstances)) + slack;
}

export interface OwnershipPlan {
  /** Unowned accounts to try to acquire now, in order. */
  acquire: string[];
  /** Owned accounts to hand off (release) because this instance holds more than its share. */
  release: string[];
}

/**
 * Decides which accounts to take and which to give up, given what this instance owns, which
 * accounts have no owner at all, and the fair share. Hand-offs go a few per tick so a new
 * instance joining does not make every other instance drop sockets at once.
 */
export function planOwnership(input: {
  owned: readonly string[];
  unowned: readonly string[];
  share: number;
  /** Instance count including this one; over-share hand-off happens only with a peer alive. */
  liveInstances: number;
  /** At most this many hand-offs per tick, so peers take them over gradually. */
  maxRelease: number;
  shuffle: (ids: string[]) => string[];
}): OwnershipPlan {
  const room = Math.max(0, input.share - input.owned.length);
  const acquire = input.shuffle([...input.unowned]).slice(0, room);
  const excess = input.owned.length - input.share;
  const release =
    excess > 0 && input.liveInstances > 1 && input.unowned.length === 0
      ? [...input.owned].sort().slice(0, Math.min(excess, input.maxRelease))
      : [];
  return { acquire, release };
}
