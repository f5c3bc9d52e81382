import fs from 'node:fs';
import path from 'node:path';
import { replaceFileAtomic } from './durable-fs.js';
import { decodeRecord, type RecordHeader } from './record-codec.js';

/**
 * Segment files of the journal: `seg-<first seq, 12+ digits>.log`, each a run of records in
 * increasing seq order. A segment holds only seqs from its name up to (not including) the name of
 * the next segment, so the file of any seq follows from the sorted list of names.
 */

const SEGMENT_NAME = /^seg-(\d{12,16})\.log$/;

/** File name of the segment whose first record has `firstSeq`. */
export function segmentName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(12, '0')}.log`;
}

/** The first seq a segment file name stands for, or null if the name is not a segment's. */
function parseSegmentName(name: string): number | null {
  const m = SEGMENT_NAME.exec(name);
  if (!m?.[1]) return null;
  const seq = Number(m[1]);
  return Number.isSafeInteger(seq) && seq >= 1 ? seq : null;
}

/** First seqs of the segments in `dir`, ascending. */
export function listSegments(dir: string): number[] {
  const seqs: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    const seq = parseSegmentName(name);
    if (seq !== null) seqs.push(seq);
  }
  return seqs.sort((a, b) => a - b);
}

export interface ScannedRecord extends RecordHeader {
  offset: number;
  length: number;
}

export interface BadSpan {
  offset: number;
  length: number;
  reason: string;
}

export interface SegmentScan {
  /** Valid records in file order. */
  records: ScannedRecord[];
  /** Lines that failed their CRC, JSON or envelope check, and a final line with no newline. */
  bad: BadSpan[];
  /** Offset just past the last valid record: everything after it is a torn tail. */
  validEnd: number;
  size: number;
}

/** Reads a segment and checks every record in it. */
export function scanSegment(file: string): SegmentScan {
  const buf = fs.readFileSync(file);
  const records: ScannedRecord[] = [];
  const bad: BadSpan[] = [];
  let validEnd = 0;
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl === -1) {
      bad.push({ offset: pos, length: buf.length - pos, reason: 'partial record (no newline)' });
      break;
    }
    const end = nl + 1;
    const decoded = decodeRecord(buf, pos, end);
    if (decoded.ok) {
      records.push({ seq: decoded.seq, type: decoded.type, offset: pos, length: end - pos });
      validEnd = end;
    } else {
      bad.push({ offset: pos, length: end - pos, reason: decoded.reason });
    }
    pos = end;
  }
  return { records, bad, validEnd, size: buf.length };
}

/** Cuts a torn tail off the end of a segment, durably when `durable`. */
export function truncateSegment(file: string, length: number, durable: boolean): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.ftruncateSync(fd, length);
    if (durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads bytes `[start, end)` of a segment. */
export function readSegmentRange(file: string, start: number, end: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) throw new Error(`outbox: ${path.basename(file)} ends before byte ${end}`);
      got += n;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Rewrites a segment so it holds only the records at `keep` (offset and length in the current
 * file, in file order), via a temporary file, fsync and rename. Returns their new offsets.
 */
export function rewriteSegment(file: string, keep: readonly { offset: number; length: number }[], durable: boolean): number[] {
  const old = fs.readFileSync(file);
  const total = keep.reduce((sum, r) => sum + r.length, 0);
  const out = Buffer.allocUnsafe(total);
  const offsets: number[] = [];
  let pos = 0;
  for (const r of keep) {
    if (r.offset + r.length > old.length) throw new Error(`outbox: ${path.basename(file)} is shorter than its index says`);
    old.copy(out, pos, r.offset, r.offset + r.length);
    offsets.push(pos);
    pos += r.length;
  }
  replaceFileAtomic(file, out, durable);
  return offsets;
}
