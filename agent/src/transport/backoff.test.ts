import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('grows exponentially up to the cap, with full jitter, and resets', () => {
    const top = new Backoff(500, 8000, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([499, 999, 1999, 3999, 7999, 7999]);
    top.reset();
    expect(top.next()).toBe(499);
    const bottom = new Backoff(500, 8000, () => 0);
    expect(bottom.next()).toBe(250);
  });

  it('spreads a fleet out', () => {
    const waits = Array.from({ length: 1000 }, () => {
      const b = new Backoff(500, 60_000);
      for (let i = 0; i < 6; i++) b.next();
      return b.next();
    });
    const buckets = new Set(waits.map((w) => Math.floor(w / 2000)));
    // attempt 6: uniform over [0, 32 s) — all sixteen 2-second buckets are hit
    expect(buckets.size).toBe(16);
  });
});
