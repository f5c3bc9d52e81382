import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AgentCounters } from '@vigil/shared/agent';
import { replaceFileAtomic } from './durable-fs.js';

/**
 * The outbox's small state file, `state.json`, replaced atomically whenever the acknowledged
 * position or a counter that must never be lost changes. The journal, not this file, says what
 * is pending; `nextSeq` here only guards against reusing a seq whose segment is already deleted.
 */

export const STATE_FILE = 'state.json';

const seqNumber = () => z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const OutboxStateFile = z.object({
  version: z.literal(1),
  /** Every record with seq <= ackedSeq has left the journal (acknowledged, rejected or dropped). */
  ackedSeq: seqNumber(),
  /** The seq the next appended record gets (at least 1). */
  nextSeq: seqNumber().min(1),
  counters: AgentCounters,
  droppedByType: z.record(z.string(), z.number().int().min(0)),
  /**
   * Seqs already counted as dropped whose records may still be in a segment: written before the
   * segments are rewritten without them, cleared after. Recovery finishes the job if a crash
   * came in between, so a dropped record is never resent nor counted twice.
   */
  dropSeqs: z.array(seqNumber()),
});
export type OutboxState = z.infer<typeof OutboxStateFile>;

export function initialState(): OutboxState {
  return {
    version: 1,
    ackedSeq: 0,
    nextSeq: 1,
    counters: { produced: 0, sent: 0, acknowledged: 0, rejected: 0, dropped: 0 },
    droppedByType: {},
    dropSeqs: [],
  };
}

export type StateRead = { status: 'ok'; state: OutboxState } | { status: 'missing' } | { status: 'invalid'; reason: string };

/** Reads `state.json` from the outbox directory. */
export function readState(dir: string): StateRead {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { status: 'invalid', reason: 'not JSON' };
  }
  const parsed = OutboxStateFile.safeParse(json);
  if (!parsed.success) return { status: 'invalid', reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  return { status: 'ok', state: parsed.data };
}

/** Replaces `state.json` atomically (tmp, fsync, rename, fsync the directory when `durable`). */
export function writeState(dir: string, state: OutboxState, durable: boolean): void {
  replaceFileAtomic(path.join(dir, STATE_FILE), JSON.stringify(state) + '\n', durable);
}
