import type { RuleId, Severity } from '@vigil/shared/policy';

/** A value that survives `JSON.stringify`/`JSON.parse` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * One breach of one rule on one host, as an evaluator reports it. The alert store keeps one open
 * alert per (host, rule, subject), so `subject` must be stable across evaluations of the same
 * breach (a device key, a session, a user) and readable; `details` says why, may change from one
 * evaluation to the next, and is stored as JSON.
 */
export interface Finding {
  rule: RuleId;
  subject: string;
  severity: Severity;
  details: JsonObject;
  /**
   * False when the breach still stands but was not observed now — an unauthorised device that
   * has been unplugged keeps its alert, whose `lastSeenAt` stays when it was last attached.
   */
  observed?: boolean;
}

/**
 * Collapses findings that share a subject into the first of them, listing the others' details in
 * `details.alsoMatched`, so an evaluator never reports the same (rule, subject) twice.
 */
export function uniqueBySubject(findings: readonly Finding[]): Finding[] {
  const bySubject = new Map<string, Finding>();
  for (const f of findings) {
    const first = bySubject.get(f.subject);
    if (first === undefined) {
      bySubject.set(f.subject, { ...f, details: { ...f.details } });
      continue;
    }
    const also = first.details.alsoMatched;
    first.details.alsoMatched = Array.isArray(also) ? [...also, f.details] : [f.details];
  }
  return [...bySubject.values()];
}
