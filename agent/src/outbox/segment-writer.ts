import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './durable-fs.js';
import { segmentName } from './segment-file.js';

/**
 * Appends records to the active segment with group commit: `place` only buffers a record and says
 * where it will land, `commit` writes every buffered record and fsyncs each file once. Past
 * `segmentBytes` the next record starts a new segment named by its seq. A failed commit is undone
 * (files cut back, new segments deleted), so a batch is on disk entirely or not at all.
 */

interface OpenSegment {
  firstSeq: number;
  /** -1 until the batch that starts the segment commits: the file is created only then. */
  fd: number;
  /** Committed length of the file. */
  size: number;
}

interface BatchPart {
  segment: OpenSegment;
  chunks: Buffer[];
  bytes: number;
  created: boolean;
}

export interface Placement {
  /** First seq (name) of the segment the record goes to. */
  segment: number;
  offset: number;
}

export class SegmentWriter {
  private active: OpenSegment | null = null;
  private batch: BatchPart[] = [];
  /** The active segment when the batch began, to return to if the batch fails. */
  private activeBeforeBatch: OpenSegment | null = null;

  constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly durable: boolean,
  ) {}

  /** Continues appending to an existing segment file (after recovery or a rewrite). */
  resume(firstSeq: number): void {
    this.assertNoBatch('resume');
    this.detach();
    const fd = fs.openSync(this.file(firstSeq), 'a', 0o600);
    this.active = { firstSeq, fd, size: fs.fstatSync(fd).size };
  }

  /** Closes the active segment so it can be rewritten or deleted; the next append starts a new one. */
  detach(): void {
    this.assertNoBatch('detach');
    if (this.active) fs.closeSync(this.active.fd);
    this.active = null;
  }

  /** Buffers a record with this seq; rolls to a new segment first if the active one is full. */
  place(seq: number, record: Buffer): Placement {
    if (this.batch.length === 0) this.activeBeforeBatch = this.active;
    let part = this.batch.at(-1);
    if (part?.segment !== this.active) part = undefined;
    const logical = this.active ? this.active.size + (part?.bytes ?? 0) : 0;
    if (!this.active || (logical > 0 && logical + record.length > this.segmentBytes)) {
      part = this.roll(seq);
    } else if (!part) {
      part = { segment: this.active, chunks: [], bytes: 0, created: false };
      this.batch.push(part);
    }
    const offset = part.segment.size + part.bytes;
    part.chunks.push(record);
    part.bytes += record.length;
    return { segment: part.segment.firstSeq, offset };
  }

  /** Writes and fsyncs everything placed since the last commit; returns the segments it created. */
  commit(): number[] {
    const parts = this.batch;
    if (parts.length === 0) return [];
    try {
      for (const part of parts) {
        // A new segment's file appears only after the records before it are written, so a crash
        // mid-batch can never leave a later segment whose name skips seqs that were not written.
        if (part.segment.fd === -1) {
          part.segment.fd = fs.openSync(this.file(part.segment.firstSeq), 'a', 0o600);
          if (this.durable) fsyncDir(this.dir);
        }
        const data = part.chunks.length === 1 ? (part.chunks[0] as Buffer) : Buffer.concat(part.chunks, part.bytes);
        writeFully(part.segment.fd, data);
        if (this.durable) fs.fsyncSync(part.segment.fd);
      }
    } catch (err) {
      this.undo(parts);
      throw err;
    }
    for (const part of parts) {
      part.segment.size += part.bytes;
      if (part.segment !== this.active) fs.closeSync(part.segment.fd);
    }
    this.batch = [];
    return parts.filter((p) => p.created).map((p) => p.segment.firstSeq);
  }

  /** Throws away everything placed since the last commit. */
  discard(): void {
    if (this.batch.length > 0) this.undo(this.batch);
  }

  /** Closes the active segment; any uncommitted records are discarded. */
  close(): void {
    this.discard();
    this.detach();
  }

  private roll(seq: number): BatchPart {
    let size = 0;
    try {
      size = fs.statSync(this.file(seq)).size;
    } catch {
      // not there yet: created at commit
    }
    const segment: OpenSegment = { firstSeq: seq, fd: -1, size };
    const part: BatchPart = { segment, chunks: [], bytes: 0, created: true };
    this.batch.push(part);
    this.active = segment;
    return part;
  }

  /** Cuts every file of a failed batch back to its committed length; deletes segments it created. */
  private undo(parts: BatchPart[]): void {
    for (const part of parts) {
      try {
        if (part.created) {
          if (part.segment.fd !== -1) fs.closeSync(part.segment.fd);
          fs.rmSync(this.file(part.segment.firstSeq), { force: true });
        } else {
          fs.ftruncateSync(part.segment.fd, part.segment.size);
          if (this.durable) fs.fsyncSync(part.segment.fd);
          if (part.segment !== this.activeBeforeBatch) fs.closeSync(part.segment.fd);
        }
      } catch {
        // Best effort: recovery skips whatever is left of a failed write.
      }
    }
    this.batch = [];
    this.active = this.activeBeforeBatch;
  }

  private assertNoBatch(what: string): void {
    if (this.batch.length > 0) throw new Error(`outbox: cannot ${what} the segment writer with uncommitted records`);
  }

  private file(firstSeq: number): string {
    return path.join(this.dir, segmentName(firstSeq));
  }
}

function writeFully(fd: number, data: Buffer): void {
  let done = 0;
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done);
}
