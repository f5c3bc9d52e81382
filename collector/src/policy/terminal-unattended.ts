import type { SessionState } from '@vigil/shared';
import type { Severity } from '@vigil/shared/policy';
import { uniqueBySubject, type Finding } from './finding.js';

/**
 * `terminal.unattended`: a local session that is idle and still unlocked for longer than the
 * screen lock should allow, so the lock is broken, disabled or inhibited. Remote sessions are
 * not terminals someone can walk up to, so they never count; a session whose locked or idle state
 * the OS does not report (`null`) is not judged either. Time-driven: the lead must re-run it as
 * time passes, not only when a fact arrives.
 */

/** What the evaluator needs from the host's effective policy. */
export interface UnattendedRuleSettings {
  /** Idle and unlocked for longer than this (the effective `unattendedThresholdSeconds`). */
  thresholdSeconds: number;
  severity: Severity;
}

/** `session:<user>@<seat>`, or `session:<user>@<session id>` when the OS names no seat. */
export const sessionSubject = (s: Pick<SessionState, 'user' | 'seat' | 'id'>): string => `session:${s.user}@${s.seat ?? s.id}`;

/** Evaluates the sessions reported for one host at `now` (epoch milliseconds). */
export function evaluateUnattended(sessions: readonly SessionState[], rule: UnattendedRuleSettings, now: number): Finding[] {
  const findings: Finding[] = [];
  for (const s of sessions) {
    if (s.remote || s.locked !== false || s.idle !== true || s.idleSince === undefined) continue;
    const idleMs = now - Date.parse(s.idleSince);
    if (!(idleMs > rule.thresholdSeconds * 1000)) continue;
    findings.push({
      rule: 'terminal.unattended',
      subject: sessionSubject(s),
      severity: rule.severity,
      details: {
        user: s.user,
        sessionId: s.id,
        seat: s.seat ?? null,
        type: s.type ?? null,
        idleSince: s.idleSince,
        idleSeconds: Math.floor(idleMs / 1000),
        thresholdSeconds: rule.thresholdSeconds,
        message: `unlocked and idle for ${Math.floor(idleMs / 1000)} s, longer than the ${rule.thresholdSeconds} s the screen lock should allow`,
      },
    });
  }
  return uniqueBySubject(findings);
}
