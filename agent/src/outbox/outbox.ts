import fs from 'node:fs';
import {
  agentEnvelope,
  DROPPABLE_TYPES,
  type AgentCounters,
  type AgentEnvelope,
  type AgentMessageBody,
  type AgentMessageType,
} from '@vigil/shared/agent';
import type { RecoveryReport } from './journal-recovery.js';
import type { Journal, PendingMessage } from './journal.js';
import { silentLogger, type OutboxLogger } from './outbox-logger.js';
import { recoverOutbox } from './outbox-recovery.js';
import { writeState, type OutboxState } from './outbox-state.js';
import type { IndexEntry } from './pending-index.js';
import { encodeRecord } from './record-codec.js';
import { CORRUPT_KEY } from './state-reconciliation.js';

export type { PendingMessage } from './journal.js';
export type { OutboxLogger } from './outbox-logger.js';
export type { RecoveryReport } from './journal-recovery.js';

export interface OutboxOptions {
  /** Directory of the journal; created (mode 0o700) if missing. */
  dir: string;
  /** Budget for pending bytes on disk (default 64 MiB). */
  maxBytes?: number;
  /** A segment file is closed and a new one started past this size (default 4 MiB). */
  segmentBytes?: number;
  /** fsync every commit, state write and directory change (default true). */
  fsync?: boolean;
  logger?: OutboxLogger;
}

/** One message to append: a type and its body. */
export type OutboxItem = { [K in AgentMessageType]: { type: K; body: AgentMessageBody<K> } }[AgentMessageType];

export interface OutboxStats {
  /** Messages in the journal not yet acknowledged. */
  pending: number;
  /** Their size on disk. */
  bytes: number;
  /** Seq of the last message appended (0 if none yet). */
  lastSeq: number;
  /** Every message with seq <= this has been acknowledged, rejected or dropped. */
  ackedSeq: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;
/** Offsets in the index are 32-bit: a segment plus its last record must stay under 4 GiB. */
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
const DROPPABLE = new Set<AgentMessageType>(DROPPABLE_TYPES);

/**
 * The agent's durable outbox: every message gets the next seq and a UUIDv7 and is fsynced to an
 * append-only journal before `append` returns; it leaves the journal only when acknowledged, or
 * when dropped to stay within `maxBytes` (only heartbeats and state samples are ever dropped).
 *
 * Counters: `produced` counts every append that returned (with an envelope or null); `dropped`
 * every message removed without delivery (over budget at append, dropped later to make room, or
 * lost to disk corruption); `acknowledged` and `rejected` the messages an ack removed, rejected
 * ones only under `rejected`. At all times produced = acknowledged + rejected + dropped + pending.
 * `sent` is informational and persisted with the next state write.
 */
export class Outbox {
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly durable: boolean,
    private readonly logger: OutboxLogger,
    private readonly journal: Journal,
    private readonly state: OutboxState,
    private readonly report: RecoveryReport,
  ) {}

  /** Opens the outbox in `opts.dir`, recovering from whatever a crash left behind. Synchronous. */
  static open(opts: OutboxOptions): Outbox {
    const maxBytes = positiveInteger('maxBytes', opts.maxBytes ?? DEFAULT_MAX_BYTES, Number.MAX_SAFE_INTEGER);
    const segmentBytes = positiveInteger('segmentBytes', opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES, MAX_SEGMENT_BYTES);
    const durable = opts.fsync ?? true;
    const logger = opts.logger ?? silentLogger;
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    const { journal, state, report } = recoverOutbox({ dir: opts.dir, segmentBytes, durable, logger });
    const index = journal.index;
    logger.info({ dir: opts.dir, pending: index.count, bytes: index.bytes, nextSeq: state.nextSeq, ackedSeq: state.ackedSeq }, 'outbox: open');
    return new Outbox(opts.dir, maxBytes, durable, logger, journal, state, report);
  }

  /**
   * Appends one message and fsyncs it. Returns its envelope, or null if it was a droppable
   * message and the outbox is over budget.
   */
  append<T extends AgentMessageType>(type: T, body: AgentMessageBody<T>, now: number = Date.now()): AgentEnvelope<T> | null {
    const [envelope] = this.appendMany([{ type, body } as OutboxItem], now);
    return (envelope ?? null) as AgentEnvelope<T> | null;
  }

  /**
   * Appends messages in order with one fsync for the batch (group commit). Each result is the
   * message's envelope, or null where it was dropped. On an I/O error nothing of the batch
   * since the last commit is kept and the error is thrown.
   */
  appendMany(items: readonly OutboxItem[], now: number = Date.now()): (AgentEnvelope | null)[] {
    this.assertOpen();
    const results: (AgentEnvelope | null)[] = [];
    const batch = { firstSeq: this.state.nextSeq, count: 0 };
    let droppedAny = false;
    try {
      for (const item of items) {
        const envelope = agentEnvelope(item.type, this.state.nextSeq, item.body, now) as AgentEnvelope;
        const record = encodeRecord(JSON.stringify(envelope));
        if (this.journal.bytesWithPlanned + record.length > this.maxBytes) {
          if (DROPPABLE.has(item.type)) {
            this.state.counters.produced++;
            this.countDropped(item.type);
            droppedAny = true;
            results.push(null);
            continue;
          }
          this.commit(batch);
          this.makeRoom(record.length);
          if (this.journal.index.bytes + record.length > this.maxBytes) {
            this.logger.warn({ type: item.type, seq: envelope.seq, bytes: record.length, pendingBytes: this.journal.index.bytes, maxBytes: this.maxBytes }, 'outbox: over budget; kept a message that must not be dropped');
          }
        }
        this.journal.place(envelope.seq, item.type, record);
        this.state.nextSeq++;
        batch.count++;
        results.push(envelope);
      }
      this.commit(batch);
    } catch (err) {
      // Nothing placed since the last commit is on disk: give its seqs back.
      this.journal.discard();
      this.state.nextSeq = batch.firstSeq;
      throw err;
    }
    if (droppedAny) this.persist();
    return results;
  }

  /**
   * Un-acknowledged messages with seq > `afterSeq`, in seq order: at most `maxCount`, and at most
   * `maxBytes` of JSON unless the first message alone is larger. Read from disk on demand.
   */
  pending(afterSeq: number, maxCount: number, maxBytes: number = Infinity): PendingMessage[] {
    this.assertOpen();
    if (maxCount <= 0) return [];
    for (;;) {
      const { messages, corrupt } = this.journal.read(this.journal.index.firstAfter(afterSeq), maxCount, maxBytes);
      if (corrupt.length === 0) return messages;
      this.logger.warn({ records: corrupt.map((e) => ({ seq: e.seq, type: e.type })) }, 'outbox: records failed their CRC on read; dropped');
      this.dropDurably(corrupt, () => CORRUPT_KEY);
    }
  }

  /** Counts `count` messages handed to the transport. */
  markSent(count: number): void {
    this.assertOpen();
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`outbox: markSent count must be a non-negative integer, got ${count}`);
    this.state.counters.sent += count;
  }

  /**
   * The collector committed everything up to `upToSeq`: those messages leave the journal,
   * counted as acknowledged, or as rejected where listed in `rejected` (logged with the code).
   * Persists, then deletes segments nothing pending is left in. An ack at or below the previous
   * one is ignored; one beyond the last appended seq is capped to it.
   */
  ack(upToSeq: number, rejected: readonly { seq: number; code: string }[] = []): void {
    this.assertOpen();
    if (!Number.isSafeInteger(upToSeq)) throw new RangeError(`outbox: ack upToSeq must be an integer, got ${upToSeq}`);
    if (upToSeq <= this.state.ackedSeq) return;
    const lastSeq = this.state.nextSeq - 1;
    let upTo = upToSeq;
    if (upTo > lastSeq) {
      this.logger.warn({ upToSeq, lastSeq }, 'outbox: ack beyond the last appended seq; capped');
      upTo = lastSeq;
      if (upTo <= this.state.ackedSeq) return;
    }
    const codes = new Map(rejected.map((r) => [r.seq, r.code]));
    const removed = this.journal.removeThrough(upTo);
    let rejectedCount = 0;
    for (const e of removed) {
      const code = codes.get(e.seq);
      if (code === undefined) continue;
      rejectedCount++;
      this.logger.warn({ seq: e.seq, type: e.type, code }, 'outbox: the collector rejected a message');
    }
    this.state.counters.acknowledged += removed.length - rejectedCount;
    this.state.counters.rejected += rejectedCount;
    this.state.ackedSeq = upTo;
    this.persist();
    this.journal.releaseSegments();
  }

  counters(): AgentCounters {
    return { ...this.state.counters };
  }

  /** Dropped messages by type; `corrupt` counts messages lost to disk corruption. */
  droppedByType(): Record<string, number> {
    return { ...this.state.droppedByType };
  }

  stats(): OutboxStats {
    return { pending: this.journal.index.count, bytes: this.journal.index.bytes, lastSeq: this.state.nextSeq - 1, ackedSeq: this.state.ackedSeq };
  }

  /** What recovery found when this outbox was opened. */
  recoveryReport(): RecoveryReport {
    return { ...this.report };
  }

  /** Persists the counters and closes the journal. Further calls other than close throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.persist();
    } finally {
      this.journal.close();
    }
  }

  /** Commits the records placed in this batch and counts them as produced. */
  private commit(batch: { firstSeq: number; count: number }): void {
    if (batch.count === 0) return;
    this.journal.commit();
    this.state.counters.produced += batch.count;
    batch.firstSeq = this.state.nextSeq;
    batch.count = 0;
  }

  /** Drops the oldest pending droppable messages until `need` more bytes fit, or none are left. */
  private makeRoom(need: number): void {
    const index = this.journal.index;
    const victims: IndexEntry[] = [];
    let bytes = index.bytes;
    for (let i = 0; i < index.count && victims.length < index.droppableCount && bytes + need > this.maxBytes; i++) {
      if (!index.isDroppableAt(i)) continue;
      const e = index.at(i);
      victims.push(e);
      bytes -= e.length;
    }
    if (victims.length === 0) return;
    this.logger.warn({ count: victims.length, firstSeq: victims[0]?.seq, lastSeq: victims.at(-1)?.seq }, 'outbox: over budget; dropped the oldest droppable messages');
    this.dropDurably(victims, (e) => e.type);
  }

  /**
   * Removes pending records for good and counts them as dropped: the state file first records
   * them as dropped (so a crash before the rewrite cannot resend or recount them), then their
   * segments are rewritten without them, then the state file forgets them.
   */
  private dropDurably(entries: readonly IndexEntry[], key: (e: IndexEntry) => string): void {
    const seqs = new Set(entries.map((e) => e.seq));
    this.journal.index.removeSeqs(seqs);
    for (const e of entries) this.countDropped(key(e));
    this.state.dropSeqs = [...new Set([...this.state.dropSeqs, ...seqs])];
    this.persist();
    this.journal.rewriteSegmentsOf(this.state.dropSeqs);
    this.state.dropSeqs = [];
    this.persist();
  }

  private countDropped(key: string): void {
    this.state.counters.dropped++;
    this.state.droppedByType[key] = (this.state.droppedByType[key] ?? 0) + 1;
  }

  private persist(): void {
    writeState(this.dir, this.state, this.durable);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('outbox: closed');
  }
}

function positiveInteger(name: string, value: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new RangeError(`outbox: ${name} must be an integer from 1 to ${max}, got ${value}`);
  return value;
}
