import path from 'node:path';
import { Journal } from './journal.js';
import type { OutboxLogger } from './outbox-logger.js';
import { listSegments, scanSegment, segmentName, truncateSegment, type BadSpan, type SegmentScan } from './segment-file.js';

/**
 * Rebuilds the journal after a restart or a crash. The journal ends at its last valid record:
 * whatever follows (a half-written line, a line with a bad CRC, bytes of a segment created just
 * before the crash) is a torn tail and is cut off. A bad record with valid ones after it is
 * corruption: skipped, logged and counted. Records the state file says are acknowledged or
 * already dropped are not pending.
 */

export interface RecoveryOptions {
  dir: string;
  segmentBytes: number;
  durable: boolean;
  ackedSeq: number;
  /** Seqs counted as dropped whose removal from the segments may not have finished. */
  droppedSeqs: ReadonlySet<number>;
  logger: OutboxLogger;
}

export interface RecoveryReport {
  /** Bytes cut off the end of the journal. */
  tornBytes: number;
  /** Bad records skipped before the end of the journal. */
  corruptRecords: number;
  /** Highest seq of any valid record, acknowledged or not (0 if none). */
  maxSeq: number;
  /** First seq of the last segment file (0 if none): no earlier seq can be next. */
  lastSegment: number;
}

export function recoverJournal(o: RecoveryOptions): { journal: Journal; report: RecoveryReport } {
  const firstSeqs = listSegments(o.dir);
  const journal = new Journal(o.dir, o.segmentBytes, o.durable, [...firstSeqs]);
  const report: RecoveryReport = { tornBytes: 0, corruptRecords: 0, maxSeq: 0, lastSegment: firstSeqs.at(-1) ?? 0 };
  // Index each segment as it is read (only its summary is kept), then decide where the tail is.
  const summaries = firstSeqs.map((seq, k) => {
    const file = path.join(o.dir, segmentName(seq));
    const scan = scanSegment(file);
    const reasons = badBefore(scan, scan.validEnd);
    const nextSegment = firstSeqs[k + 1] ?? Infinity;
    for (const r of scan.records) {
      if (r.seq < seq || r.seq >= nextSegment || r.seq <= report.maxSeq) {
        reasons.push(`@${r.offset}: seq ${r.seq} out of order`);
        continue;
      }
      report.maxSeq = r.seq;
      if (r.seq > o.ackedSeq && !o.droppedSeqs.has(r.seq)) journal.index.push(r);
    }
    return { seq, file, reasons, hasValid: scan.records.length > 0, validEnd: scan.validEnd, size: scan.size, after: scan.bad.filter((b) => b.offset >= scan.validEnd) };
  });
  const lastValid = summaries.findLastIndex((s) => s.hasValid);
  summaries.forEach((s, k) => {
    const tailFrom = k < lastValid ? s.size : k === lastValid ? s.validEnd : 0;
    // Before the journal's end, bad lines after a segment's last valid record are corruption too.
    if (k < lastValid) s.reasons.push(...s.after.map(describe));
    if (s.reasons.length > 0) {
      report.corruptRecords += s.reasons.length;
      o.logger.warn({ segment: segmentName(s.seq), count: s.reasons.length, records: s.reasons.slice(0, 10) }, 'outbox: skipped corrupt records');
    }
    if (tailFrom < s.size) {
      truncateSegment(s.file, tailFrom, o.durable);
      report.tornBytes += s.size - tailFrom;
      o.logger.warn({ segment: segmentName(s.seq), bytes: s.size - tailFrom, records: s.after.slice(0, 10).map(describe) }, 'outbox: cut a torn tail off the journal');
    }
  });
  return { journal, report };
}

function badBefore(scan: SegmentScan, end: number): string[] {
  return scan.bad.filter((b) => b.offset < end).map(describe);
}

function describe(b: BadSpan): string {
  return `@${b.offset}: ${b.reason}`;
}
