// Counters and latency histograms of a simulation run.

/**
 * Latencies in ms in log-spaced buckets (2 % wide, from 10 µs to ~17 min): percentiles within 2 %
 * without keeping every sample, whatever the run's length.
 */
export class LatencyHistogram {
  static MIN = 0.01;
  static RATIO = Math.log(1.02);

  constructor() {
    this.counts = new Uint32Array(1000);
    this.n = 0;
    this.max = 0;
    this.sum = 0;
  }

  record(ms) {
    const b = ms <= LatencyHistogram.MIN ? 0 : Math.min(this.counts.length - 1, 1 + Math.floor(Math.log(ms / LatencyHistogram.MIN) / LatencyHistogram.RATIO));
    this.counts[b]++;
    this.n++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** Upper edge of the bucket holding the p-th percentile (nearest rank). */
  percentile(p) {
    if (this.n === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b];
      if (seen >= rank) return Math.min(this.max, LatencyHistogram.MIN * Math.exp(b * LatencyHistogram.RATIO));
    }
    return this.max;
  }

  /** The buckets in use, `[[bucket, count], …]`, with n, sum and max: small enough to send over IPC. */
  toJSON() {
    const buckets = [];
    for (let b = 0; b < this.counts.length; b++) if (this.counts[b]) buckets.push([b, this.counts[b]]);
    return { buckets, n: this.n, sum: this.sum, max: this.max };
  }

  /** Adds another histogram's counts (a `toJSON()` of it) to this one. */
  merge(j) {
    for (const [b, c] of j.buckets) this.counts[b] += c;
    this.n += j.n;
    this.sum += j.sum;
    if (j.max > this.max) this.max = j.max;
    return this;
  }

  summary() {
    const r = (x) => (x === null ? null : +x.toFixed(2));
    return { n: this.n, p50: r(this.percentile(50)), p95: r(this.percentile(95)), p99: r(this.percentile(99)), max: r(this.n ? this.max : null), mean: r(this.n ? this.sum / this.n : null) };
  }
}

/** Adds one to `obj[key]`. */
export const bump = (obj, key, by = 1) => {
  obj[key] = (obj[key] ?? 0) + by;
};

export function newStats() {
  return {
    enrolled: 0,
    enrolReused: 0,
    enrolFailed: 0,
    reEnrolled: 0,
    connects: 0,
    reconnects: 0,
    disconnects: 0,
    closeCodes: {},
    socketErrors: {},
    refused: {},
    produced: {},
    sent: {},
    resent: 0,
    acked: 0,
    rejected: 0,
    rejectedByCode: {},
    errorFrames: {},
    dropped: 0,
    commands: 0,
    eventsDueWhileNotReady: 0,
    selfCheck: { checked: 0, failed: 0, failures: [] },
    ackLatency: new LatencyHistogram(),
    /** Like ackLatency, since the last stats({resetWindow: true}). */
    windowAckLatency: new LatencyHistogram(),
    snapshotAckLatency: new LatencyHistogram(),
    /** Like snapshotAckLatency, since the last stats({resetWindow: true}). */
    windowSnapshotAckLatency: new LatencyHistogram(),
  };
}
