/** Reading the sessions on this machine with the reader for its OS. */
import { SessionState } from '@vigil/shared/agent';
import { isUnknown, unknown, type ProbeOutcome, type ProbeSources } from '../probe.js';
import { readMacSessions } from './darwin.js';
import { readLinuxSessions } from './linux.js';
import { readWindowsSessions } from './win32.js';

const byId = (a: SessionState, b: SessionState): number => a.id.localeCompare(b.id, 'en', { numeric: true });

/**
 * The sessions on this machine, sorted by id, or `unknown` with why they cannot be read.
 * `now` (epoch ms) is when idleness is measured; it is injectable for tests. Never throws.
 */
export async function readSessions(src: ProbeSources, idleThresholdSeconds: number, now: number = Date.now()): Promise<ProbeOutcome<SessionState>> {
  let outcome: ProbeOutcome<SessionState>;
  try {
    switch (src.platform) {
      case 'linux':
        outcome = await readLinuxSessions(src, idleThresholdSeconds, now);
        break;
      case 'win32':
        outcome = await readWindowsSessions(src, idleThresholdSeconds, now);
        break;
      case 'darwin':
        outcome = await readMacSessions(src, idleThresholdSeconds, now);
        break;
      default:
        return unknown(`session state is not read on ${src.platform}`);
    }
  } catch (e) {
    return unknown(`reading sessions failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (isUnknown(outcome)) return outcome;
  // The schema is the contract: a session it would reject is dropped here, with a warning.
  const valid = outcome.filter((s) => {
    const ok = SessionState.safeParse(s).success;
    if (!ok) src.log.warn({ session: s.id }, 'session state does not fit the schema; not reported');
    return ok;
  });
  return valid.sort(byId);
}
