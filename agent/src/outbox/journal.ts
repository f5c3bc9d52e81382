import fs from 'node:fs';
import path from 'node:path';
import type { AgentMessageType } from '@vigil/shared/agent';
import { fsyncDir } from './durable-fs.js';
import { PendingIndex, type IndexEntry } from './pending-index.js';
import { RECORD_OVERHEAD, recordJson } from './record-codec.js';
import { readSegmentRange, rewriteSegment, segmentName } from './segment-file.js';
import { SegmentWriter } from './segment-writer.js';

/** A pending message as read back from the journal, ready to send. */
export interface PendingMessage {
  seq: number;
  type: AgentMessageType;
  /** The envelope JSON exactly as appended: this is what goes on the wire. */
  line: string;
  /** UTF-8 length of `line`. */
  bytes: number;
}

export interface JournalRead {
  messages: PendingMessage[];
  /** Records whose bytes no longer match their CRC; the caller must drop them. */
  corrupt: IndexEntry[];
}

/**
 * The segment files on disk plus the index of pending records in them. It knows where records
 * are, not what the counters say: appending, reading back, forgetting acknowledged records,
 * rewriting segments without dropped ones and deleting segments nothing pending is left in.
 * The last segment is the active one and is kept even when everything in it is acknowledged,
 * so its name still bounds the next seq if the state file were ever lost.
 */
export class Journal {
  readonly index = new PendingIndex();
  private readonly writer: SegmentWriter;
  /** Records placed since the last commit; indexed only once they are on disk. */
  private planned: IndexEntry[] = [];
  private plannedLength = 0;

  /** `segments`: first seqs of the segment files already in `dir`, ascending. */
  constructor(
    readonly dir: string,
    segmentBytes: number,
    private readonly durable: boolean,
    private readonly segments: number[],
  ) {
    this.writer = new SegmentWriter(dir, segmentBytes, durable);
  }

  /** Pending bytes on disk plus those placed but not yet committed. */
  get bytesWithPlanned(): number {
    return this.index.bytes + this.plannedLength;
  }

  /** Appends to the last segment from now on (after recovery). */
  resumeLastSegment(): void {
    const last = this.segments.at(-1);
    if (last !== undefined) this.writer.resume(last);
  }

  /** Buffers a record for the next `commit`. */
  place(seq: number, type: AgentMessageType, record: Buffer): void {
    const { offset } = this.writer.place(seq, record);
    this.planned.push({ seq, type, offset, length: record.length });
    this.plannedLength += record.length;
  }

  /** Writes and fsyncs the placed records, then indexes them. All or nothing. */
  commit(): void {
    const planned = this.planned;
    this.planned = [];
    this.plannedLength = 0;
    const created = this.writer.commit();
    this.segments.push(...created);
    for (const e of planned) this.index.push(e);
  }

  /**
   * Reads pending records from position `from` in the index: at most `maxCount`, and no more
   * than `maxBytes` of JSON unless the first record alone is larger (a big message must not
   * block the queue). Each record's CRC is checked again on the way out.
   */
  read(from: number, maxCount: number, maxBytes: number): JournalRead {
    const messages: PendingMessage[] = [];
    const corrupt: IndexEntry[] = [];
    let bytes = 0;
    let i = from;
    const end = this.index.count;
    while (i < end && messages.length + corrupt.length < maxCount) {
      // Take a run of records in the same segment, within the limits, and read it in one go.
      const run: IndexEntry[] = [];
      const segment = this.segmentFor(this.index.seqAt(i));
      const limit = this.segments[this.segments.indexOf(segment) + 1] ?? Infinity;
      while (i < end && messages.length + corrupt.length + run.length < maxCount) {
        const e = this.index.at(i);
        const jsonBytes = e.length - RECORD_OVERHEAD;
        if (e.seq >= limit) break;
        if (messages.length + run.length > 0 && bytes + jsonBytes > maxBytes) return this.finishRun(segment, run, messages, corrupt);
        run.push(e);
        bytes += jsonBytes;
        i++;
      }
      this.finishRun(segment, run, messages, corrupt);
    }
    return { messages, corrupt };
  }

  /** Forgets every pending record with seq <= `seq`; returns them oldest first. */
  removeThrough(seq: number): IndexEntry[] {
    return this.index.removeThrough(seq);
  }

  /**
   * Rewrites each segment holding one of `seqs` so it keeps only its pending records (the index
   * must no longer list the records to remove). A segment left empty is deleted, unless it is
   * the active one.
   */
  rewriteSegmentsOf(seqs: Iterable<number>): void {
    const affected = new Set<number>();
    for (const seq of seqs) {
      const segment = this.findSegment(seq);
      if (segment !== undefined) affected.add(segment);
    }
    for (const segment of [...affected].sort((a, b) => a - b)) {
      const { from, to } = this.pendingRange(segment);
      const isActive = segment === this.segments.at(-1);
      if (from === to && !isActive) {
        this.deleteSegment(segment);
        continue;
      }
      if (isActive) this.writer.detach();
      const keep: IndexEntry[] = [];
      for (let i = from; i < to; i++) keep.push(this.index.at(i));
      const offsets = rewriteSegment(this.file(segment), keep, this.durable);
      offsets.forEach((offset, k) => this.index.setOffset(from + k, offset));
      if (isActive) this.writer.resume(segment);
    }
  }

  /** Deletes every segment but the active one that holds no pending record; returns their first seqs. */
  releaseSegments(): number[] {
    const released: number[] = [];
    for (const segment of this.segments.slice(0, -1)) {
      const { from, to } = this.pendingRange(segment);
      if (from === to) {
        this.deleteSegment(segment, false);
        released.push(segment);
      }
    }
    if (released.length > 0 && this.durable) fsyncDir(this.dir);
    return released;
  }

  /** Throws away the records placed since the last commit. */
  discard(): void {
    this.planned = [];
    this.plannedLength = 0;
    this.writer.discard();
  }

  close(): void {
    this.discard();
    this.writer.close();
  }

  /** The segment a pending seq is in. */
  private segmentFor(seq: number): number {
    const segment = this.findSegment(seq);
    if (segment === undefined) throw new Error(`outbox: no segment holds seq ${seq}`);
    return segment;
  }

  /** The segment a seq belongs in: the last one whose first seq is <= it. */
  private findSegment(seq: number): number | undefined {
    let lo = 0;
    let hi = this.segments.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.segments[mid] ?? 0) <= seq) lo = mid + 1;
      else hi = mid;
    }
    return this.segments[lo - 1];
  }

  private finishRun(segment: number, run: IndexEntry[], messages: PendingMessage[], corrupt: IndexEntry[]): JournalRead {
    const first = run[0];
    const last = run.at(-1);
    if (first && last) {
      const buf = readSegmentRange(this.file(segment), first.offset, last.offset + last.length);
      for (const e of run) {
        const start = e.offset - first.offset;
        const line = recordJson(buf, start, start + e.length);
        if (line === null) corrupt.push(e);
        else messages.push({ seq: e.seq, type: e.type, line, bytes: e.length - RECORD_OVERHEAD });
      }
    }
    return { messages, corrupt };
  }

  /** Index positions [from, to) of the pending records in a segment. */
  private pendingRange(segment: number): { from: number; to: number } {
    const k = this.segments.indexOf(segment);
    const next = this.segments[k + 1] ?? Infinity;
    const from = this.index.firstAfter(segment - 1);
    const to = next === Infinity ? this.index.count : this.index.firstAfter(next - 1);
    return { from, to };
  }

  private deleteSegment(segment: number, syncDir = true): void {
    fs.rmSync(this.file(segment), { force: true });
    this.segments.splice(this.segments.indexOf(segment), 1);
    if (syncDir && this.durable) fsyncDir(this.dir);
  }

  private file(segment: number): string {
    return path.join(this.dir, segmentName(segment));
  }
}
