import { describe, expect, it } from 'vitest';
import { historyMediaDelta, historyMediaProgressView } from './history-media-progress.js';

describe('history media counts', () => {
  it('when a history file changes status, then one leaves the old outcome and one enters the new', () => {
    expect(historyMediaDelta('history', 'pending', 'stored')).toEqual({ stored: 1 });
    expect(historyMediaDelta('backfill', undefined, 'failed')).toEqual({ failed: 1 });
    expect(historyMediaDelta('history', 'expired', 'stored')).toEqual({ expired: -1, stored: 1 });
    expect(historyMediaDelta('history', 'stored', 'pending')).toEqual({ stored: -1 });
  });

  it('when the status stays (a retried job) or the file is live, then nothing moves', () => {
    expect(historyMediaDelta('history', 'failed', 'failed')).toBeNull();
    expect(historyMediaDelta('history', undefined, 'pending')).toBeNull();
    expect(historyMediaDelta('live', 'pending', 'stored')).toBeNull();
  });

  it('when the counts are read, then pending is what the total leaves, never negative', () => {
    const at = new Date();
    expect(
      historyMediaProgressView(340, { stored: 120, failed: 3, expired: 1, updatedAt: at }),
    ).toEqual({ total: 340, stored: 120, pending: 216, failed: 3, expired: 1 });
    expect(historyMediaProgressView(undefined, undefined)).toEqual({
      total: 0,
      stored: 0,
      pending: 0,
      failed: 0,
      expired: 0,
    });
    // Files ended before totals were counted (older accounts).
    expect(
      historyMediaProgressView(1, { stored: 2, failed: 0, expired: 0, updatedAt: at }),
    ).toEqual({
      total: 2,
      stored: 2,
      pending: 0,
      failed: 0,
      expired: 0,
    });
  });
});
