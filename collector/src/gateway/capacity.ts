import fs from 'node:fs';

/** Descriptors kept free in each process for the database, its WAL, API clients, pipes and logs. */
export const RESERVED_FILES = 1000;

/**
 * How many agent sockets one process may hold: its open-file limit (Node raises the soft limit to
 * the hard one at start) less a reserve. Past it, accept() would fail with EMFILE; the gateway
 * answers 503 VIGIL_ERR_AT_CAPACITY instead and the agent retries later. Unlimited where the limit
 * cannot be read (not Linux).
 */
export function connectionCapacity(limitsFile = '/proc/self/limits'): number {
  let text: string;
  try {
    text = fs.readFileSync(limitsFile, 'utf8');
  } catch {
    return Infinity;
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!m || m[1] === 'unlimited') return Infinity;
  return Math.max(16, Number(m[1]) - RESERVED_FILES);
}
