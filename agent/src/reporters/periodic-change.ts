/**
 * Read something on an interval and report it only when it changed (compared by a canonical
 * key), so a steady machine sends nothing. Reads never overlap; a failing read goes to `onError`
 * and is simply tried again next time.
 */
export class PeriodicChange<T> {
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private running = false;
  private stopped = false;

  constructor(
    private readonly opts: {
      intervalMs: number;
      read(): Promise<T>;
      key(value: T): string;
      onChange(value: T): void;
      onError(err: unknown): void;
    },
  ) {}

  /** `initial`: what the snapshot already reported, so it is not sent twice. */
  start(initial?: T): void {
    if (initial !== undefined) this.last = this.opts.key(initial);
    this.stopped = false;
    this.schedule();
  }

  /** Read now (e.g. on a collect-now command or a change signal) instead of waiting. */
  async poke(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const value = await this.opts.read();
      const k = this.opts.key(value);
      if (k !== this.last && !this.stopped) {
        this.last = k;
        this.opts.onChange(value);
      }
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.poke()
        .catch((err: unknown) => this.opts.onError(err))
        .finally(() => this.schedule());
    }, this.opts.intervalMs);
  }
}
