import type { AgentEnvelope } from '@vigil/shared';
import type { Rejection } from '../db/ingest-repository.js';
import type { Store } from '../db/store.js';
import { isStorageUnavailable } from '../db/storage-health.js';

/** Where the outcome of a committed batch goes: one per agent connection. */
export interface AckTarget {
  readonly agentId: string;
  readonly hostId: string;
  /** Called after commit with the highest seq committed from this target and the rejections among them. */
  committed(upToSeq: number, rejected: { seq: number; code: string }[]): void;
  /** Called when the commit failed: nothing from this batch is stored and nothing is acked. */
  failed(err: unknown): void;
}

type Item =
  | { kind: 'message'; target: AckTarget; env: AgentEnvelope; json: string | undefined }
  | { kind: 'reject'; target: AckTarget; rejection: Rejection };

/** What else happens to each stored message inside the batch's transaction (the policy engine). */
export interface IngestHooks {
  /** A newly stored message (not a duplicate), inside the transaction. Must not throw. */
  onStored(hostId: string, env: AgentEnvelope, at: number): void;
  /** The batch committed. */
  afterCommit(): void;
  /** The batch rolled back. */
  afterRollback(): void;
}

/** What one committed batch did, for metrics. */
export interface BatchOutcome {
  /** Items in the batch (messages and rejections). */
  size: number;
  /** Time inside the transaction, commit included. */
  seconds: number;
  stored: number;
  duplicates: number;
  rejected: number;
}

/** Where batch outcomes are counted (the metrics plugin's; optional). Called once per batch. */
export interface IngestMetrics {
  batchCommitted(outcome: BatchOutcome): void;
  batchFailed(): void;
}

export interface IngestStats {
  batches: number;
  stored: number;
  duplicates: number;
  rejected: number;
  failedBatches: number;
}

/**
 * A commit has a cost of its own, whatever the batch: the WAL sync, and the pages every batch
 * touches (an agent's row, the install counts a snapshot's ~1,000 packages move). The queue
 * commits at the next turn of the event loop, unless the last batch was a few heavy frames: a
 * fleet enrolling sent batches of ~3.5 snapshots taking ~11 ms each (a 10,000-agent ramp, from
 * /metrics), a third of it in COMMIT. After a transaction of `LINGER_FROM_MS` or more that took
 * `HEAVY_ITEM_MS` or more per frame, the next batch waits as long as that one took (at most
 * `MAX_LINGER_MS`, or until `maxBatch` frames are queued), gathering what arrives meanwhile into
 * one commit; their acks wait that much longer. Batches of many light frames (a busy fleet's
 * session changes) never wait: the event loop is busy with them, and waiting would idle it.
 */
export const LINGER_FROM_MS = 2;
export const HEAVY_ITEM_MS = 0.5;
export const MAX_LINGER_MS = 20;

/**
 * Batches messages from every connection into one SQLite transaction, then acks each
 * connection up to the highest seq committed from it. Acks only ever follow a commit.
 */
export class IngestQueue {
  private items: Item[] = [];
  private scheduled = false;
  /** How long the next batch waits for more frames (ms): see `LINGER_FROM_MS`. */
  private lingerMs = 0;
  readonly stats: IngestStats = { batches: 0, stored: 0, duplicates: 0, rejected: 0, failedBatches: 0 };

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void,
    private readonly maxBatch = 2000,
    private readonly hooks?: IngestHooks,
    private readonly metrics?: IngestMetrics,
  ) {}

  get length(): number {
    return this.items.length;
  }

  /**
   * Queues an accepted message. `json`: its body serialised, if the caller has it; otherwise the
   * store serialises it when (and as) it stores it, e.g. a snapshot without its package objects.
   */
  message(target: AckTarget, env: AgentEnvelope, json?: string): void {
    this.push({ kind: 'message', target, env, json });
  }

  reject(target: AckTarget, rejection: Rejection): void {
    this.push({ kind: 'reject', target, rejection });
  }

  private push(item: Item): void {
    this.items.push(item);
    if (this.items.length >= this.maxBatch) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      if (this.lingerMs === 0) setImmediate(() => this.flush());
      else setTimeout(() => this.flush(), this.lingerMs);
    }
  }

  /** Commit everything queued so far, then ack. Safe to call at any time (also on shutdown). */
  flush(): void {
    this.scheduled = false;
    if (this.items.length === 0) return;
    const batch = this.items;
    this.items = [];
    const now = Date.now();
    const outcome = new Map<AckTarget, { upTo: number; rejected: { seq: number; code: string }[] }>();
    let stored = 0;
    let duplicates = 0;
    let rejected = 0;
    const started = performance.now();
    try {
      this.store.transaction(() => {
        const ingest = this.store.ingest.batch(now);
        for (const item of batch) {
          let o = outcome.get(item.target);
          if (!o) outcome.set(item.target, (o = { upTo: 0, rejected: [] }));
          if (item.kind === 'message') {
            if (ingest.store(item.target.agentId, item.target.hostId, item.env, item.json)) {
              stored++;
              this.hooks?.onStored(item.target.hostId, item.env, now);
            } else duplicates++;
            o.upTo = Math.max(o.upTo, item.env.seq);
          } else {
            if (ingest.reject(item.rejection)) rejected++;
            const seq = item.rejection.seq;
            if (seq !== null) {
              o.upTo = Math.max(o.upTo, seq);
              o.rejected.push({ seq, code: item.rejection.code });
            }
          }
        }
        ingest.finish();
      });
    } catch (err) {
      this.hooks?.afterRollback();
      this.stats.failedBatches++;
      this.metrics?.batchFailed();
      // A full or read-only disk is logged once, when the store notices it, not once per batch.
      if (!isStorageUnavailable(err)) this.onError(err);
      for (const target of new Set(batch.map((i) => i.target))) target.failed(err);
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    const ms = seconds * 1000;
    this.lingerMs = ms >= LINGER_FROM_MS && ms / batch.length >= HEAVY_ITEM_MS ? Math.min(ms, MAX_LINGER_MS) : 0;
    this.hooks?.afterCommit();
    this.stats.batches++;
    this.stats.stored += stored;
    this.stats.duplicates += duplicates;
    this.stats.rejected += rejected;
    this.metrics?.batchCommitted({ size: batch.length, seconds, stored, duplicates, rejected });
    for (const [target, o] of outcome) target.committed(o.upTo, o.rejected);
  }
}
