import { RULE_IDS, SEVERITIES } from '@vigil/shared/policy';
import type { Policy, PolicyMode, RuleId, ScreenlockPolicy, Severity } from '@vigil/shared/policy';

/** What unattended.thresholdSeconds = null adds to the host's screenlock.maxIdleSeconds. */
export const UNATTENDED_MARGIN_SECONDS = 120;
/** What silent.thresholdSeconds = null multiplies the heartbeat interval by. */
export const SILENT_HEARTBEATS = 3;

/** The settings that apply to one host once its groups' overrides are resolved. */
export interface EffectivePolicy {
  mode: PolicyMode;
  enabled: Record<RuleId, boolean>;
  severities: Record<RuleId, Severity>;
  screenlock: ScreenlockPolicy;
  /** `terminal.unattended` fires for a session idle and unlocked for longer than this. */
  unattendedThresholdSeconds: number;
  /** `agent.silent` fires after this long without a frame (and without a goodbye). */
  silentThresholdSeconds: number;
  /** Indexes into `policy.overrides` of the overrides that matched the host, in document order. */
  matchedOverrides: number[];
}

export interface EffectivePolicyOptions {
  /** The heartbeat interval the collector sends agents (`VIGIL_HEARTBEAT_SECONDS`). */
  heartbeatSeconds: number;
}

/** Picks the stricter of two values of one setting. */
type Stricter<T> = (a: T, b: T) => T;

const lower: Stricter<number> = (a, b) => Math.min(a, b);
const either: Stricter<boolean> = (a, b) => a || b;
const severer: Stricter<Severity> = (a, b) => (SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b);
const enforcing: Stricter<PolicyMode> = (a, b) => (a === 'enforce' || b === 'enforce' ? 'enforce' : 'monitor-only');

/** The strictest of the values the matching overrides give, or `base` when none gives one. */
function resolve<T, B extends T | null>(base: B, values: readonly (T | undefined)[], stricter: Stricter<T>): T | B {
  let chosen: T | undefined;
  for (const v of values) if (v !== undefined) chosen = chosen === undefined ? v : stricter(chosen, v);
  return chosen ?? base;
}

/**
 * Resolves what applies to a host in `groups`. An override matches when the host is in any of its
 * groups (exact, case-sensitive names). A setting no matching override gives keeps the document's
 * value; a setting one override gives replaces it (so an override may relax as well as tighten);
 * when several matching overrides give the same setting, the **strictest wins**: the lower
 * threshold, a required password, an enabled rule, the higher severity, `enforce` over
 * `monitor-only`. Document order therefore never changes the outcome.
 *
 * Derived thresholds are computed after that: `unattended.thresholdSeconds: null` becomes the
 * host's own `maxIdleSeconds + 120`, and `silent.thresholdSeconds: null` becomes 3 × heartbeat.
 */
export function resolveEffectivePolicy(policy: Policy, groups: readonly string[], options: EffectivePolicyOptions): EffectivePolicy {
  const hostGroups = new Set(groups);
  const matchedOverrides: number[] = [];
  policy.overrides.forEach((o, i) => {
    if (o.groups.some((g) => hostGroups.has(g))) matchedOverrides.push(i);
  });
  const matched = matchedOverrides.map((i) => policy.overrides[i]).filter((o) => o !== undefined);

  const enabled = {} as Record<RuleId, boolean>;
  const severities = {} as Record<RuleId, Severity>;
  for (const id of RULE_IDS) {
    enabled[id] = resolve(policy.enabled[id], matched.map((o) => o.enabled?.[id]), either);
    severities[id] = resolve(policy.severities[id], matched.map((o) => o.severities?.[id]), severer);
  }
  const screenlock: ScreenlockPolicy = {
    maxIdleSeconds: resolve(policy.screenlock.maxIdleSeconds, matched.map((o) => o.screenlock?.maxIdleSeconds), lower),
    maxGraceSeconds: resolve(policy.screenlock.maxGraceSeconds, matched.map((o) => o.screenlock?.maxGraceSeconds), lower),
    requirePassword: resolve(policy.screenlock.requirePassword, matched.map((o) => o.screenlock?.requirePassword), either),
  };
  const unattended = resolve(policy.unattended.thresholdSeconds, matched.map((o) => o.unattended?.thresholdSeconds), lower);
  const silent = resolve(policy.silent.thresholdSeconds, matched.map((o) => o.silent?.thresholdSeconds), lower);
  return {
    mode: resolve(policy.mode, matched.map((o) => o.mode), enforcing),
    enabled,
    severities,
    screenlock,
    unattendedThresholdSeconds: unattended ?? screenlock.maxIdleSeconds + UNATTENDED_MARGIN_SECONDS,
    silentThresholdSeconds: silent ?? SILENT_HEARTBEATS * options.heartbeatSeconds,
    matchedOverrides,
  };
}
