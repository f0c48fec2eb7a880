import { describe, expect, it } from 'vitest';
import { StreamSlots } from './stream-slots.js';

describe('StreamSlots', () => {
  it('when a principal holds its limit, then it is refused with RATE_LIMITED until it gives one back', () => {
    const slots = new StreamSlots({ perPrincipal: 2, total: 10 });
    const a1 = slots.acquire('a');
    slots.acquire('a');
    expect(() => slots.acquire('a')).toThrow(/at most 2 open streams/);
    expect(() => slots.acquire('b')).not.toThrow();
    a1();
    a1(); // twice is harmless
    expect(() => slots.acquire('a')).not.toThrow();
    expect(slots.size).toBe(3);
  });

  it('when the server holds its overall limit, then every principal is refused', () => {
    const slots = new StreamSlots({ perPrincipal: 2, total: 3 });
    slots.acquire('a');
    slots.acquire('b');
    const c = slots.acquire('c');
    expect(() => slots.acquire('d')).toThrow(/no free streams/);
    c();
    expect(() => slots.acquire('d')).not.toThrow();
  });
});
