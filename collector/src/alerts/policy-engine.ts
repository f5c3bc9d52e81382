import type { AgentEnvelope, AuditAction, CoverageScope, SoftwareItem, CreateExceptionRequest, CreateUsbApprovalRequest, PolicyException, PutPolicyResponse, RuleId, UsbApproval as ApiUsbApproval, UsbBaselineRequest } from '@vigil/shared';
import { RULE_IDS, VigilError, type UsbDevice } from '@vigil/shared';
import { DEFAULT_POLICY, type Policy } from '@vigil/shared/policy';
import type { ActiveException } from '../db/approvals-repository.js';
import { groupsOf, type AlertRow } from '../db/alerts-repository.js';
import { PROBES, type HostState, type Probe, type SoftwareChange, type SoftwareClassifier } from '../db/host-state-repository.js';
import type { Store } from '../db/store.js';
import type { CloneEvidence } from '../services/clone-detector.js';
import { agentClonedFinding } from '../policy/agent-cloned.js';
import { evaluateAgentSilent } from '../policy/agent-silent.js';
import { resolveEffectivePolicy, type EffectivePolicy } from '../policy/effective-policy.js';
import type { Finding } from '../policy/finding.js';
import { parsePolicy } from '../policy/parse-policy.js';
import { evaluateScreenlock } from '../policy/screenlock-noncompliant.js';
import { classifySoftware } from '../policy/software/classify.js';
import { softwareFindings, softwareSubject } from '../policy/software/findings.js';
import { evaluateUnattended } from '../policy/terminal-unattended.js';
import type { UsbApproval } from '../policy/usb-approval.js';
import { evaluateUsb, judgeUsbDevice } from '../policy/usb-unauthorised.js';
import { Allowances } from './allowances.js';
import { LICENCE_RECOUNT_INTERVAL_MS, LicenceCounter } from './licence-counter.js';
import { capFindings, MAX_ALERTS_PER_HOST_RULE, OVERFLOW_SUBJECT } from './finding-caps.js';
import { deviceFromAlert } from './device-from-alert.js';
import { AlertLifecycle, occurrenceKey, type AlertChange, type AlertSinks, type Closure } from './alert-lifecycle.js';
import { isStorageUnavailable, storageErrorCode } from '../db/storage-health.js';

/**
 * The policy engine: judges each host's current facts against the policy in force and keeps the
 * alerts in line (DESIGN.md: "the agent reports facts; the collector judges").
 *
 * When it judges:
 * - on every accepted agent message, inside the ingest transaction, only the rules that message
 *   can change (a USB attach → `usb.unauthorised`; a software diff → the software rules and the
 *   licence counts of the titles it touched), so facts and alerts commit together and an attach
 *   followed at once by a detach still raises its alert;
 * - on a policy change, an approval or exception change, and at start: every host, in slices, off
 *   the ingest path;
 * - on a timer: the time-driven rules (`terminal.unattended`, `agent.silent`) and anything whose
 *   approval, exception or allow rule has just expired.
 *
 * Alert changes are published (live feed, notifications) only after their transaction commits.
 */

const LOG_SOURCE = 'policy-engine';

export interface EngineLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface EngineOptions {
  /** The heartbeat interval agents are told (the default `agent.silent` threshold is 3 ×). */
  heartbeatSeconds: number;
  log: EngineLog;
  sinks?: AlertSinks;
  /** How often the time-driven rules run (ms). */
  tickMs?: number;
  /** Hosts judged per slice of a fleet-wide re-evaluation. */
  sliceSize?: number;
  /** Clock (tests). */
  now?: () => number;
}

/** What the engine needs of a host. */
export interface HostInfo {
  id: string;
  hostname: string;
  groups: string[];
  status: 'online' | 'offline' | 'retired';
  lastSeenAt: number | null;
  lastGoodbye: string | null;
}

interface HostRow {
  id: string;
  hostname: string;
  groups: string;
  status: HostInfo['status'];
  last_seen_at: number | null;
  last_goodbye: string | null;
}

const toHostInfo = (r: HostRow): HostInfo => ({
  id: r.id,
  hostname: r.hostname,
  groups: groupsOf(r.groups),
  status: r.status,
  lastSeenAt: r.last_seen_at,
  lastGoodbye: r.last_goodbye,
});

/** The rules a change of each probe can affect. */
const RULES_OF_PROBE: Record<Probe, RuleId[]> = {
  usb: ['usb.unauthorised'],
  software: ['software.unapproved', 'software.prohibited'],
  screenlock: ['screenlock.noncompliant'],
  sessions: ['terminal.unattended'],
};

const TIME_RULES: readonly RuleId[] = ['terminal.unattended', 'agent.silent'];
/** A host is asked for a snapshot at most this often. */
const SNAPSHOT_REQUEST_INTERVAL_MS = 10 * 60_000;

export interface JudgeOptions {
  occurrences?: ReadonlySet<string>;
  /** Judge only these USB devices (one attached or detached), not every device the host has had. */
  usbSubjects?: ReadonlySet<string>;
  clearedAs?: (alert: AlertRow) => Closure | undefined;
}

export class PolicyEngine {
  readonly lifecycle: AlertLifecycle;
  private readonly allowances: Allowances;
  private readonly licences: LicenceCounter;
  private policy: Policy = DEFAULT_POLICY;
  private policyVersion = 0;
  private effectiveCache = new Map<string, EffectivePolicy>();
  /** The same, by groups array (cleared with it: a new policy makes new ones). */
  private effectiveByArray = new WeakMap<readonly string[], EffectivePolicy>();
  private readonly hostById;
  private readonly savepoint;
  private readonly hostCache = new Map<string, HostInfo>();
  private readonly listeners = new Set<(changes: readonly AlertChange[]) => void>();
  private readonly policyListeners = new Set<() => void>();
  private readonly snapshotListeners = new Set<(hostId: string) => void>();
  /** Hosts whose facts cannot be rebuilt from what they sent (a diff with no inventory to apply it to). */
  private readonly snapshotWanted = new Set<string>();
  /** When each host was last asked for a snapshot (at most one request per host per interval). */
  private readonly snapshotAsked = new Map<string, number>();
  /** Hosts waiting for a fleet-wide re-evaluation, and the rules to judge. */
  private queue = new Map<string, Set<RuleId>>();
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  /** Wakes up to recount licensed titles whose recount was not due yet. */
  private licenceTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;
  readonly stats = { judged: 0, slices: 0, ticks: 0, failures: 0 };

  constructor(
    private readonly store: Store,
    private readonly opts: EngineOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.lifecycle = new AlertLifecycle(store.alerts, opts.sinks);
    this.allowances = new Allowances(store);
    this.licences = new LicenceCounter({
      store,
      lifecycle: this.lifecycle,
      policy: () => this.policy,
      hostname: (id) => this.cachedHost(id)?.hostname ?? null,
      excepted: (f) => this.allowances.exceptionFor(null, f) !== undefined,
    });
    this.savepoint = {
      begin: store.db.prepare('SAVEPOINT policy_engine'),
      release: store.db.prepare('RELEASE policy_engine'),
      rollback: store.db.prepare('ROLLBACK TO policy_engine'),
    };
    this.hostById = store.db.prepare<[string], HostRow>('SELECT id, hostname, groups, status, last_seen_at, last_goodbye FROM hosts WHERE id = ?');
  }

  // --- set-up

  /** Loads the policy in force, approvals and exceptions; queues every host for judging. */
  load(): void {
    const current = this.store.policy.currentDocument();
    if (current) {
      const parsed = parsePolicy(current.document);
      if (parsed.ok) {
        this.policy = parsed.policy;
        this.policyVersion = current.version;
      } else {
        // Stored versions were valid when written; a schema change could make one invalid.
        this.opts.log.error({ version: current.version, problems: parsed.problems.slice(0, 5) }, 'stored policy no longer valid; using the defaults');
      }
    }
    this.effectiveCache.clear();
    this.effectiveByArray = new WeakMap();
    this.lifecycle.resetOpenHint();
    this.allowances.reloadApprovals(this.policy.usb, this.now());
    this.allowances.reloadExceptions(this.now());
    this.scheduleAll(RULE_IDS);
  }

  /** Starts the timer of the time-driven rules. */
  start(): void {
    const every = this.opts.tickMs ?? 10_000;
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.licenceTimer);
    this.licenceTimer = undefined;
    this.queue.clear();
  }

  /** Called with every batch of committed alert changes (live feed, notifications). */
  onChanges(listener: (changes: readonly AlertChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after a new policy version is in force. */
  onPolicyChange(listener: () => void): () => void {
    this.policyListeners.add(listener);
    return () => this.policyListeners.delete(listener);
  }

  /**
   * The idle threshold to give a host's agent: the configured one, lowered to the host's
   * unattended threshold so that an agent reports a session idle before it is judged unattended.
   */
  idleThresholdFor(hostId: string, configured: number): number {
    const host = this.host(hostId);
    if (!host) return configured;
    return Math.max(1, Math.min(configured, this.effectiveFor(host.groups).unattendedThresholdSeconds));
  }

  get policyInForce(): { version: number; policy: Policy } {
    return { version: this.policyVersion, policy: this.policy };
  }

  /** Hosts still waiting to be judged after a policy or approval change. */
  get backlog(): number {
    return this.queue.size;
  }

  // --- transactions

  /** Runs `fn` in one transaction, then publishes its alert changes (or drops them on rollback). */
  run<T>(fn: () => T): T {
    let result: T;
    try {
      result = this.store.transaction(fn);
    } catch (err) {
      this.afterRollback();
      throw err;
    }
    this.afterCommit();
    return result;
  }

  /**
   * Called (after commit) with a host whose agent should send a full snapshot: its facts cannot be
   * rebuilt from what it sent. At most once per host per `SNAPSHOT_REQUEST_INTERVAL_MS`.
   */
  onSnapshotNeeded(listener: (hostId: string) => void): () => void {
    this.snapshotListeners.add(listener);
    return () => this.snapshotListeners.delete(listener);
  }

  private requestSnapshots(): void {
    if (this.snapshotWanted.size === 0) return;
    const now = this.now();
    for (const hostId of this.snapshotWanted) {
      if (now - (this.snapshotAsked.get(hostId) ?? -Infinity) < SNAPSHOT_REQUEST_INTERVAL_MS) continue;
      this.snapshotAsked.set(hostId, now);
      for (const l of this.snapshotListeners) l(hostId);
    }
    this.snapshotWanted.clear();
    if (this.snapshotAsked.size > 100_000) this.snapshotAsked.clear();
  }

  /** After the caller's transaction committed: publish what it changed. */
  afterCommit(): void {
    this.licences.commit();
    this.requestSnapshots();
    const changes = this.lifecycle.takePending();
    if (changes.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(changes);
      } catch (err) {
        this.opts.log.error({ err }, 'alert change listener failed');
      }
    }
  }

  afterRollback(): void {
    this.snapshotWanted.clear();
    this.lifecycle.takePending();
    this.lifecycle.resetOpenHint();
    this.licences.discard();
  }

  // --- ingest

  /**
   * One accepted message, inside the ingest transaction: update the host's state and re-judge
   * what it changes. In a savepoint: if judging fails (a bug), the message is still stored and
   * acknowledged, the failure is logged, and the next evaluation of the host catches up.
   */
  onMessage(hostId: string, env: AgentEnvelope, at: number): void {
    this.safely({ hostId, type: env.type }, () => this.applyMessage(hostId, env, at));
  }

  /** Runs `fn` in a savepoint; on failure rolls it back with its alert changes and logs. */
  private safely(context: object, fn: () => void): boolean {
    const mark = this.lifecycle.mark();
    const stateMark = this.store.hostState.mark();
    // Prepared SAVEPOINT statements: far cheaper than a nested db.transaction() per message.
    this.savepoint.begin.run();
    try {
      fn();
      this.savepoint.release.run();
      return true;
    } catch (err) {
      // A full or read-only disk is not a judging bug: the whole batch fails with it, and the
      // store says so once (SQLite may have rolled the transaction back already).
      const storage = storageErrorCode(err) !== null;
      try {
        this.savepoint.rollback.run();
        this.savepoint.release.run();
      } catch (rollbackErr) {
        if (!storage) throw rollbackErr;
      }
      this.lifecycle.rollbackTo(mark);
      this.store.hostState.rollbackTo(stateMark);
      this.lifecycle.resetOpenHint();
      if (storage) throw err;
      this.stats.failures++;
      this.opts.log.error({ err, ...context, source: LOG_SOURCE }, 'policy evaluation failed');
      return false;
    }
  }

  private applyMessage(hostId: string, env: AgentEnvelope, at: number): void {
    const { changed, state, attached, needsSnapshot, software } = this.store.hostState.apply(hostId, env, at, this.classifier);
    if (needsSnapshot) this.snapshotWanted.add(hostId);
    const rules = new Set<RuleId>(changed.flatMap((p) => RULES_OF_PROBE[p]));
    // A software diff on an inventory classified under the policy in force: judge only what it touched.
    if (software && !software.stale && !this.softwareNearCap(hostId, software)) {
      for (const r of RULES_OF_PROBE.software) rules.delete(r);
      const host = this.cachedHost(hostId);
      if (host && host.status !== 'retired') this.judgeSoftwareChange(host, software, at);
      this.recountLicences(at);
    }
    // Any frame ends silence; only judge it when an agent.silent alert may be open.
    const silent = this.lifecycle.mayHaveOpen(hostId, 'agent.silent');
    if (silent) rules.add('agent.silent');
    if (rules.size === 0) return;
    if (env.type === 'snapshot') this.hostCache.delete(hostId); // its hostname may have changed
    // agent.silent needs the host's latest times; the other rules only its name and groups.
    const host = silent ? this.host(hostId) : this.cachedHost(hostId);
    if (!host || host.status === 'retired') return;
    const occurrences = attached ? new Set([occurrenceKey('usb.unauthorised', attached.key)]) : undefined;
    // An attach or detach changes one device's standing only: judge just that one.
    const usbKey = env.type === 'usb.attached' ? env.body.device.key : env.type === 'usb.detached' ? env.body.key : undefined;
    this.judge(host, rules, at, { ...(occurrences ? { occurrences } : {}), ...(usbKey === undefined ? {} : { usbSubjects: new Set([usbKey]) }) }, state);
    this.recountLicences(at);
  }

  /** Name and groups of a host, cached (they change only with a snapshot or an admin). */
  private cachedHost(hostId: string): HostInfo | undefined {
    let host = this.hostCache.get(hostId);
    if (!host) {
      host = this.host(hostId);
      if (!host) return undefined;
      if (this.hostCache.size >= 100_000) this.hostCache.clear();
      this.hostCache.set(hostId, host);
    }
    return host;
  }

  // --- judging

  private host(hostId: string): HostInfo | undefined {
    const row = this.hostById.get(hostId);
    return row && toHostInfo(row);
  }

  effectiveFor(groups: readonly string[]): EffectivePolicy {
    // Judging on ingest asks with the same cached host's groups array again and again.
    const known = this.effectiveByArray.get(groups);
    if (known) return known;
    const key = JSON.stringify([...groups].sort());
    let eff = this.effectiveCache.get(key);
    if (!eff) {
      eff = resolveEffectivePolicy(this.policy, groups, { heartbeatSeconds: this.opts.heartbeatSeconds });
      if (this.effectiveCache.size > 10_000) this.effectiveCache.clear();
      this.effectiveCache.set(key, eff);
    }
    this.effectiveByArray.set(groups, eff);
    return eff;
  }

  /**
   * Judges `rules` on one host and reconciles its alerts. A rule whose facts are unknown (the
   * probe could not read them, or never reported) is left alone: its alerts stay as they are.
   */
  judge(host: HostInfo, rules: ReadonlySet<RuleId>, now: number, opts: JudgeOptions = {}, state?: HostState): void {
    this.stats.judged++;
    const eff = this.effectiveFor(host.groups);
    const st = state ?? this.store.hostState.get(host.id, PROBES.filter((p) => p !== 'software' && RULES_OF_PROBE[p].some((r) => rules.has(r))));
    const judged: RuleId[] = [];
    const findings: Finding[] = [];
    const openAlerts: Partial<Record<RuleId, AlertRow[]>> = {};
    const take = (rule: RuleId, fs: () => Finding[]) => {
      judged.push(rule);
      if (eff.enabled[rule]) findings.push(...fs());
    };

    const subjects: Partial<Record<RuleId, ReadonlySet<string>>> = {};
    if (rules.has('usb.unauthorised') && st.usb?.known) {
      const mayHaveOpen = this.lifecycle.mayHaveOpen(host.id, 'usb.unauthorised');
      // A scoped judgement cannot enforce the per-host alert cap: near the cap, judge everything.
      const nearCap =
        mayHaveOpen &&
        this.lifecycle.openBound(host.id, 'usb.unauthorised') >= MAX_ALERTS_PER_HOST_RULE - 1 &&
        this.store.alerts.countOpenFor(host.id, 'usb.unauthorised') >= MAX_ALERTS_PER_HOST_RULE - 1;
      const only = opts.usbSubjects && !nearCap ? opts.usbSubjects : undefined;
      const present = only ? st.usb.items.filter((d) => only.has(d.key)) : st.usb.items;
      const presentKeys = new Set(present.map((d) => d.key));
      // An unauthorised device keeps its alert after it is unplugged (a stick used for ten seconds
      // is still an incident): it is judged again from the alert until a person resolves it, an
      // approval covers it or the policy allows it, and attaching it again bumps the alert.
      const openUsb = !mayHaveOpen
        ? []
        : only
          ? [...only].filter((key) => this.lifecycle.mayHaveOpenSubject(host.id, 'usb.unauthorised', key)).flatMap((key) => this.store.alerts.openForSubject(host.id, 'usb.unauthorised', key))
          : this.store.alerts.openFor(host.id, 'usb.unauthorised');
      openAlerts['usb.unauthorised'] = openUsb;
      if (only) subjects['usb.unauthorised'] = only;
      const gone = openUsb
        .filter((a) => !presentKeys.has(a.subject))
        .map(deviceFromAlert)
        .filter((d): d is UsbDevice => d !== undefined);
      const devices = gone.length ? [...present, ...gone] : present;
      take('usb.unauthorised', () =>
        evaluateUsb(devices, host, { usb: this.policy.usb, severity: eff.severities['usb.unauthorised'] }, this.allowances.approvalsFor(devices), now).map((f) =>
          presentKeys.has(f.subject) ? { ...f, details: { ...f.details, present: true } } : { ...f, details: { ...f.details, present: false }, observed: false },
        ),
      );
    }
    if (rules.has('software.unapproved') || rules.has('software.prohibited')) {
      // From a snapshot: the items just stored (classified as they were written). Otherwise the
      // stored rows, re-classified under the policy in force where that changed their standing.
      const items = state?.software?.known ? state.software.items : this.store.hostState.isSoftwareKnown(host.id) ? this.reclassifySoftware(host.id) : undefined;
      if (items) {
        const all = this.softwareRuleFindings(items, eff);
        for (const rule of ['software.unapproved', 'software.prohibited'] as const) {
          if (rules.has(rule)) take(rule, () => all.filter((f) => f.rule === rule));
        }
        this.licences.setFromItems(host.id, items);
      }
    }
    if (rules.has('screenlock.noncompliant') && st.screenlock?.known) {
      const settings = st.screenlock.items;
      take('screenlock.noncompliant', () => evaluateScreenlock(settings, { screenlock: eff.screenlock, severity: eff.severities['screenlock.noncompliant'] }).findings);
    }
    if (rules.has('terminal.unattended') && st.sessions?.known) {
      const sessions = st.sessions.items;
      take('terminal.unattended', () => evaluateUnattended(sessions, { thresholdSeconds: eff.unattendedThresholdSeconds, severity: eff.severities['terminal.unattended'] }, now));
    }
    if (rules.has('agent.silent')) {
      take('agent.silent', () =>
        evaluateAgentSilent(
          {
            lastSeenAt: host.lastSeenAt,
            lastGoodbye: host.lastGoodbye === null || host.lastSeenAt === null ? null : { at: host.lastSeenAt, reason: host.lastGoodbye },
            connected: host.status === 'online',
          },
          { thresholdSeconds: eff.silentThresholdSeconds, severity: eff.severities['agent.silent'] },
          now,
        ),
      );
    }
    if (judged.length === 0) return;

    const active: Finding[] = [];
    const excepted = new Map<string, ActiveException>();
    for (const f of findings) {
      const e = this.allowances.exceptionFor(host, f);
      if (e) excepted.set(occurrenceKey(f.rule, f.subject), e);
      else active.push(f);
    }
    this.lifecycle.reconcile({ hostId: host.id, hostname: host.hostname, groups: host.groups, rules: judged, subjects }, capFindings(active), {
      now,
      monitorOnly: eff.mode === 'monitor-only',
      openAlerts,
      ...(opts.occurrences ? { occurrences: opts.occurrences } : {}),
      clearedAs: (a) => {
        const e = excepted.get(occurrenceKey(a.rule, a.subject));
        if (e) return { status: 'resolved', resolution: 'excepted', actor: e.createdBy, note: `exception ${e.id}: ${e.reason}` };
        return opts.clearedAs?.(a);
      },
    });
  }

  /** How the policy in force classifies a package, for the rows the store keeps. */
  private readonly classifier: SoftwareClassifier = (() => {
    const engine = () => this;
    return {
      get version() {
        return engine().policyVersion;
      },
      classify: (item: SoftwareItem) => {
        const c = classifySoftware(item, engine().policy.software);
        return { status: c.status, subject: softwareSubject(item, c.title) };
      },
    };
  })();

  /** software.unapproved / software.prohibited findings for some items, with the host's severities. */
  private softwareRuleFindings(items: readonly SoftwareItem[], eff: EffectivePolicy): Finding[] {
    return softwareFindings(items, this.policy.software).map((f) => ({ ...f, severity: eff.severities[f.rule] }));
  }

  /** The host's rows, re-classified under the policy in force where their stored standing differs. */
  private reclassifySoftware(hostId: string): SoftwareItem[] {
    const version = this.policyVersion;
    const items = this.store.hostState.classifiedSoftware(hostId).map((row) => {
      const c = this.classifier.classify(row.parsed);
      if (row.status !== c.status || row.subject !== c.subject || row.policy_version !== version) this.store.hostState.reclassify(row, c.status, c.subject, version);
      return row.parsed;
    });
    this.store.hostState.markSoftwareClassified(hostId, version);
    return items;
  }

  /**
   * Whether a diff must be judged against the whole inventory to keep the per-host alert cap: it
   * touches many subjects, or the host is at the cap (has a `(more)` alert or nearly 200 open).
   */
  private softwareNearCap(hostId: string, change: SoftwareChange): boolean {
    // A diff that touched no subject that can hold a finding (an approved upgrade) opens nothing.
    if (change.subjects.size === 0) return false;
    if (change.subjects.size >= MAX_ALERTS_PER_HOST_RULE / 2) return true;
    return RULES_OF_PROBE.software.some(
      (rule) =>
        this.lifecycle.mayHaveOpen(hostId, rule) &&
        ((this.lifecycle.mayHaveOpenSubject(hostId, rule, OVERFLOW_SUBJECT) && this.store.alerts.openForSubject(hostId, rule, OVERFLOW_SUBJECT).length > 0) ||
          (this.lifecycle.openBound(hostId, rule) + change.subjects.size >= MAX_ALERTS_PER_HOST_RULE - 1 &&
            this.store.alerts.countOpenFor(hostId, rule) + change.subjects.size >= MAX_ALERTS_PER_HOST_RULE - 1)),
    );
  }

  /**
   * Judges a software diff from the rows it touched: the findings of each subject it touched (a
   * title, or `source:name`), from that subject's rows only; other subjects' alerts stay as they are.
   */
  private judgeSoftwareChange(host: HostInfo, change: SoftwareChange, now: number): void {
    const eff = this.effectiveFor(host.groups);
    const findings: Finding[] = [];
    for (const subject of change.subjects) {
      const items = this.store.hostState.softwareOfSubject(host.id, subject).map((r) => r.item);
      if (items.length) findings.push(...this.softwareRuleFindings(items, eff).filter((f) => f.subject === subject));
    }
    const rules = RULES_OF_PROBE.software;
    const active = findings.filter((f) => eff.enabled[f.rule] && !this.allowances.exceptionFor(host, f));
    const subjects = Object.fromEntries(rules.map((r) => [r, change.subjects])) as Partial<Record<RuleId, ReadonlySet<string>>>;
    const excepted = new Map(findings.flatMap((f) => {
      const e = eff.enabled[f.rule] ? this.allowances.exceptionFor(host, f) : undefined;
      return e ? [[occurrenceKey(f.rule, f.subject), e] as const] : [];
    }));
    // Read only the touched subjects' open alerts, not every open alert of the host.
    const openAlerts = Object.fromEntries(
      rules.map((r) => [
        r,
        [...change.subjects].filter((subject) => this.lifecycle.mayHaveOpenSubject(host.id, r, subject)).flatMap((subject) => this.store.alerts.openForSubject(host.id, r, subject)),
      ]),
    ) as Partial<Record<RuleId, AlertRow[]>>;
    this.lifecycle.reconcile({ hostId: host.id, hostname: host.hostname, groups: host.groups, rules, subjects }, capFindings(active), {
      now,
      monitorOnly: eff.mode === 'monitor-only',
      openAlerts,
      clearedAs: (a) => {
        const e = excepted.get(occurrenceKey(a.rule, a.subject));
        return e ? { status: 'resolved', resolution: 'excepted', actor: e.createdBy, note: `exception ${e.id}: ${e.reason}` } : undefined;
      },
    });
    if (change.licensed) this.licences.setTitles(host.id, this.store.hostState.licensedSubjects(host.id));
  }

  /**
   * Recounts the titles whose installs changed and are due (see `LicenceCounter`), unless a
   * fleet-wide re-evaluation is under way (counts would be half old, half new; its last slice
   * recounts); wakes up for those not due.
   */
  private recountLicences(now: number, force = false): void {
    if (this.queue.size > 0) return;
    const next = this.licences.recountDirty(now, { force });
    if (next !== undefined) this.recountLicencesLater(next - now);
  }

  private recountLicencesLater(delayMs: number): void {
    if (this.licenceTimer || this.stopped) return;
    this.licenceTimer = setTimeout(
      () => {
        this.licenceTimer = undefined;
        if (this.stopped || !this.licences.pending) return;
        try {
          this.run(() => this.recountLicences(this.now()));
        } catch (err) {
          this.opts.log.error({ err, source: LOG_SOURCE }, 'licence recount failed');
        }
      },
      Math.min(Math.max(0, delayMs), LICENCE_RECOUNT_INTERVAL_MS),
    );
    this.licenceTimer.unref();
  }

  /** The approvals that could concern these devices (host page). */
  approvalsForDevices(devices: readonly UsbDevice[]): UsbApproval[] {
    return this.allowances.approvalsFor(devices);
  }

  /** Exceptions in force that cover a host (host page). */
  exceptionsCovering(host: { id: string; groups: readonly string[] }): ActiveException[] {
    return this.allowances.exceptionsCovering(host);
  }

  // --- fleet-wide re-evaluation

  /** Queues every host (not retired) to be judged on `rules`, off the ingest path, in slices. */
  scheduleAll(rules: readonly RuleId[]): number {
    const ids = this.store.db.prepare<[], { id: string }>("SELECT id FROM hosts WHERE status != 'retired'").all();
    for (const { id } of ids) this.schedule(id, rules);
    if (rules.includes('licence.over_deployed') || rules.includes('software.unapproved') || rules.includes('software.prohibited')) {
      this.licences.markAll();
    }
    this.drainSoon();
    return ids.length;
  }

  private schedule(hostId: string, rules: readonly RuleId[]): void {
    let set = this.queue.get(hostId);
    if (!set) this.queue.set(hostId, (set = new Set()));
    for (const r of rules) if (r !== 'licence.over_deployed') set.add(r);
  }

  private drainSoon(): void {
    if (this.draining || this.stopped) return;
    this.draining = true;
    setImmediate(() => this.drainSlice());
  }

  /** Judges one slice of queued hosts in one transaction, then yields to ingest. */
  private drainSlice(): void {
    this.draining = false;
    if (this.stopped) return;
    const size = this.opts.sliceSize ?? 250;
    const now = this.now();
    try {
      this.run(() => {
        let n = 0;
        for (const [hostId, rules] of this.queue) {
          this.queue.delete(hostId);
          const host = this.host(hostId);
          if (host && host.status !== 'retired' && rules.size > 0) this.safely({ hostId }, () => this.judge(host, rules, now));
          if (++n >= size) break;
        }
        this.recountLicences(now);
      });
      this.stats.slices++;
    } catch (err) {
      this.opts.log.error({ err, source: LOG_SOURCE }, 'policy re-evaluation slice failed');
    }
    if (this.queue.size > 0) this.drainSoon();
  }

  /** Judges everything queued now, synchronously (tests, shutdown). */
  drainAll(): void {
    while (this.queue.size > 0 && !this.stopped) this.drainSlice();
    if (this.licences.pending) this.run(() => this.recountLicences(this.now(), true));
  }

  // --- time

  /** The time-driven rules for every host that may need them, and anything that just expired. */
  tick(now = this.now()): void {
    if (this.stopped) return;
    this.stats.ticks++;
    if (now >= this.allowances.nextExpiry) {
      this.allowances.reloadApprovals(this.policy.usb, now);
      this.allowances.reloadExceptions(now);
      this.scheduleAll(RULE_IDS);
    }
    try {
      this.run(() => {
        const open = this.store.alerts.openPairs(TIME_RULES);
        const idle = new Set(
          this.store.db
            .prepare<[], { host_id: string }>('SELECT host_id FROM host_state WHERE sessions_attention = 1')
            .all()
            .map((r) => r.host_id),
        );
        const hosts = this.store.db
          .prepare<[], HostRow>("SELECT id, hostname, groups, status, last_seen_at, last_goodbye FROM hosts WHERE status != 'retired'")
          .all();
        for (const row of hosts) {
          const rules = new Set<RuleId>();
          if (idle.has(row.id) || open.has(`${row.id}\u0000terminal.unattended`)) rules.add('terminal.unattended');
          const host = toHostInfo(row);
          const eff = this.effectiveFor(host.groups);
          const silentFor = host.lastSeenAt === null ? 0 : now - host.lastSeenAt;
          if (open.has(`${row.id}\u0000agent.silent`) || (host.lastGoodbye === null && silentFor >= eff.silentThresholdSeconds * 1000)) rules.add('agent.silent');
          if (rules.size > 0) this.safely({ hostId: host.id }, () => this.judge(host, rules, now));
        }
      });
    } catch (err) {
      // On a full or read-only disk the storage-health plugin has said so once; this runs every tick.
      if (!isStorageUnavailable(err) && storageErrorCode(err) === null) this.opts.log.error({ err, source: LOG_SOURCE }, 'time-driven evaluation failed');
    }
  }

  // --- approvals, exceptions, policy

  /** Hosts with an open alert of `rule` (the only ones an approval or exception can change at once). */
  private hostsWithOpen(rule: RuleId, subject?: string): string[] {
    return this.store.db
      .prepare<[string, string | null, string | null], { host_id: string }>(
        `SELECT DISTINCT host_id FROM alerts WHERE rule = ? AND status IN ('open', 'acknowledged') AND host_id IS NOT NULL AND (? IS NULL OR subject = ?)`,
      )
      .all(rule, subject ?? null, subject ?? null)
      .map((r) => r.host_id);
  }

  private rejudgeNow(hostIds: Iterable<string>, rules: ReadonlySet<RuleId>, now: number, opts: JudgeOptions): void {
    for (const id of hostIds) {
      const host = this.host(id);
      if (host && host.status !== 'retired') this.judge(host, rules, now, opts);
    }
  }

  private audit(actor: string, action: AuditAction, subject: string, details: Record<string, unknown>, now: number): void {
    this.opts.sinks?.audit?.({ actor, action, subject, details }, now);
  }

  /** Approves a device or product; the alerts it covers are resolved as `approved` at once. */
  createApproval(req: CreateUsbApprovalRequest, actor: string): ApiUsbApproval {
    const now = this.now();
    return this.run(() => {
      let target: { deviceKey: string } | { vendorId: string; productId: string };
      let scope: CoverageScope | undefined = req.scope;
      if (req.alertId !== undefined) {
        const alert = this.store.alerts.get(req.alertId);
        if (!alert) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such alert');
        if (alert.rule !== 'usb.unauthorised') throw new VigilError('VIGIL_ERR_VALIDATION', `Only usb.unauthorised alerts can be approved (this one is ${alert.rule})`);
        const d = JSON.parse(alert.details) as { vendorId?: string; productId?: string };
        target = req.match === 'product' && d.vendorId && d.productId ? { vendorId: d.vendorId, productId: d.productId } : { deviceKey: alert.subject };
        scope ??= alert.host_id ? { hostId: alert.host_id } : { all: true };
      } else if (req.deviceKey !== undefined) {
        target = { deviceKey: req.deviceKey };
      } else {
        target = { vendorId: req.vendorId ?? '', productId: req.productId ?? '' };
      }
      if (!scope) throw new VigilError('VIGIL_ERR_VALIDATION', 'scope is required');
      const expiresAt = req.expiresAt === undefined ? null : Date.parse(req.expiresAt);
      if (expiresAt !== null && expiresAt <= now) throw new VigilError('VIGIL_ERR_VALIDATION', 'expiresAt is in the past');
      const approval = this.store.approvals.create({ target, scope, expiresAt, reason: req.reason, createdBy: actor, alertId: req.alertId ?? null }, now);
      this.audit(actor, 'usb.approval.created', approval.id, { ...target, scope, expiresAt: approval.expiresAt, reason: req.reason, alertId: req.alertId ?? null }, now);
      this.allowances.reloadApprovals(this.policy.usb, now);
      const approved: Closure = { status: 'resolved', resolution: 'approved', actor, note: `approval ${approval.id}: ${req.reason}` };
      this.rejudgeNow(this.hostsWithOpen('usb.unauthorised'), new Set(['usb.unauthorised']), now, { clearedAs: () => approved });
      return approval;
    });
  }

  /** Approves every device present now on a host or in groups that nothing allows yet. */
  baseline(req: UsbBaselineRequest, actor: string): { approvals: ApiUsbApproval[]; hosts: number } {
    const now = this.now();
    return this.run(() => {
      const hosts =
        'hostId' in req.scope
          ? [this.host(req.scope.hostId)].filter((h): h is HostInfo => h !== undefined)
          : this.store.db
              .prepare<[string], HostRow>(
                `SELECT id, hostname, groups, status, last_seen_at, last_goodbye FROM hosts
                 WHERE status != 'retired' AND EXISTS (SELECT 1 FROM json_each(hosts.groups) g WHERE g.value IN (SELECT value FROM json_each(?)))`,
              )
              .all(JSON.stringify(req.scope.groups))
              .map(toHostInfo);
      if ('hostId' in req.scope && hosts.length === 0) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such host');
      const keys = new Set<string>();
      for (const host of hosts) {
        const usb = this.store.hostState.get(host.id, ['usb']).usb;
        if (!usb?.known) continue;
        const approvals = this.allowances.approvalsFor(usb.items);
        for (const d of usb.items) if (!judgeUsbDevice(d, host, this.policy.usb, approvals, now).allowed) keys.add(d.key);
      }
      const expiresAt = req.expiresAt === undefined ? null : Date.parse(req.expiresAt);
      const created = [...keys].sort().map((deviceKey) =>
        this.store.approvals.create({ target: { deviceKey }, scope: req.scope, expiresAt, reason: req.reason, createdBy: actor, alertId: null }, now),
      );
      this.audit(actor, 'usb.approval.created', 'baseline', { scope: req.scope, devices: [...keys].sort(), approvals: created.map((a) => a.id), reason: req.reason }, now);
      this.allowances.reloadApprovals(this.policy.usb, now);
      const approved: Closure = { status: 'resolved', resolution: 'approved', actor, note: `baseline: ${req.reason}` };
      this.rejudgeNow(hosts.map((h) => h.id), new Set(['usb.unauthorised']), now, { clearedAs: () => approved });
      return { approvals: created, hosts: hosts.length };
    });
  }

  revokeApproval(id: string, actor: string): ApiUsbApproval {
    const now = this.now();
    const approval = this.run(() => {
      const a = this.store.approvals.revoke(id, actor, now);
      this.audit(actor, 'usb.approval.revoked', id, {}, now);
      return a;
    });
    this.allowances.reloadApprovals(this.policy.usb, now);
    this.scheduleAll(['usb.unauthorised']);
    return approval;
  }

  createException(req: CreateExceptionRequest, actor: string): PolicyException {
    const now = this.now();
    const expiresAt = Date.parse(req.expiresAt);
    if (expiresAt <= now) throw new VigilError('VIGIL_ERR_VALIDATION', 'expiresAt is in the past');
    return this.run(() => {
      let rule: RuleId;
      let subject: string | null;
      let scope = req.scope;
      if (req.alertId !== undefined) {
        const alert = this.store.alerts.get(req.alertId);
        if (!alert) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such alert');
        rule = alert.rule;
        subject = alert.subject;
        scope ??= alert.host_id ? { hostId: alert.host_id } : { all: true };
      } else {
        rule = req.rule as RuleId;
        subject = req.subject ?? null;
      }
      if (!scope) throw new VigilError('VIGIL_ERR_VALIDATION', 'scope is required');
      if (rule === 'licence.over_deployed' && !('all' in scope)) throw new VigilError('VIGIL_ERR_VALIDATION', 'licence.over_deployed is fleet-wide: its exceptions need scope {"all": true}');
      const exception = this.store.exceptions.create({ rule, subject, scope, expiresAt, reason: req.reason, createdBy: actor, alertId: req.alertId ?? null }, now);
      this.audit(actor, 'exception.created', exception.id, { rule, subject, scope, expiresAt: exception.expiresAt, reason: req.reason, alertId: req.alertId ?? null }, now);
      this.allowances.reloadExceptions(now);
      if (rule === 'licence.over_deployed') {
        const titles = new Set(this.store.alerts.openFor(null, rule).map((a) => a.subject));
        this.licences.recount(titles, now);
      } else {
        this.rejudgeNow(this.hostsWithOpen(rule, subject ?? undefined), new Set([rule]), now, {});
      }
      return exception;
    });
  }

  revokeException(id: string, actor: string): PolicyException {
    const now = this.now();
    const exception = this.run(() => {
      const e = this.store.exceptions.revoke(id, actor, now);
      this.audit(actor, 'exception.revoked', id, { rule: e.rule, subject: e.subject }, now);
      return e;
    });
    this.allowances.reloadExceptions(now);
    this.scheduleAll([exception.rule]);
    return exception;
  }

  /**
   * Validates and stores a new policy version (unless it equals the current one), then re-judges
   * every host. A bad document is refused with every problem; the policy in force stays.
   */
  setPolicy(document: string, source: string, actor: string): PutPolicyResponse {
    const parsed = parsePolicy(document);
    if (!parsed.ok) throw new VigilError('VIGIL_ERR_POLICY_INVALID', `The policy document has ${parsed.problems.length} problem(s); the current policy stays in force`, { details: parsed.problems });
    const now = this.now();
    const { version, created } = this.run(() => {
      const r = this.store.policy.addIfChanged(document, source, actor, now);
      if (r.created) this.audit(actor, 'policy.changed', `policy:${r.version.version}`, { version: r.version.version, sha256: r.version.sha256, source }, now);
      return r;
    });
    let reevaluating = 0;
    if (created) {
      this.policy = parsed.policy;
      this.policyVersion = version.version;
      this.effectiveCache.clear();
      this.effectiveByArray = new WeakMap();
      this.allowances.reloadApprovals(this.policy.usb, now);
      reevaluating = this.scheduleAll(RULE_IDS);
      this.opts.log.info({ version: version.version, by: actor, hosts: reevaluating }, 'policy changed; re-evaluating every host');
      for (const l of this.policyListeners) l();
    }
    return { ...version, created, reevaluating };
  }

  /**
   * `agent.cloned`, raised by the gateway when a hello shows two copies of one agent (not judged
   * from facts, so no re-evaluation touches it): opens the alert of the agent's token, or bumps it.
   * Never cleared here: a person resolves it once each copy has a token of its own. Honours the
   * rule's switch, severity, exceptions and monitor-only mode like every other rule.
   */
  raiseAgentCloned(hostId: string, evidence: CloneEvidence, detections: number): void {
    const now = this.now();
    try {
      this.run(() => {
        const host = this.host(hostId);
        if (!host || host.status === 'retired') return;
        const eff = this.effectiveFor(host.groups);
        if (!eff.enabled['agent.cloned']) return;
        const finding = agentClonedFinding(evidence, eff.severities['agent.cloned'], detections);
        if (this.allowances.exceptionFor(host, finding)) return;
        this.lifecycle.reconcile(
          { hostId: host.id, hostname: host.hostname, groups: host.groups, rules: ['agent.cloned'], subjects: { 'agent.cloned': new Set([finding.subject]) } },
          [finding],
          { now, monitorOnly: eff.mode === 'monitor-only', occurrences: new Set([occurrenceKey('agent.cloned', finding.subject)]) },
        );
      });
    } catch (err) {
      this.stats.failures++;
      this.opts.log.error({ err, hostId, source: LOG_SOURCE }, 'raising agent.cloned failed');
    }
  }

  /** A retired host's open alerts are closed and its licence seats freed. */
  retireHost(hostId: string, actor: string): void {
    const now = this.now();
    this.run(() => {
      const host = this.host(hostId);
      const closure: Closure = { status: 'auto_resolved', resolution: 'host_retired', actor, note: 'the host was retired' };
      for (const a of this.store.alerts.openOnHost(hostId)) this.lifecycle.close(a, closure, { hostname: host?.hostname ?? null, groups: host?.groups ?? [] }, now);
      this.licences.removeHost(hostId);
      this.store.hostState.uncountSoftware(hostId);
      this.queue.delete(hostId);
      this.hostCache.delete(hostId);
      this.recountLicences(now);
    });
  }
}
