/**
 * Per-connection frame rate limits: two token buckets (frames and bytes), each refilled at a steady
 * rate up to a burst. A frame has already been read when it is counted, so it is never dropped:
 * the bucket goes into debt and the connection stops reading until the debt is repaid (the
 * sender's frames wait in its socket). A real agent sends a few frames a minute and, after a long
 * time offline, flushes its outbox at most 500 unacknowledged frames at a time (64 MiB of journal
 * at most by default): the defaults admit a whole default outbox within the burst.
 */

export interface FrameRateSettings {
  /** Frames per second refilled (0: no frame limit). */
  framesPerSecond: number;
  /** Frames that may arrive at once before the rate applies. */
  frameBurst: number;
  /** Bytes per second refilled (0: no byte limit). */
  bytesPerSecond: number;
  /** Bytes that may arrive at once before the rate applies. */
  byteBurst: number;
}

export const DEFAULT_FRAME_RATE: FrameRateSettings = {
  framesPerSecond: 2_000,
  frameBurst: 50_000,
  bytesPerSecond: 4 * 1024 * 1024,
  byteBurst: 64 * 1024 * 1024,
};

/** One token bucket that may go into debt. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes `n` tokens only if there are that many (never into debt); whether it did. */
  tryTake(n: number, now: number): boolean {
    if (this.rate <= 0) return true;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Takes `n` tokens (into debt if need be); returns how long (ms) until the debt is repaid, 0 if none. */
  take(n: number, now: number): number {
    if (this.rate <= 0) return 0;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.rate) * 1000);
  }
}

/** The frame and byte buckets of one connection. */
export class FrameRateLimiter {
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(settings: FrameRateSettings, now: number) {
    this.frames = new TokenBucket(settings.framesPerSecond, Math.max(1, settings.frameBurst), now);
    this.bytes = new TokenBucket(settings.bytesPerSecond, Math.max(1, settings.byteBurst), now);
  }

  /** Counts one frame of `bytes`; returns how long (ms) to stop reading, 0 if within the limits. */
  take(bytes: number, now: number): number {
    return Math.max(this.frames.take(1, now), this.bytes.take(bytes, now));
  }
}
