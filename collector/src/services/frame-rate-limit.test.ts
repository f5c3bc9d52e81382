import { describe, expect, it } from 'vitest';
import { FrameRateLimiter, TokenBucket } from './frame-rate-limit.js';

describe('frame rate limits', () => {
  it('admits a burst, then the rate, and says how long the debt takes to repay', () => {
    const b = new TokenBucket(10, 5, 0);
    for (let i = 0; i < 5; i++) expect(b.take(1, 0)).toBe(0);
    expect(b.take(1, 0)).toBe(100); // one token in debt at 10/s
    expect(b.take(1, 0)).toBe(200);
    expect(b.take(1, 300)).toBe(0); // 3 tokens refilled, 2 owed, 1 taken: even
    expect(b.take(1, 10_000)).toBe(0); // refilled up to the burst only
    for (let i = 0; i < 4; i++) b.take(1, 10_000);
    expect(b.take(1, 10_000)).toBe(100);
  });

  it('tryTake never goes into debt', () => {
    const b = new TokenBucket(1, 2, 0);
    expect(b.tryTake(1, 0)).toBe(true);
    expect(b.tryTake(1, 0)).toBe(true);
    for (let i = 0; i < 100; i++) expect(b.tryTake(1, 0)).toBe(false);
    expect(b.tryTake(1, 1000)).toBe(true); // refused attempts cost nothing
  });

  it('limits frames and bytes, whichever is stricter; a zero rate is no limit', () => {
    const l = new FrameRateLimiter({ framesPerSecond: 1000, frameBurst: 1000, bytesPerSecond: 1000, byteBurst: 1000 }, 0);
    expect(l.take(600, 0)).toBe(0);
    expect(l.take(600, 0)).toBe(200); // bytes: 200 owed at 1000/s
    const none = new FrameRateLimiter({ framesPerSecond: 0, frameBurst: 1, bytesPerSecond: 0, byteBurst: 1 }, 0);
    for (let i = 0; i < 1000; i++) expect(none.take(1e6, 0)).toBe(0);
  });
});
