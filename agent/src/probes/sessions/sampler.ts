import type { SessionState } from '@vigil/shared/agent';
import { isUnknown, type ProbeOutcome, type ProbeSources } from '../probe.js';
import { readSessions } from './read-sessions.js';

export interface SessionSamplerOptions {
  /** How often the sessions are read locally. Nothing is reported unless they changed. */
  intervalMs: number;
  /** Idle beyond this many seconds counts as idle. */
  idleThresholdSeconds: number;
  /** Called with the first sample, then only when the reported state changes. */
  onChange(sessions: ProbeOutcome<SessionState>): void;
}

/**
 * Keeps `idleSince` fixed while a session stays idle: the first value reported for this idle
 * period wins, so readers that derive it from "idle for N" (Windows minutes, macOS HIDIdleTime)
 * do not make every sample look like a change.
 */
function holdIdleSince(next: ProbeOutcome<SessionState>, previous: ProbeOutcome<SessionState> | undefined): ProbeOutcome<SessionState> {
  if (isUnknown(next) || previous === undefined || isUnknown(previous)) return next;
  const before = new Map(previous.map((s) => [s.id, s]));
  return next.map((s) => {
    const prev = before.get(s.id);
    if (s.idle !== true || prev?.idle !== true) return s;
    const { idleSince: _changing, ...rest } = s;
    return prev.idleSince === undefined ? rest : { ...rest, idleSince: prev.idleSince };
  });
}

/** The reported state in a fixed field order, for comparing one sample with the last report. */
function canonical(outcome: ProbeOutcome<SessionState>): string {
  if (isUnknown(outcome)) return JSON.stringify({ unknown: outcome.reason });
  return JSON.stringify(
    outcome.map((s) => [s.id, s.user, s.locked, s.idle, s.idleSince ?? null, s.remote, s.seat ?? null, s.type ?? null]),
  );
}

/**
 * Samples session state on an interval and reports only changes: locked/unlocked, idle crossing
 * the threshold, sessions starting and ending. Between changes nothing leaves the machine, so no
 * activity timeline does either. The first sample after `start()` is reported.
 */
export class SessionSampler {
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by start() and stop(): a sample from an older run is dropped. */
  private generation = 0;
  private running = false;
  private thresholdSeconds: number;
  private last: { key: string; outcome: ProbeOutcome<SessionState> } | undefined;

  constructor(
    private readonly src: ProbeSources,
    private readonly opts: SessionSamplerOptions,
  ) {
    if (!(opts.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    this.thresholdSeconds = SessionSampler.checkThreshold(opts.idleThresholdSeconds);
  }

  private static checkThreshold(seconds: number): number {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError('idleThresholdSeconds must be a non-negative number');
    return seconds;
  }

  /**
   * Starts sampling now and then every `intervalMs`; starting a running sampler does nothing.
   * The first sample is reported, unless `alreadyReported` (e.g. the sessions of a snapshot just
   * sent) says the same: then only later changes are.
   */
  start(alreadyReported?: ProbeOutcome<SessionState>): void {
    if (this.running) return;
    this.running = true;
    this.last = alreadyReported === undefined ? undefined : { key: canonical(alreadyReported), outcome: alreadyReported };
    const generation = ++this.generation;
    void this.sample(generation);
  }

  /** Stops sampling: clears the timer, and a sample still being read is not reported. */
  stop(): void {
    this.running = false;
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A new threshold (from the collector's config); the next sample uses it. */
  setIdleThreshold(seconds: number): void {
    this.thresholdSeconds = SessionSampler.checkThreshold(seconds);
  }

  private async sample(generation: number): Promise<void> {
    const read = await readSessions(this.src, this.thresholdSeconds, Date.now());
    if (generation !== this.generation) return;
    const outcome = holdIdleSince(read, this.last?.outcome);
    const key = canonical(outcome);
    if (key !== this.last?.key) {
      this.last = { key, outcome };
      try {
        this.opts.onChange(outcome);
      } catch (e) {
        this.src.log.warn({ err: e }, 'session change handler failed');
      }
    }
    // onChange may have stopped (or restarted) the sampler.
    if (generation !== this.generation) return;
    this.timer = setTimeout(() => void this.sample(generation), this.opts.intervalMs);
    this.timer.unref();
  }
}
