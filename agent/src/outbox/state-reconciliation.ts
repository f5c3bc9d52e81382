import type { OutboxLogger } from './outbox-logger.js';
import type { OutboxState } from './outbox-state.js';

/**
 * Brings the state file's counters and next seq in line with what recovery found in the journal.
 *
 * Acknowledged, rejected and dropped only change together with a state write, so they are exact.
 * Appends do not write the state, so `produced` is behind by the records appended since; those
 * are the pending records with seq >= the stored `nextSeq`. Then every produced message is
 * acknowledged, rejected, dropped or pending: if fewer are pending than that says, the missing
 * ones were lost to disk corruption and are counted as dropped under `corrupt`.
 */

/** `droppedByType` key for records lost to disk corruption rather than dropped by policy. */
export const CORRUPT_KEY = 'corrupt';

export interface JournalFacts {
  /** Pending records found in the journal. */
  pending: number;
  /** Of those, how many have seq >= the stored `nextSeq` (appended after the last state write). */
  appendedSinceState: number;
  /** Highest seq of any valid record in the journal. */
  maxSeq: number;
  /** First seq of the last segment file (0 if none). */
  lastSegment: number;
}

export function reconcileState(stored: OutboxState, found: JournalFacts, logger: OutboxLogger): OutboxState {
  const state: OutboxState = structuredClone(stored);
  const c = state.counters;
  c.produced += found.appendedSinceState;
  const expectedPending = c.produced - c.acknowledged - c.rejected - c.dropped;
  const lost = expectedPending - found.pending;
  if (lost > 0) {
    c.dropped += lost;
    state.droppedByType[CORRUPT_KEY] = (state.droppedByType[CORRUPT_KEY] ?? 0) + lost;
    logger.warn({ lost, expectedPending, pending: found.pending }, 'outbox: messages missing from the journal are counted as dropped');
  } else if (lost < 0) {
    c.produced -= lost;
    logger.warn({ extra: -lost, expectedPending, pending: found.pending }, 'outbox: the journal holds more messages than the state file counted');
  }
  state.nextSeq = Math.max(state.nextSeq, state.ackedSeq + 1, found.maxSeq + 1, found.lastSegment);
  state.dropSeqs = [];
  return state;
}
