import type { Alert, AlertAction, AlertHistoryEntry, AlertListQuery, AlertStatus, ListEnvelope, Resolution, RuleId, Severity } from '@vigil/shared';
import { VigilError } from '@vigil/shared';
import type { Db } from './database.js';
import { parseJsonColumn } from './json-column.js';

export interface AlertRow {
  id: string;
  rule: RuleId;
  host_id: string | null;
  subject: string;
  severity: Severity;
  status: AlertStatus;
  first_seen_at: number;
  last_seen_at: number;
  count: number;
  details: string;
  monitor_only: number;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  resolution: Resolution | null;
  resolved_by: string | null;
  resolved_at: number | null;
  note: string | null;
  updated_at: number;
  cursor: number;
}

/** An alert row with its host's name and groups, as lists and the feed need them. */
export interface AlertView extends AlertRow {
  hostname: string | null;
  groups: string | null;
}

/** One stored change of an alert (the feed's unit). */
export interface AlertEventRow {
  seq: number;
  alert_id: string;
  at: number;
  action: AlertAction;
  actor: string;
  note: string | null;
  alert: string;
  groups: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The API shape of a row. */
export function toAlert(r: AlertRow, hostname: string | null): Alert {
  return {
    id: r.id,
    rule: r.rule,
    hostId: r.host_id,
    hostname,
    subject: r.subject,
    severity: r.severity,
    status: r.status,
    firstSeenAt: new Date(r.first_seen_at).toISOString(),
    lastSeenAt: new Date(r.last_seen_at).toISOString(),
    count: r.count,
    details: parseJsonColumn<Record<string, unknown>>(r.details, {}),
    monitorOnly: r.monitor_only === 1,
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAt: iso(r.acknowledged_at),
    resolution: r.resolution,
    resolvedBy: r.resolved_by,
    resolvedAt: iso(r.resolved_at),
    note: r.note,
    updatedAt: new Date(r.updated_at).toISOString(),
    cursor: String(r.cursor),
  };
}

const OPEN = "status IN ('open', 'acknowledged')";

/** Filters of the REST list and the feed, as SQL over `alerts a LEFT JOIN hosts h`. */
function filterSql(q: Partial<AlertListQuery>, params: Record<string, unknown>): string[] {
  const where: string[] = [];
  const list = (name: string, column: string, values: readonly string[] | undefined) => {
    if (!values?.length) return;
    where.push(`${column} IN (${values.map((_, i) => `@${name}${i}`).join(', ')})`);
    values.forEach((v, i) => (params[`${name}${i}`] = v));
  };
  list('status', 'a.status', q.status);
  list('rule', 'a.rule', q.rule);
  list('severity', 'a.severity', q.severity);
  if (q.hostId) {
    where.push('a.host_id = @hostId');
    params.hostId = q.hostId;
  }
  if (q.group) {
    where.push('EXISTS (SELECT 1 FROM json_each(h.groups) g WHERE g.value = @group)');
    params.group = q.group;
  }
  if (q.since) {
    where.push('a.updated_at >= @since');
    params.since = Date.parse(q.since);
  }
  return where;
}

/**
 * Alerts and their history. One open (or acknowledged) alert per (host, rule, subject) is kept by
 * a partial unique index, so a bug elsewhere fails loudly instead of making duplicates. Methods
 * run inside the caller's transaction.
 */
export class AlertsRepository {
  private readonly openForRule;
  private readonly openForHost;
  private readonly openForSubjectStmt;
  private readonly countOpenForStmt;
  private readonly byId;
  private readonly insertRow;
  private readonly updateRow;
  private readonly updateSeenRow;
  private readonly insertEvent;
  private readonly history;

  constructor(private readonly db: Db) {
    // \`coalesce(host_id, '')\` as in the partial unique index alerts_one_open: these look the open
    // alerts of (host, rule[, subject]) up in it instead of scanning every open alert of the host.
    this.openForRule = db.prepare<[string | null, string], AlertRow>(`SELECT * FROM alerts WHERE coalesce(host_id, '') = coalesce(?, '') AND rule = ? AND ${OPEN}`);
    this.openForSubjectStmt = db.prepare<[string | null, string, string], AlertRow>(
      `SELECT * FROM alerts WHERE coalesce(host_id, '') = coalesce(?, '') AND rule = ? AND subject = ? AND ${OPEN}`,
    );
    this.countOpenForStmt = db.prepare<[string, string], { n: number }>(`SELECT count(*) AS n FROM alerts WHERE coalesce(host_id, '') = ? AND rule = ? AND ${OPEN}`);
    this.openForHost = db.prepare<[string], AlertRow>(`SELECT * FROM alerts WHERE host_id = ? AND ${OPEN}`);
    this.byId = db.prepare<[string], AlertView>(`SELECT a.*, h.hostname, h.groups FROM alerts a LEFT JOIN hosts h ON h.id = a.host_id WHERE a.id = ?`);
    // Positional parameters: binding them is cheaper than binding a copy of the row by name.
    this.insertRow = db.prepare<[string, string, string | null, string, string, string, number, number, number, string, number, number, number]>(
      `INSERT INTO alerts (id, rule, host_id, subject, severity, status, first_seen_at, last_seen_at, count, details, monitor_only, updated_at, cursor)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.updateRow = db.prepare<
      [string, string, number, number, string, string | null, number | null, string | null, string | null, number | null, string | null, number, number, string]
    >(`UPDATE alerts SET severity = ?, status = ?, last_seen_at = ?, count = ?, details = ?, acknowledged_by = ?, acknowledged_at = ?,
      resolution = ?, resolved_by = ?, resolved_at = ?, note = ?, updated_at = ?, cursor = ? WHERE id = ?`);
    // Only columns no index holds: SQLite then leaves the alert's index entries alone.
    this.updateSeenRow = db.prepare<[string, number, number, string, number, number, string]>(
      'UPDATE alerts SET severity = ?, last_seen_at = ?, count = ?, details = ?, updated_at = ?, cursor = ? WHERE id = ?',
    );
    this.insertEvent = db.prepare<[string, number, string, string, string | null, string]>('INSERT INTO alert_events (alert_id, at, action, actor, note, alert) VALUES (?, ?, ?, ?, ?, ?)');
    this.history = db.prepare<[string], { seq: number; at: number; action: AlertAction; actor: string; note: string | null; alert: string }>(
      'SELECT seq, at, action, actor, note, alert FROM alert_events WHERE alert_id = ? ORDER BY seq',
    );
  }

  /** Open or acknowledged alerts of one rule on one host (`hostId` null: fleet-wide). */
  openFor(hostId: string | null, rule: RuleId): AlertRow[] {
    return this.openForRule.all(hostId, rule);
  }

  /** The open alert of one rule and subject on a host, if any (as a list, like openFor). */
  openForSubject(hostId: string | null, rule: RuleId, subject: string): AlertRow[] {
    return this.openForSubjectStmt.all(hostId, rule, subject);
  }

  /** How many open alerts one rule has on a host. */
  countOpenFor(hostId: string, rule: RuleId): number {
    return this.countOpenForStmt.get(hostId, rule)?.n ?? 0;
  }

  openOnHost(hostId: string): AlertRow[] {
    return this.openForHost.all(hostId);
  }

  get(id: string): AlertView | undefined {
    return this.byId.get(id);
  }

  /** A new alert (its cursor included: see `appendEvent`). */
  insert(row: AlertRow): void {
    this.insertRow.run(row.id, row.rule, row.host_id, row.subject, row.severity, row.status, row.first_seen_at, row.last_seen_at, row.count, row.details, row.monitor_only, row.updated_at, row.cursor);
  }

  update(row: AlertRow): void {
    this.updateRow.run(
      row.severity,
      row.status,
      row.last_seen_at,
      row.count,
      row.details,
      row.acknowledged_by,
      row.acknowledged_at,
      row.resolution,
      row.resolved_by,
      row.resolved_at,
      row.note,
      row.updated_at,
      row.cursor,
      row.id,
    );
  }

  /**
   * Writes what judging an alert that stays open changes (severity, last seen, count, details,
   * updated at, cursor): cheaper than `update`, which rewrites the status and its index entries too.
   */
  updateSeen(row: Pick<AlertRow, 'id' | 'severity' | 'last_seen_at' | 'count' | 'details' | 'updated_at' | 'cursor'>): void {
    this.updateSeenRow.run(row.severity, row.last_seen_at, row.count, row.details, row.updated_at, row.cursor, row.id);
  }

  /**
   * Records a change of an alert; returns its seq (the feed cursor). The caller then writes the
   * alert's row with this seq as its `cursor` (one row write per change instead of two).
   */
  appendEvent(alertId: string, at: number, action: AlertAction, actor: string, note: string | null, alert: Alert): number {
    return Number(this.insertEvent.run(alertId, at, action, actor, note, JSON.stringify(alert)).lastInsertRowid);
  }

  historyOf(id: string): AlertHistoryEntry[] {
    return this.history.all(id).map((e) => {
      const a = JSON.parse(e.alert) as Alert;
      return { cursor: String(e.seq), at: new Date(e.at).toISOString(), action: e.action, actor: e.actor, note: e.note, status: a.status, severity: a.severity, count: a.count };
    });
  }

  /** Newest first by id (UUIDv7, so by creation time). */
  list(q: AlertListQuery): ListEnvelope<Alert> {
    const params: Record<string, unknown> = { limit: q.limit + 1 };
    const where = filterSql(q, params);
    if (q.cursor) {
      if (!/^[0-9a-f-]{36}$/.test(q.cursor)) throw new VigilError('VIGIL_ERR_VALIDATION', 'cursor is not valid');
      where.push('a.id < @cursor');
      params.cursor = q.cursor;
    }
    const rows = this.db
      .prepare<Record<string, unknown>, AlertView>(
        `SELECT a.*, h.hostname, h.groups FROM alerts a LEFT JOIN hosts h ON h.id = a.host_id
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.id DESC LIMIT @limit`,
      )
      .all(params);
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    return { items: page.map((r) => toAlert(r, r.hostname)), nextCursor: more ? (page.at(-1)?.id ?? null) : null };
  }

  /** Changes after `seq`, oldest first, with the host's groups for filtering; at most `limit`. */
  eventsAfter(seq: number, limit: number): AlertEventRow[] {
    return this.db
      .prepare<[number, number], AlertEventRow>(
        `SELECT e.seq, e.alert_id, e.at, e.action, e.actor, e.note, e.alert, h.groups FROM alert_events e
         LEFT JOIN alerts a ON a.id = e.alert_id LEFT JOIN hosts h ON h.id = a.host_id
         WHERE e.seq > ? ORDER BY e.seq LIMIT ?`,
      )
      .all(seq, limit);
  }

  /** The latest change's seq (0 when there is none). */
  lastSeq(): number {
    return (this.db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM alert_events').get() as { seq: number }).seq;
  }

  /** `(hostId, rule)` pairs with an open alert of one of `rules`, as `hostId\0rule`. */
  openPairs(rules: readonly RuleId[]): Set<string> {
    const rows = this.db
      .prepare<string[], { host_id: string; rule: string }>(
        `SELECT DISTINCT host_id, rule FROM alerts WHERE ${OPEN} AND host_id IS NOT NULL AND rule IN (${rules.map(() => '?').join(', ')})`,
      )
      .all(...rules);
    return new Set(rows.map((r) => `${r.host_id}\u0000${r.rule}`));
  }

  /** (host, rule, subject) of every open alert. */
  allOpenSubjects(): { host_id: string | null; rule: RuleId; subject: string }[] {
    return this.db.prepare<[], { host_id: string | null; rule: RuleId; subject: string }>(`SELECT host_id, rule, subject FROM alerts WHERE ${OPEN}`).all();
  }

  countOpen(): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM alerts WHERE ${OPEN}`).get() as { n: number }).n;
  }

  /** Open (or acknowledged) alerts by rule and severity (for metrics). */
  countOpenByRuleAndSeverity(): { rule: string; severity: string; n: number }[] {
    return this.db
      .prepare<[], { rule: string; severity: string; n: number }>(`SELECT rule, severity, count(*) AS n FROM alerts WHERE ${OPEN} GROUP BY rule, severity`)
      .all();
  }
}

/** The groups column of a joined host, parsed. */
export const groupsOf = (json: string | null): string[] => (json === null ? [] : parseJsonColumn<string[]>(json, []));
