import { removeStaleTmpFiles } from './durable-fs.js';
import { recoverJournal, type RecoveryReport } from './journal-recovery.js';
import type { Journal } from './journal.js';
import type { OutboxLogger } from './outbox-logger.js';
import { initialState, readState, writeState, type OutboxState } from './outbox-state.js';
import { reconcileState } from './state-reconciliation.js';

/**
 * Brings an outbox directory to a consistent state when it is opened: temporary files of an
 * interrupted write are deleted, the journal is rebuilt (torn tail cut, corruption skipped), a
 * drop the state file recorded is finished, the counters and next seq are settled and written,
 * segments nothing pending is left in are deleted, and appends resume on the last segment.
 */
export function recoverOutbox(o: { dir: string; segmentBytes: number; durable: boolean; logger: OutboxLogger }): {
  journal: Journal;
  state: OutboxState;
  report: RecoveryReport;
} {
  const stale = removeStaleTmpFiles(o.dir);
  if (stale.length > 0) o.logger.info({ files: stale }, 'outbox: removed temporary files left by a crash');

  const read = readState(o.dir);
  if (read.status === 'invalid') o.logger.warn({ reason: read.reason }, 'outbox: state file unreadable; starting from the journal alone');
  const stored = read.status === 'ok' ? read.state : initialState();
  const { journal, report } = recoverJournal({ ...o, ackedSeq: stored.ackedSeq, droppedSeqs: new Set(stored.dropSeqs) });
  if (stored.dropSeqs.length > 0) journal.rewriteSegmentsOf(stored.dropSeqs);

  const index = journal.index;
  const state = reconcileState(
    stored,
    {
      pending: index.count,
      appendedSinceState: index.count - index.firstAfter(stored.nextSeq - 1),
      maxSeq: report.maxSeq,
      lastSegment: report.lastSegment,
    },
    o.logger,
  );
  writeState(o.dir, state, o.durable);
  journal.releaseSegments();
  journal.resumeLastSegment();
  return { journal, state, report };
}
