import { describe, expect, it } from 'vitest';
import { fairShare, planOwnership } from './fair-share.js';

const identity = (ids: string[]) => ids;

describe('fairShare', () => {
  it('when 90 accounts and 3 instances, then each may hold 30 plus slack', () => {
    expect(fairShare(90, 3, 1)).toBe(31);
    expect(fairShare(90, 2, 1)).toBe(46);
    expect(fairShare(10, 0, 0)).toBe(10);
    expect(fairShare(0, 3, 1)).toBe(0);
  });
});

describe('planOwnership', () => {
  it('when below the share, then it acquires only up to the share', () => {
    const plan = planOwnership({
      owned: ['a'],
      unowned: ['b', 'c', 'd'],
      share: 3,
      liveInstances: 2,
      maxRelease: 1,
      shuffle: identity,
    });
    expect(plan).toEqual({ acquire: ['b', 'c'], release: [] });
  });

  it('when above the share with a peer alive, then it hands off one account per tick', () => {
    const plan = planOwnership({
      owned: ['c', 'a', 'b', 'd'],
      unowned: [],
      share: 2,
      liveInstances: 2,
      maxRelease: 1,
      shuffle: identity,
    });
    expect(plan).toEqual({ acquire: [], release: ['a'] });
  });

  it('when far above the share, then it hands off at most maxRelease per tick', () => {
    const plan = planOwnership({
      owned: ['a', 'b', 'c', 'd', 'e', 'f'],
      unowned: [],
      share: 2,
      liveInstances: 3,
      maxRelease: 3,
      shuffle: identity,
    });
    expect(plan.release).toEqual(['a', 'b', 'c']);
  });

  it('when above the share but alone, then it keeps everything', () => {
    const plan = planOwnership({
      owned: ['a', 'b', 'c'],
      unowned: [],
      share: 1,
      liveInstances: 1,
      maxRelease: 1,
      shuffle: identity,
    });
    expect(plan.release).toEqual([]);
  });
});
