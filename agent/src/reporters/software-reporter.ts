import type { SoftwareItem } from '@vigil/shared/agent';
import { isUnknown, type ProbeOutcome, type ProbeSources } from '../probes/probe.js';
import { carryForwardUnread, diffSoftware, readSoftwareDetailed, softwareChangeStamp } from '../probes/software/index.js';

export type SoftwareDiff = ReturnType<typeof diffSoftware>;

/**
 * Re-reads the inventory only when the package databases change (a cheap stamp of their mtimes,
 * checked every `checkIntervalMs`) or every `fullIntervalMs` regardless, and reports a diff.
 */
export class SoftwareReporter {
  private timer: NodeJS.Timeout | undefined;
  private stamp = '';
  private lastFull = 0;
  private current: SoftwareItem[] | undefined;
  private busy = false;
  private stopped = false;

  constructor(
    private readonly src: ProbeSources,
    private readonly opts: { checkIntervalMs: number; fullIntervalMs: number; onDiff(diff: SoftwareDiff): void },
  ) {}

  async start(initial: ProbeOutcome<SoftwareItem>): Promise<void> {
    this.current = isUnknown(initial) ? undefined : initial;
    this.stamp = await softwareChangeStamp(this.src).catch(() => '');
    this.lastFull = Date.now();
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Check now; `force` re-reads even if nothing seems to have changed. */
  async check(force = false): Promise<void> {
    if (this.busy || this.stopped) return;
    this.busy = true;
    try {
      const stamp = await softwareChangeStamp(this.src).catch(() => '');
      const due = Date.now() - this.lastFull >= this.opts.fullIntervalMs;
      if (!force && !due && stamp === this.stamp) return;
      this.stamp = stamp;
      this.lastFull = Date.now();
      const { outcome, failedSources } = await readSoftwareDetailed(this.src);
      if (isUnknown(outcome)) {
        this.src.log.warn({ reason: outcome.reason }, 'software inventory unreadable; keeping the last one');
        return;
      }
      // A source that failed this time (an rpm timeout) must not look like everything it had was removed.
      const next = this.current ? carryForwardUnread(this.current, outcome, failedSources) : outcome;
      // Stopped while reading: the outbox may be closed; the next start's snapshot carries it.
      if (this.stopped) return;
      if (this.current) {
        const diff = diffSoftware(this.current, next, { unreadSources: failedSources });
        if (diff.installed.length || diff.removed.length || diff.upgraded.length) this.opts.onDiff(diff);
      } else {
        // Nothing known before (the first read failed): report everything as installed.
        this.opts.onDiff({ installed: next, removed: [], upgraded: [] });
      }
      this.current = next;
    } finally {
      this.busy = false;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.check()
        .catch((err: unknown) => this.src.log.warn({ err: (err as Error).message }, 'software check failed'))
        .finally(() => this.schedule());
    }, this.opts.checkIntervalMs);
  }
}
