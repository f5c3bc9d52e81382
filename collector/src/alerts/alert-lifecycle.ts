import type { Alert, AlertAction, AuditAction, Resolution, RuleId } from '@vigil/shared';
import { SEVERITIES, uuidv7, VigilError } from '@vigil/shared';
import { groupsOf, toAlert, type AlertRow, type AlertsRepository } from '../db/alerts-repository.js';
import type { Finding } from '../policy/finding.js';

/**
 * The alert lifecycle (DESIGN.md, "Alerts"): one open alert per (host, rule, subject), opened when
 * a finding first appears, bumped when the breach happens again (a second attach), escalated when
 * its severity rises, auto-resolved when the finding is gone, acknowledged and resolved by people.
 * Every change is stored as an event (the alert's history and the live feed's cursor), handed to
 * the audit and notification sinks inside the same transaction, and kept in `pending` until the
 * caller has committed and publishes it.
 */

/** Who the engine acts as in history and the audit log. */
export const ENGINE_ACTOR = 'policy-engine';

export interface AlertChange {
  cursor: number;
  action: AlertAction;
  actor: string;
  note: string | null;
  alert: Alert;
  /** The host's groups (for feed filters). */
  groups: readonly string[];
}

export interface AlertSinks {
  /** Inside the transaction: append a state change to the audit log. */
  audit?(entry: { actor: string; action: AuditAction; subject: string; details: Record<string, unknown> }, now: number): void;
  /** Inside the transaction: queue notifications (not called for monitor-only alerts). */
  notify?(change: AlertChange, now: number): void;
}

/** Where the breach was judged: one host (or the fleet, `hostId` null) and the rules judged. */
export interface ReconcileScope {
  hostId: string | null;
  hostname: string | null;
  groups: readonly string[];
  rules: readonly RuleId[];
  /**
   * Per rule, the only subjects judged (a recount of some licence titles, one USB device attached
   * or detached): open alerts of that rule with other subjects are left as they are.
   */
  subjects?: Partial<Record<RuleId, ReadonlySet<string>>>;
}

/** How an alert whose finding is gone is closed. */
export interface Closure {
  status: 'resolved' | 'auto_resolved';
  resolution: Resolution;
  actor: string;
  note: string | null;
}

export interface ReconcileOptions {
  now: number;
  /** The host's policy is monitor-only: record, do not notify. */
  monitorOnly: boolean;
  /** `rule\0subject` of breaches that happened again just now (a USB attach): bump their count. */
  occurrences?: ReadonlySet<string>;
  /** The open alerts of some rules, when the caller has just read them (saves reading them again). */
  openAlerts?: Partial<Record<RuleId, readonly AlertRow[]>>;
  /** Decide how a cleared alert closes; undefined: auto_resolved, `cleared`. */
  clearedAs?: (alert: AlertRow) => Closure | undefined;
}

export interface ReconcileResult {
  opened: number;
  bumped: number;
  cleared: number;
}

export const occurrenceKey = (rule: RuleId, subject: string) => `${rule}\u0000${subject}`;

/** How stale an open alert's lastSeenAt may get while its breach still holds unchanged. */
export const LAST_SEEN_REFRESH_MS = 60_000;

/** Detail keys that change with the clock alone (how long idle, how long silent): not a change worth an event. */
const VOLATILE_DETAILS = new Set(['idleSeconds', 'silentSeconds', 'message']);

/** The details JSON without its volatile keys, for telling a real change from the clock ticking. */
function stableDetails(json: string): string {
  return JSON.stringify(JSON.parse(json), (key, value: unknown) => (VOLATILE_DETAILS.has(key) ? undefined : value));
}

const CLEARED: Closure = { status: 'auto_resolved', resolution: 'cleared', actor: ENGINE_ACTOR, note: null };
const rank = (s: AlertRow['severity']) => SEVERITIES.indexOf(s);

/** Audit actions for the changes that are state changes (bumps are not). */
const AUDITED: Partial<Record<AlertAction, AuditAction>> = {
  opened: 'alert.opened',
  escalated: 'alert.escalated',
  acknowledged: 'alert.acknowledged',
  resolved: 'alert.resolved',
  auto_resolved: 'alert.auto_resolved',
};

const pairKey = (hostId: string | null, rule: RuleId) => `${hostId ?? ''}\u0000${rule}`;

export class AlertLifecycle {
  private pending: AlertChange[] = [];
  /**
   * (host, rule) pairs that may have an open alert, with the subjects that may: a superset of the
   * truth (a subject is added when its alert opens and removed when it closes, a pair dropped only
   * when the store shows none), so judging a host with no finding and no open alert for a rule —
   * the common case — needs no query at all, nor does looking for the open alert of one device or
   * title that has none. Rebuilt from the store at start and after a rollback (`resetOpenHint`).
   */
  private maybeOpen = new Map<string, Set<string>>();

  constructor(
    private readonly repo: AlertsRepository,
    private readonly sinks: AlertSinks = {},
  ) {}

  /** Rebuilds the open-alert hint from the store (at start and after a rollback). */
  resetOpenHint(): void {
    const hint = new Map<string, Set<string>>();
    for (const a of this.repo.allOpenSubjects()) {
      const key = pairKey(a.host_id, a.rule);
      let subjects = hint.get(key);
      if (!subjects) hint.set(key, (subjects = new Set()));
      subjects.add(a.subject);
    }
    this.maybeOpen = hint;
  }

  /** Whether (host, rule) may have an open alert (false: it certainly has none). */
  mayHaveOpen(hostId: string | null, rule: RuleId): boolean {
    return this.maybeOpen.has(pairKey(hostId, rule));
  }

  /** Whether (host, rule, subject) may have an open alert (false: it certainly has none). */
  mayHaveOpenSubject(hostId: string | null, rule: RuleId, subject: string): boolean {
    return this.maybeOpen.get(pairKey(hostId, rule))?.has(subject) ?? false;
  }

  /** At least as many as the open alerts (host, rule) has. */
  openBound(hostId: string | null, rule: RuleId): number {
    return this.maybeOpen.get(pairKey(hostId, rule))?.size ?? 0;
  }

  private hintOpened(hostId: string | null, rule: RuleId, subject: string): void {
    const key = pairKey(hostId, rule);
    let subjects = this.maybeOpen.get(key);
    if (!subjects) this.maybeOpen.set(key, (subjects = new Set()));
    subjects.add(subject);
  }

  /** Its alert closed: with one open alert per (host, rule, subject), the subject has none now. */
  private hintClosed(hostId: string | null, rule: RuleId, subject: string): void {
    this.maybeOpen.get(pairKey(hostId, rule))?.delete(subject);
  }

  /**
   * Brings the alerts of `scope` in line with `findings` (which must all be of `scope.rules`):
   * opens what is new, refreshes what is still there, clears what is gone. Runs in the caller's
   * transaction.
   */
  reconcile(scope: ReconcileScope, findings: readonly Finding[], opts: ReconcileOptions): ReconcileResult {
    const result: ReconcileResult = { opened: 0, bumped: 0, cleared: 0 };
    const { now } = opts;
    for (const rule of scope.rules) {
      const key = pairKey(scope.hostId, rule);
      const found = findings.some((f) => f.rule === rule);
      if (!found && !this.maybeOpen.has(key)) continue;
      const open = new Map((opts.openAlerts?.[rule] ?? this.repo.openFor(scope.hostId, rule)).map((a) => [a.subject, a]));
      if (found && !this.maybeOpen.has(key)) this.maybeOpen.set(key, new Set());
      // Only a judgement of the whole rule can say the pair has no open alert at all.
      else if (!found && open.size === 0 && !scope.subjects?.[rule]) this.maybeOpen.delete(key);
      for (const f of findings) {
        if (f.rule !== rule) continue;
        const existing = open.get(f.subject);
        open.delete(f.subject);
        const details = JSON.stringify(f.details);
        if (!existing) {
          const row: AlertRow = {
            id: uuidv7(now),
            rule,
            host_id: scope.hostId,
            subject: f.subject,
            severity: f.severity,
            status: 'open',
            first_seen_at: now,
            last_seen_at: now,
            count: 1,
            details,
            monitor_only: opts.monitorOnly ? 1 : 0,
            acknowledged_by: null,
            acknowledged_at: null,
            resolution: null,
            resolved_by: null,
            resolved_at: null,
            note: null,
            updated_at: now,
            cursor: 0,
          };
          this.record(row, scope, 'opened', ENGINE_ACTOR, null, now, 'insert');
          this.hintOpened(scope.hostId, rule, f.subject);
          result.opened++;
          continue;
        }
        const again = opts.occurrences?.has(occurrenceKey(rule, f.subject)) ?? false;
        const escalated = rank(f.severity) > rank(existing.severity);
        const changed = f.severity !== existing.severity || (details !== existing.details && stableDetails(details) !== stableDetails(existing.details));
        // A breach that merely still holds is not rewritten on every evaluation: lastSeenAt moves
        // with a change, an occurrence, or at most once a minute.
        const refresh = f.observed !== false && now - existing.last_seen_at >= LAST_SEEN_REFRESH_MS;
        if (!again && !changed && !refresh) continue;
        const row: AlertRow = {
          ...existing,
          details,
          severity: f.severity,
          last_seen_at: f.observed === false ? existing.last_seen_at : now,
          count: existing.count + (again ? 1 : 0),
        };
        if (again || changed) row.updated_at = now;
        // The status, acknowledgement and resolution stay as they are.
        if (escalated) this.record(row, scope, 'escalated', ENGINE_ACTOR, `severity ${existing.severity} → ${f.severity}`, now, 'seen');
        else if (again) this.record(row, scope, 'bumped', ENGINE_ACTOR, null, now, 'seen');
        else if (changed) this.record(row, scope, 'updated', ENGINE_ACTOR, f.severity === existing.severity ? null : `severity ${existing.severity} → ${f.severity}`, now, 'seen');
        else this.repo.updateSeen(row);
        if (again) result.bumped++;
      }
      for (const gone of open.values()) {
        if (scope.subjects?.[rule] && !scope.subjects[rule].has(gone.subject)) continue;
        this.close(gone, opts.clearedAs?.(gone) ?? CLEARED, scope, now);
        result.cleared++;
      }
    }
    return result;
  }

  /** Closes one open alert (used for cleared findings, retired hosts). */
  close(alert: AlertRow, how: Closure, scope: Pick<ReconcileScope, 'hostname' | 'groups'>, now: number): void {
    const row: AlertRow = { ...alert, status: how.status, resolution: how.resolution, resolved_by: how.actor, resolved_at: now, note: how.note ?? alert.note, updated_at: now };
    this.record(row, scope, how.status, how.actor, how.note, now, 'update');
    this.hintClosed(row.host_id, row.rule, row.subject);
  }

  acknowledge(id: string, actor: string, note: string | null, now: number): Alert {
    const a = this.repo.get(id);
    if (!a) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such alert');
    if (a.status !== 'open') throw new VigilError('VIGIL_ERR_ALERT_STATE', `The alert is ${a.status}; only an open alert can be acknowledged`);
    const row: AlertRow = { ...a, status: 'acknowledged', acknowledged_by: actor, acknowledged_at: now, note: note ?? a.note, updated_at: now };
    return this.record(row, { hostname: a.hostname, groups: groupsOf(a.groups) }, 'acknowledged', actor, note, now, 'update').alert;
  }

  /** A person resolves an open or acknowledged alert. If the breach still holds, the next evaluation opens a new alert. */
  resolve(id: string, actor: string, resolution: Resolution, note: string | null, now: number): Alert {
    const a = this.repo.get(id);
    if (!a) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such alert');
    if (a.status !== 'open' && a.status !== 'acknowledged') throw new VigilError('VIGIL_ERR_ALERT_STATE', `The alert is already ${a.status}`);
    const row: AlertRow = { ...a, status: 'resolved', resolution, resolved_by: actor, resolved_at: now, note: note ?? a.note, updated_at: now };
    const change = this.record(row, { hostname: a.hostname, groups: groupsOf(a.groups) }, 'resolved', actor, note, now, 'update');
    this.hintClosed(row.host_id, row.rule, row.subject);
    return change.alert;
  }

  /** Where the pending list stands, to drop what a failed savepoint recorded (`rollbackTo`). */
  mark(): number {
    return this.pending.length;
  }

  rollbackTo(mark: number): void {
    this.pending.length = Math.min(this.pending.length, mark);
  }

  /** The changes recorded since the last call (to publish after commit, or drop after a rollback). */
  takePending(): AlertChange[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /**
   * Records a change: its event (the alert as it stands, with the cursor of its previous change),
   * then the alert's row written as `write` says with the new event's seq as its cursor, the audit
   * entry and the notification.
   */
  private record(
    row: AlertRow,
    scope: Pick<ReconcileScope, 'hostname' | 'groups'>,
    action: AlertAction,
    actor: string,
    note: string | null,
    now: number,
    write: 'insert' | 'update' | 'seen',
  ): AlertChange {
    const alert = toAlert(row, scope.hostname);
    const cursor = this.repo.appendEvent(row.id, now, action, actor, note, alert);
    row.cursor = cursor;
    if (write === 'insert') this.repo.insert(row);
    else if (write === 'update') this.repo.update(row);
    else this.repo.updateSeen(row);
    alert.cursor = String(cursor);
    const change: AlertChange = { cursor, action, actor, note, alert, groups: scope.groups };
    const audited = AUDITED[action];
    if (audited) {
      this.sinks.audit?.(
        {
          actor,
          action: audited,
          subject: row.id,
          details: { rule: row.rule, hostId: row.host_id, subject: row.subject, severity: row.severity, status: row.status, resolution: row.resolution, count: row.count, ...(note ? { note } : {}) },
        },
        now,
      );
    }
    if (row.monitor_only === 0) this.sinks.notify?.(change, now);
    this.pending.push(change);
    return change;
  }
}
