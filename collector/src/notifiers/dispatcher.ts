import type { FastifyBaseLogger } from 'fastify';
import type { NotificationTargetKind } from '@vigil/shared';
import type { ClaimResult, NotificationsRepository } from '../db/notifications-repository.js';
import { destination } from './destination.js';
import { describeSendError } from './send-error.js';
import type { OutgoingDelivery, Transport } from './types.js';

/** Exponential backoff with jitter: base, 2×base, 4×base … capped; give up after maxAttempts tries. */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  maxAttempts: number;
  /** ± this fraction of the delay, at random (0.2: 80 %–120 %), never past maxDelayMs. */
  jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 5_000, maxDelayMs: 3_600_000, maxAttempts: 10, jitter: 0.2 };

/** The delay before the next try after `attempts` failed tries (1: the first retry). */
export function retryDelay(attempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40));
  const jittered = exp * (1 - policy.jitter + 2 * policy.jitter * random());
  return Math.round(Math.min(policy.maxDelayMs, Math.max(0, jittered)));
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The part of the repository the dispatcher uses. */
export type DeliveryQueue = Pick<NotificationsRepository, 'claimDue' | 'markDelivered' | 'scheduleRetry' | 'markFailed'>;

export interface DispatcherTuning {
  /** Most deliveries claimed per round. */
  batchSize: number;
  /** Most sends in flight in all. */
  maxInflight: number;
  /** Most sends in flight to one target: a slow target holds only these. */
  perTargetInflight: number;
  /** A send not finished by then is aborted and counts as failed. */
  sendTimeoutMs: number;
  /** A claimed delivery is due again after this if the process dies mid-send; must exceed sendTimeoutMs. */
  leaseMs: number;
  /** Look at the queue at least this often even without a kick. */
  idlePollMs: number;
  /** On stop, how long in-flight sends may finish before they are aborted. */
  stopGraceMs: number;
  /** After the queue itself failed (database error), wait this long. */
  errorBackoffMs: number;
}

export const DEFAULT_TUNING: DispatcherTuning = {
  batchSize: 16,
  maxInflight: 32,
  perTargetInflight: 2,
  sendTimeoutMs: 10_000,
  leaseMs: 70_000,
  idlePollMs: 60_000,
  stopGraceMs: 2_000,
  errorBackoffMs: 5_000,
};

export interface DispatcherOptions {
  queue: DeliveryQueue;
  transports: Record<NotificationTargetKind, Transport>;
  log: FastifyBaseLogger;
  retry?: Partial<RetryPolicy>;
  tuning?: Partial<DispatcherTuning>;
  now?: () => number;
  timers?: Timers;
  random?: () => number;
}

class ShutdownError extends Error {
  override name = 'AbortError';
  constructor() {
    super('aborted: the collector is shutting down');
  }
}

/**
 * Sends queued deliveries: claims due ones in small batches, sends them concurrently (capped
 * overall and per target), and records each outcome — delivered, a retry after a backoff, or
 * failed after the last attempt. Driven by timers: `kick()` wakes it at once (after a commit
 * that queued something), and it wakes by itself when the next retry is due. It never throws
 * into its caller; database errors are logged and retried.
 */
export class Dispatcher {
  private readonly queue: DeliveryQueue;
  private readonly transports: Record<NotificationTargetKind, Transport>;
  private readonly log: FastifyBaseLogger;
  private readonly retry: RetryPolicy;
  private readonly tuning: DispatcherTuning;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly random: () => number;

  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private timer: unknown;
  private timerAt = Infinity;
  private readonly inflight = new Map<number, Promise<void>>();
  private readonly perTarget = new Map<string, number>();
  private readonly stopping = new AbortController();

  constructor(opts: DispatcherOptions) {
    this.queue = opts.queue;
    this.transports = opts.transports;
    this.log = opts.log;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    const tuning = { ...DEFAULT_TUNING, ...opts.tuning };
    this.tuning = { ...tuning, leaseMs: Math.max(tuning.leaseMs, tuning.sendTimeoutMs + 1_000) };
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? realTimers;
    this.random = opts.random ?? Math.random;
  }

  /** Sends in flight now. */
  get inflightCount(): number {
    return this.inflight.size;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Start sending: whatever is already due (left from before a restart) goes first. */
  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'running';
    this.wake(0);
  }

  /** Look at the queue at once (coalesced: many kicks, one round). Safe to call inside a transaction: the round runs after it. */
  kick(): void {
    if (this.state === 'running') this.wake(0);
  }

  /**
   * Stop claiming; let in-flight sends finish for up to stopGraceMs, then abort them (they stay
   * pending and are sent again after the next start). Nothing touches the queue after this resolves.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.clearTimer();
    if (this.inflight.size > 0) await this.settledWithin(this.tuning.stopGraceMs);
    this.stopping.abort(new ShutdownError());
    if (this.inflight.size > 0) await this.settledWithin(Math.min(this.tuning.stopGraceMs, 1_000));
    this.state = 'stopped';
    for (const [kind, t] of Object.entries(this.transports)) {
      try {
        t.close();
      } catch (err) {
        this.log.warn({ err, kind }, 'notification transport did not close cleanly');
      }
    }
  }

  private settledWithin(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = this.timers.setTimeout(resolve, ms);
      void Promise.allSettled([...this.inflight.values()]).then(() => {
        this.timers.clearTimeout(t);
        resolve();
      });
    });
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Run a round in `delayMs` unless one is already due sooner. */
  private wake(delayMs: number): void {
    if (this.state !== 'running') return;
    const at = this.now() + delayMs;
    if (this.timer !== undefined && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = this.timers.setTimeout(() => this.round(), delayMs);
  }

  private round(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.state !== 'running') return;
    const room = this.tuning.maxInflight - this.inflight.size;
    if (room <= 0) return; // a finishing send wakes the next round
    const now = this.now();
    let result: ClaimResult;
    try {
      result = this.queue.claimDue(now, {
        limit: Math.min(room, this.tuning.batchSize),
        leaseMs: this.tuning.leaseMs,
        room: (targetId) => this.tuning.perTargetInflight - (this.perTarget.get(targetId) ?? 0),
      });
    } catch (err) {
      this.log.error({ err }, 'notification queue: could not claim deliveries');
      this.wake(this.tuning.errorBackoffMs);
      return;
    }
    if (result.unusable > 0) this.log.error({ count: result.unusable }, 'notification deliveries failed: their target or payload is damaged');
    for (const d of result.claimed) this.launch(d);
    const next = result.nextDueAt === null ? this.tuning.idlePollMs : Math.max(0, result.nextDueAt - now);
    this.wake(Math.min(next, this.tuning.idlePollMs));
  }

  private launch(d: OutgoingDelivery): void {
    if (this.inflight.has(d.id)) return; // a lease that ran out under a send that is still going
    const targetId = d.target.id;
    this.perTarget.set(targetId, (this.perTarget.get(targetId) ?? 0) + 1);
    const p = this.send(d)
      .catch((err: unknown) => this.log.error({ err, deliveryId: d.id }, 'notification dispatcher: unexpected error'))
      .finally(() => {
        this.inflight.delete(d.id);
        const left = (this.perTarget.get(targetId) ?? 1) - 1;
        if (left > 0) this.perTarget.set(targetId, left);
        else this.perTarget.delete(targetId);
        this.wake(0);
      });
    this.inflight.set(d.id, p);
  }

  private async send(d: OutgoingDelivery): Promise<void> {
    const ac = new AbortController();
    const timeoutMs = this.tuning.sendTimeoutMs;
    const timer = this.timers.setTimeout(() => ac.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    const onStop = () => ac.abort(this.stopping.signal.reason);
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    // Settles when the signal aborts even if a transport ignores it, so a send can never hang its slot.
    const aborted = new Promise<never>((_, reject) => ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true }));
    aborted.catch(() => undefined);
    let error: unknown = null;
    try {
      await Promise.race([this.transports[d.target.kind].send(d, ac.signal), aborted]);
    } catch (err) {
      error = err ?? new Error('send failed');
    } finally {
      this.timers.clearTimeout(timer);
      this.stopping.signal.removeEventListener('abort', onStop);
    }
    this.record(d, error);
  }

  private record(d: OutgoingDelivery, error: unknown): void {
    if (this.state === 'stopped') return; // the database may be closed by now
    const now = this.now();
    const fields = { deliveryId: d.id, targetId: d.target.id, target: d.target.name, destination: destination(d.target), attempt: d.attempts };
    try {
      if (error === null) {
        this.queue.markDelivered(d.id, now);
        this.log.debug(fields, 'notification delivered');
        return;
      }
      const reason = describeSendError(error);
      if (error instanceof ShutdownError) {
        this.queue.scheduleRetry(d.id, reason, now);
      } else if (d.attempts >= this.retry.maxAttempts) {
        this.queue.markFailed(d.id, reason);
        this.log.error({ ...fields, error: reason }, 'notification delivery failed: giving up');
      } else {
        const delayMs = retryDelay(d.attempts, this.retry, this.random);
        this.queue.scheduleRetry(d.id, reason, now + delayMs);
        this.log.warn({ ...fields, error: reason, retryInMs: delayMs }, 'notification delivery failed: will retry');
      }
    } catch (err) {
      this.log.error({ err, deliveryId: d.id }, 'notification queue: could not record the outcome of a send');
    }
  }
}
