import type { ScreenlockSetting } from '@vigil/shared';
import type { ScreenlockPolicy, Severity } from '@vigil/shared/policy';
import { uniqueBySubject, type Finding, type JsonObject } from './finding.js';

/**
 * `screenlock.noncompliant`, per user (and desktop): the lock is disabled, the idle timeout is 0
 * (never) or above `maxIdleSeconds`, the grace period is above `maxGraceSeconds`, or no password is
 * required on wake when the policy requires one.
 *
 * A setting the agent could not read (`unknown`) is never counted as non-compliant: it is listed
 * under `details.unknown` of a finding that has known breaches, and a user with no known breach but
 * some unknown settings is returned in `unknowns` instead of `findings`, so "we cannot tell" is
 * reported apart from "it is wrong" (the host page shows it; it raises no alert).
 */

/** What the evaluator needs from the host's effective policy. */
export interface ScreenlockRuleSettings {
  screenlock: ScreenlockPolicy;
  severity: Severity;
}

type Field = 'enabled' | 'idleTimeoutSeconds' | 'graceSeconds' | 'passwordRequired';

export type ScreenlockBreach = {
  field: Field;
  /** `disabled`, `never-locks`, `above-maximum`, `no-password`. */
  problem: 'disabled' | 'never-locks' | 'above-maximum' | 'no-password';
  value: number | boolean;
  /** The policy's limit for threshold breaches, null for the others. */
  maximum: number | null;
  message: string;
};

/** A user whose settings show no breach, but some of which could not be read. */
export interface ScreenlockUnknown {
  subject: string;
  user: string;
  desktop: string | null;
  /** Field → the agent's reason it could not read it. */
  unknown: Partial<Record<Field, string>>;
}

export interface ScreenlockEvaluation {
  findings: Finding[];
  unknowns: ScreenlockUnknown[];
}

/** `screenlock:<user>` or `screenlock:<user>@<desktop>`. */
export const screenlockSubject = (s: Pick<ScreenlockSetting, 'user' | 'desktop'>): string =>
  s.desktop ? `screenlock:${s.user}@${s.desktop}` : `screenlock:${s.user}`;

function breachesOf(s: ScreenlockSetting, policy: ScreenlockPolicy): ScreenlockBreach[] {
  const breaches: ScreenlockBreach[] = [];
  if (s.enabled.status === 'known' && !s.enabled.value) {
    breaches.push({ field: 'enabled', problem: 'disabled', value: false, maximum: null, message: 'the screen lock is disabled' });
  }
  if (s.idleTimeoutSeconds.status === 'known') {
    const value = s.idleTimeoutSeconds.value;
    const maximum = policy.maxIdleSeconds;
    if (value === 0) breaches.push({ field: 'idleTimeoutSeconds', problem: 'never-locks', value, maximum, message: 'the idle timeout is 0: the screen never locks when idle' });
    else if (value > maximum) breaches.push({ field: 'idleTimeoutSeconds', problem: 'above-maximum', value, maximum, message: `the idle timeout is ${value} s, above the maximum of ${maximum} s` });
  }
  if (s.graceSeconds.status === 'known' && s.graceSeconds.value > policy.maxGraceSeconds) {
    const value = s.graceSeconds.value;
    breaches.push({ field: 'graceSeconds', problem: 'above-maximum', value, maximum: policy.maxGraceSeconds, message: `the grace period is ${value} s, above the maximum of ${policy.maxGraceSeconds} s` });
  }
  if (policy.requirePassword && s.passwordRequired.status === 'known' && !s.passwordRequired.value) {
    breaches.push({ field: 'passwordRequired', problem: 'no-password', value: false, maximum: null, message: 'no password is required to unlock' });
  }
  return breaches;
}

function unknownsOf(s: ScreenlockSetting): Partial<Record<Field, string>> {
  const out: Partial<Record<Field, string>> = {};
  for (const field of ['enabled', 'idleTimeoutSeconds', 'graceSeconds', 'passwordRequired'] as const) {
    const f = s[field];
    if (f.status === 'unknown') out[field] = f.reason;
  }
  return out;
}

/** Evaluates the screen-lock settings reported for one host. */
export function evaluateScreenlock(settings: readonly ScreenlockSetting[], rule: ScreenlockRuleSettings): ScreenlockEvaluation {
  const findings: Finding[] = [];
  const unknowns: ScreenlockUnknown[] = [];
  for (const s of settings) {
    const subject = screenlockSubject(s);
    const breaches = breachesOf(s, rule.screenlock);
    const unknown = unknownsOf(s);
    if (breaches.length > 0) {
      const details: JsonObject = { user: s.user, desktop: s.desktop ?? null, breaches: breaches.map((b) => ({ ...b })), unknown: { ...unknown } };
      findings.push({ rule: 'screenlock.noncompliant', subject, severity: rule.severity, details });
    } else if (Object.keys(unknown).length > 0) {
      unknowns.push({ subject, user: s.user, desktop: s.desktop ?? null, unknown });
    }
  }
  return { findings: uniqueBySubject(findings), unknowns };
}
