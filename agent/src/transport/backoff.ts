/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * the wait is uniform in [0, min(max, base·2^attempt)], so a fleet reconnecting after a collector
 * restart spreads out instead of arriving at once.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const cap = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.max(this.baseMs / 2, Math.floor(this.random() * cap));
  }

  reset(): void {
    this.attempt = 0;
  }
}
