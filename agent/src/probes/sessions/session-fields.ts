/**
 * Fields of a `SessionState` that every OS computes the same way: capped labels, the
 * `idleSince` timestamp format and the idle-beyond-threshold verdict.
 */

/** Longest label the shared schema accepts (`LIMITS.label`). */
const LABEL_MAX = 128;

/** Cap untrusted text (a user or session name) to what the schema accepts. */
export const label = (text: string): string => text.slice(0, LABEL_MAX);

/** ISO 8601 UTC to the second, the form `idleSince` is sent in. */
export function isoSeconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * What a probe may say about a session's idleness: idle beyond the threshold (with since when),
 * not idle beyond it, or `null` when the OS does not say.
 */
export interface IdleVerdict {
  idle: boolean | null;
  /** Set only while idle beyond the threshold: when input last happened. */
  idleSince?: string;
}

/** The OS does not say whether anyone is at this session. */
export const IDLE_UNKNOWN: IdleVerdict = { idle: null };

/**
 * Idle beyond `thresholdSeconds` given the moment input last happened (`lastInputMs`, epoch ms).
 * A last input in the future (clock skew) counts as no idle time at all.
 */
export function idleSinceLastInput(lastInputMs: number, thresholdSeconds: number, nowMs: number): IdleVerdict {
  const idleMs = Math.max(0, nowMs - lastInputMs);
  return idleMs >= thresholdSeconds * 1000 ? { idle: true, idleSince: isoSeconds(lastInputMs) } : { idle: false };
}
