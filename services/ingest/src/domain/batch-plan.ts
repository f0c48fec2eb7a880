/** A slice `[from, to)` of one thread's new messages, committed with that thread's document. */
export interface Piece {
  thread: number;
  from: number;
  to: number;
}

export interface PlannedBatch {
  pieces: Piece[];
  /** A slice `[from, to)` of the writes that may go in any commit. */
  loose: { from: number; to: number };
}

export interface PlanInput {
  /** New messages per thread, in the order the threads are written. */
  newMessages: readonly number[];
  /** Whether a thread's document is written even when it has no new messages. */
  mustWrite: readonly boolean[];
  /** Writes that need no thread document beside them (updates of existing messages, …). */
  loose: number;
  /** Writes per commit available to the plan (the caller keeps room for its own per-commit writes). */
  capacity: number;
}

/**
 * Packs writes into commits. Each thread's document travels in the same commit as the messages
 * it counts, so a crash between commits leaves counters that match the messages stored; a
 * thread's pieces are in order, so commits must be applied in the order returned.
 */
export function planBatches(input: PlanInput): PlannedBatch[] {
  if (input.capacity < 2) throw new Error('a commit needs room for a message and its thread');
  const batches: Array<{ pieces: Piece[]; used: number }> = [];
  let current: { pieces: Piece[]; used: number } | undefined;
  const open = () => {
    current = { pieces: [], used: 0 };
    batches.push(current);
    return current;
  };
  input.newMessages.forEach((count, thread) => {
    if (count === 0) {
      if (!input.mustWrite[thread]) return;
      const batch = current !== undefined && current.used < input.capacity ? current : open();
      batch.pieces.push({ thread, from: 0, to: 0 });
      batch.used += 1;
      return;
    }
    let from = 0;
    while (from < count) {
      const batch = current !== undefined && input.capacity - current.used >= 2 ? current : open();
      const take = Math.min(count - from, input.capacity - batch.used - 1);
      batch.pieces.push({ thread, from, to: from + take });
      batch.used += take + 1;
      from += take;
    }
  });
  const result: PlannedBatch[] = batches.map((b) => ({
    pieces: b.pieces,
    loose: { from: 0, to: 0 },
  }));
  let next = 0;
  for (let i = 0; i < result.length && next < input.loose; i++) {
    const room = input.capacity - batches[i]!.used;
    const take = Math.min(room, input.loose - next);
    result[i]!.loose = { from: next, to: next + take };
    next += take;
  }
  while (next < input.loose) {
    const take = Math.min(input.capacity, input.loose - next);
    result.push({ pieces: [], loose: { from: next, to: next + take } });
    next += take;
  }
  return result;
}
