import {
  DEFAULT_NOTIFY_ACTIONS,
  issueList,
  MAX_NOTIFICATION_TARGETS,
  NotificationFilter,
  NotificationPayload,
  REDACTED,
  SENSITIVE_HEADER,
  SlackConfig,
  SyslogConfig,
  uuidv7,
  VigilError,
  WebhookConfig,
  type CreateNotificationTargetRequest,
  type DeliveryCounts,
  type DeliveryKind,
  type DeliveryListQuery,
  type DeliveryStatus,
  type ListEnvelope,
  type NotificationDelivery,
  type NotificationTarget,
  type NotificationTargetKind,
  type UpdateNotificationTargetRequest,
} from '@vigil/shared';
import type { z } from 'zod';
import { filterMatches } from '../notifiers/target-filter.js';
import type { AlertNotice, AuditHead, OutgoingDelivery, StoredTarget } from '../notifiers/types.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { Db } from './database.js';
import { parseJsonColumn } from './json-column.js';

interface TargetRow {
  id: string;
  name: string;
  kind: string;
  config: string;
  filter: string;
  enabled: number;
  created_by: string;
  created_at: number;
}

interface DeliveryRow {
  id: number;
  target_id: string;
  target_name: string;
  kind: DeliveryKind;
  event_seq: number | null;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

/** A non-deleted target, parsed once and cached: `target` is null if its stored config is damaged. */
interface CachedTarget {
  id: string;
  enabled: boolean;
  filter: NotificationFilter;
  target: StoredTarget | null;
  row: TargetRow;
}

export interface ClaimOptions {
  /** Most deliveries to claim in this call. */
  limit: number;
  /** A claimed delivery is not due again before `now + leaseMs` (covers a crash mid-send). */
  leaseMs: number;
  /** How many more deliveries a target may have in flight now. */
  room(targetId: string): number;
}

export interface ClaimResult {
  claimed: OutgoingDelivery[];
  /** Claimed rows whose target or payload is unusable: already marked failed. */
  unusable: number;
  /** Earliest time another delivery is due for a target that still has room; null: none pending. */
  nextDueAt: number | null;
}

const CONFIG_SCHEMAS: Record<NotificationTargetKind, z.ZodType> = { webhook: WebhookConfig, slack: SlackConfig, syslog: SyslogConfig };
const DEFAULT_FILTER: NotificationFilter = { actions: [...DEFAULT_NOTIFY_ACTIONS] };
const MAX_ERROR_CHARS = 500;
const NO_DELIVERIES: DeliveryCounts = { pending: 0, delivered: 0, failed: 0 };

const iso = (ms: number) => new Date(ms).toISOString();
const isKind = (k: string): k is NotificationTargetKind => k in CONFIG_SCHEMAS;

function parseTarget(row: TargetRow): StoredTarget | null {
  if (!isKind(row.kind)) return null;
  const config = CONFIG_SCHEMAS[row.kind].safeParse(parseJsonColumn(row.config, null));
  return config.success ? ({ id: row.id, name: row.name, kind: row.kind, config: config.data } as StoredTarget) : null;
}

/** What the API may show of a config: no secret, no credential header values. */
function publicConfig(target: StoredTarget): NotificationTarget['config'] {
  if (target.kind !== 'webhook') return target.config;
  const { url, headers, secret } = target.config;
  const shown = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SENSITIVE_HEADER.test(k) ? REDACTED : v]));
  return { url, headers: shown, hasSecret: secret !== undefined };
}

/**
 * Merge a PATCH's config into the stored one and validate the result for the target's kind.
 * Webhooks: `secret: null` removes the secret; a header value of REDACTED keeps the stored value.
 */
function mergeConfig(target: StoredTarget, patch: Record<string, unknown>): StoredTarget['config'] {
  const merged: Record<string, unknown> = { ...target.config, ...patch };
  if (target.kind === 'webhook') {
    if (patch.secret === null) delete merged.secret;
    const headers = patch.headers;
    if (headers !== null && typeof headers === 'object' && !Array.isArray(headers)) {
      const stored = new Map(Object.entries(target.config.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const kept: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(headers)) {
        if (value !== REDACTED) kept[name] = value;
        else if (stored.has(name.toLowerCase())) kept[name] = stored.get(name.toLowerCase());
        else throw new VigilError('VIGIL_ERR_VALIDATION', `Header ${name.slice(0, 64)} has no stored value to keep`);
      }
      merged.headers = kept;
    }
  }
  const parsed = CONFIG_SCHEMAS[target.kind].safeParse(merged);
  if (!parsed.success) {
    const details = issueList(parsed.error).map((i) => ({ ...i, path: i.path ? `config.${i.path}` : 'config' }));
    throw new VigilError('VIGIL_ERR_VALIDATION', `The configuration is not valid for a ${target.kind} target`, { details });
  }
  return parsed.data as StoredTarget['config'];
}

const clipError = (e: string) => (e.length > MAX_ERROR_CHARS ? `${e.slice(0, MAX_ERROR_CHARS - 1)}…` : e);

/**
 * Notification targets, and the durable queue of deliveries to them. `enqueue*` run inside the
 * caller's transaction (the alert change and its deliveries commit together), so they are
 * synchronous and cheap: the target list is cached in memory and dropped on every target change.
 */
export class NotificationsRepository {
  private cache: CachedTarget[] | null = null;
  private claimRotation = 0;
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      targets: db.prepare<[], TargetRow>('SELECT * FROM notification_targets WHERE deleted_at IS NULL ORDER BY created_at, id'),
      insertTarget: db.prepare(`INSERT INTO notification_targets (id, name, kind, config, filter, enabled, created_by, created_at)
        VALUES (@id, @name, @kind, @config, @filter, @enabled, @createdBy, @createdAt)`),
      updateTarget: db.prepare(`UPDATE notification_targets SET name = @name, config = @config, filter = @filter, enabled = @enabled
        WHERE id = @id AND deleted_at IS NULL`),
      deleteTarget: db.prepare('UPDATE notification_targets SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      failPendingOf: db.prepare(`UPDATE notification_deliveries SET status = 'failed', last_error = ? WHERE target_id = ? AND status = 'pending'`),
      insertDelivery: db.prepare<[string, DeliveryKind, number | null, string, number, number]>(
        `INSERT INTO notification_deliveries (target_id, kind, event_seq, payload, status, attempts, next_attempt_at, created_at)
         VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)`,
      ),
      delivery: db.prepare<[number], DeliveryRow>(`SELECT d.*, t.name AS target_name FROM notification_deliveries d
        JOIN notification_targets t ON t.id = d.target_id WHERE d.id = ?`),
      due: db.prepare<[string, number, number, number], { id: number }>(`SELECT id FROM notification_deliveries
        WHERE target_id = ? AND status = 'pending' AND next_attempt_at <= ? AND (? OR kind = 'test')
        ORDER BY next_attempt_at, id LIMIT ?`),
      claim: db.prepare<[number, number], Pick<DeliveryRow, 'id' | 'payload' | 'attempts'>>(`UPDATE notification_deliveries
        SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ? AND status = 'pending' RETURNING id, payload, attempts`),
      nextDue: db.prepare<[string, number], { at: number | null }>(`SELECT min(next_attempt_at) AS at FROM notification_deliveries
        WHERE target_id = ? AND status = 'pending' AND (? OR kind = 'test')`),
      delivered: db.prepare(`UPDATE notification_deliveries SET status = 'delivered', delivered_at = ? WHERE id = ? AND status != 'delivered'`),
      retry: db.prepare(`UPDATE notification_deliveries SET last_error = ?, next_attempt_at = ? WHERE id = ? AND status = 'pending'`),
      failed: db.prepare(`UPDATE notification_deliveries SET status = 'failed', last_error = ? WHERE id = ? AND status = 'pending'`),
      countsByTarget: db.prepare<[], { target_id: string; status: DeliveryStatus; n: number }>(
        'SELECT target_id, status, count(*) AS n FROM notification_deliveries GROUP BY target_id, status',
      ),
      countsOf: db.prepare<[string], { status: DeliveryStatus; n: number }>(
        'SELECT status, count(*) AS n FROM notification_deliveries WHERE target_id = ? GROUP BY status',
      ),
      counts: db.prepare<[], { status: DeliveryStatus; n: number }>('SELECT status, count(*) AS n FROM notification_deliveries GROUP BY status'),
    };
  }

  // --- targets

  private targets(): CachedTarget[] {
    this.cache ??= this.stmts.targets.all().map((row) => ({
      id: row.id,
      enabled: row.enabled === 1,
      filter: NotificationFilter.safeParse(parseJsonColumn(row.filter, {})).data ?? DEFAULT_FILTER,
      target: parseTarget(row),
      row,
    }));
    return this.cache;
  }

  private invalidate(): void {
    this.cache = null;
  }

  private cached(id: string): CachedTarget | undefined {
    return this.targets().find((t) => t.id === id);
  }

  private view(t: CachedTarget & { target: StoredTarget }, counts: DeliveryCounts): NotificationTarget {
    const base = {
      id: t.id,
      name: t.row.name,
      filter: t.filter,
      enabled: t.enabled,
      createdBy: t.row.created_by,
      createdAt: iso(t.row.created_at),
      deliveries: counts,
    };
    return { ...base, kind: t.target.kind, config: publicConfig(t.target) } as NotificationTarget;
  }

  private countsByTarget(): Map<string, DeliveryCounts> {
    const m = new Map<string, DeliveryCounts>();
    for (const r of this.stmts.countsByTarget.all()) {
      let c = m.get(r.target_id);
      if (!c) m.set(r.target_id, (c = { pending: 0, delivered: 0, failed: 0 }));
      c[r.status] = r.n;
    }
    return m;
  }

  /**
   * Every non-deleted target, oldest first (there are at most MAX_NOTIFICATION_TARGETS). A target
   * whose stored config no longer parses (only a hand-edited database has one) is left out; it
   * is sent nothing and can still be deleted by id.
   */
  listTargets(): NotificationTarget[] {
    const counts = this.countsByTarget();
    return this.targets().flatMap((t) => (t.target ? [this.view({ ...t, target: t.target }, counts.get(t.id) ?? NO_DELIVERIES)] : []));
  }

  getTarget(id: string): NotificationTarget | undefined {
    const t = this.cached(id);
    if (!t?.target) return undefined;
    const c: DeliveryCounts = { ...NO_DELIVERIES };
    for (const r of this.stmts.countsOf.all(id)) c[r.status] = r.n;
    return this.view({ ...t, target: t.target }, c);
  }

  createTarget(req: CreateNotificationTargetRequest, createdBy: string, now = Date.now()): NotificationTarget {
    if (this.targets().length >= MAX_NOTIFICATION_TARGETS) {
      throw new VigilError('VIGIL_ERR_CONFLICT', `At most ${MAX_NOTIFICATION_TARGETS} notification targets; delete one first`);
    }
    const id = uuidv7(now);
    this.stmts.insertTarget.run({
      id,
      name: req.name,
      kind: req.kind,
      config: JSON.stringify(req.config),
      filter: JSON.stringify(req.filter),
      enabled: req.enabled ? 1 : 0,
      createdBy,
      createdAt: now,
    });
    this.invalidate();
    return this.getTarget(id) as NotificationTarget;
  }

  /** Undefined: no such (non-deleted) target. Throws VIGIL_ERR_VALIDATION if the merged config is not valid. */
  updateTarget(id: string, patch: UpdateNotificationTargetRequest): NotificationTarget | undefined {
    const t = this.cached(id);
    if (!t) return undefined;
    if (!t.target) throw new VigilError('VIGIL_ERR_CONFLICT', 'The stored configuration of this target is damaged; delete it and create it again');
    const config = patch.config ? mergeConfig(t.target, patch.config) : t.target.config;
    this.stmts.updateTarget.run({
      id,
      name: patch.name ?? t.row.name,
      config: JSON.stringify(config),
      filter: JSON.stringify(patch.filter ?? t.filter),
      enabled: (patch.enabled ?? t.enabled) ? 1 : 0,
    });
    this.invalidate();
    return this.getTarget(id);
  }

  /** Soft delete; its pending deliveries fail with a reason. False: no such target. */
  deleteTarget(id: string, now = Date.now()): boolean {
    const deleted = this.db.transaction(() => {
      if (this.stmts.deleteTarget.run(now, id).changes === 0) return false;
      this.stmts.failPendingOf.run('target deleted before delivery', id);
      return true;
    })();
    this.invalidate();
    return deleted;
  }

  // --- queueing (inside the caller's transaction)

  private insert(targetId: string, kind: DeliveryKind, eventSeq: number | null, payload: string, now: number): number {
    return Number(this.stmts.insertDelivery.run(targetId, kind, eventSeq, payload, now, now).lastInsertRowid);
  }

  /**
   * Queue one alert change for every enabled target whose filter takes it; returns how many.
   * Monitor-only alerts notify nobody.
   */
  enqueueAlert(notice: AlertNotice, now: number): number {
    if (notice.alert.monitorOnly) return 0;
    const targets = this.targets().filter((t) => t.enabled && t.target && filterMatches(t.filter, notice));
    if (targets.length === 0) return 0;
    const payload: NotificationPayload = { type: 'alert', action: notice.action, cursor: notice.cursor, actor: notice.actor, note: notice.note, alert: notice.alert };
    const json = JSON.stringify(payload);
    const seq = Number(notice.cursor);
    for (const t of targets) this.insert(t.id, 'alert', Number.isSafeInteger(seq) ? seq : null, json, now);
    return targets.length;
  }

  /** Queue the audit chain head for every enabled target; returns how many. */
  enqueueAuditHead(head: AuditHead, now: number): number {
    const targets = this.targets().filter((t) => t.enabled && t.target);
    const payload: NotificationPayload = { type: 'audit.head', seq: head.seq, hash: head.hash, at: head.at };
    const json = JSON.stringify(payload);
    for (const t of targets) this.insert(t.id, 'audit-head', head.seq, json, now);
    return targets.length;
  }

  /** Queue a test message to one target (sent even while the target is disabled). Undefined: no such target. */
  enqueueTest(targetId: string, by: string, now: number): NotificationDelivery | undefined {
    if (!this.cached(targetId)) return undefined;
    const payload: NotificationPayload = { type: 'test', at: iso(now), by };
    return this.getDelivery(this.insert(targetId, 'test', null, JSON.stringify(payload), now));
  }

  // --- the dispatcher's side

  /**
   * Claim due deliveries, per target up to its room (so one slow target never holds back the
   * others), oldest due first within a target. Each claimed row's attempts go up by one and it is leased.
   * Disabled targets are paused: only their test deliveries are claimed.
   */
  claimDue(now: number, opts: ClaimOptions): ClaimResult {
    return this.db.transaction((): ClaimResult => {
      const claimed: OutgoingDelivery[] = [];
      let unusable = 0;
      let nextDueAt: number | null = null;
      const leaseUntil = now + opts.leaseMs;
      // Start one target further on each time, so a batch limit never favours the same targets.
      const all = this.targets();
      const first = all.length ? this.claimRotation++ % all.length : 0;
      for (const t of [...all.slice(first), ...all.slice(0, first)]) {
        const left = opts.limit - claimed.length;
        if (left <= 0) {
          nextDueAt = now; // maybe more due: come back at once
          break;
        }
        let room = Math.min(opts.room(t.id), left);
        if (room <= 0) continue;
        for (const { id } of this.stmts.due.all(t.id, now, t.enabled ? 1 : 0, room)) {
          const row = this.stmts.claim.get(leaseUntil, id);
          if (!row) continue;
          const payload = NotificationPayload.safeParse(parseJsonColumn(row.payload, null));
          if (!t.target || !payload.success) {
            this.stmts.failed.run(t.target ? 'stored payload is not valid' : 'target configuration is not valid', id);
            unusable++;
            continue;
          }
          claimed.push({ id, attempts: row.attempts, target: t.target, payload: payload.data });
          room--;
        }
        if (room > 0) {
          const at = this.stmts.nextDue.get(t.id, t.enabled ? 1 : 0)?.at ?? null;
          if (at !== null && (nextDueAt === null || at < nextDueAt)) nextDueAt = at;
        }
      }
      return { claimed, unusable, nextDueAt };
    })();
  }

  markDelivered(id: number, now: number): void {
    this.stmts.delivered.run(now, id);
  }

  /** Record a failed try; the delivery is due again at `at`. */
  scheduleRetry(id: number, error: string, at: number): void {
    this.stmts.retry.run(clipError(error), at, id);
  }

  /** Give up: the delivery stays visible as failed with its last error. */
  markFailed(id: number, error: string): void {
    this.stmts.failed.run(clipError(error), id);
  }

  // --- reading

  getDelivery(id: number): NotificationDelivery | undefined {
    const row = this.stmts.delivery.get(id);
    return row && toDelivery(row);
  }

  /** Newest first, keyset-paged on the id. */
  listDeliveries(q: DeliveryListQuery): ListEnvelope<NotificationDelivery> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: q.limit + 1 };
    if (q.cursor) {
      const [tag, id] = decodeCursor(q.cursor);
      if (tag !== 'd' || !/^\d{1,15}$/.test(id)) throw new VigilError('VIGIL_ERR_VALIDATION', 'cursor is not valid');
      where.push('d.id < @before');
      params.before = Number(id);
    }
    if (q.status) {
      where.push('d.status = @status');
      params.status = q.status;
    }
    if (q.targetId) {
      where.push('d.target_id = @targetId');
      params.targetId = q.targetId;
    }
    const sql = `SELECT d.*, t.name AS target_name FROM notification_deliveries d JOIN notification_targets t ON t.id = d.target_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id DESC LIMIT @limit`;
    const rows = this.db.prepare<Record<string, unknown>, DeliveryRow>(sql).all(params);
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const last = page.at(-1);
    return { items: page.map(toDelivery), nextCursor: more && last ? encodeCursor(['d', String(last.id)]) : null };
  }

  /** Deliveries by status, over every target (for metrics). */
  counts(): DeliveryCounts {
    const c: DeliveryCounts = { pending: 0, delivered: 0, failed: 0 };
    for (const r of this.stmts.counts.all()) c[r.status] = r.n;
    return c;
  }
}

function toDelivery(r: DeliveryRow): NotificationDelivery {
  return {
    id: r.id,
    targetId: r.target_id,
    targetName: r.target_name,
    kind: r.kind,
    eventSeq: r.event_seq,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    lastError: r.last_error,
    createdAt: iso(r.created_at),
    deliveredAt: r.delivered_at === null ? null : iso(r.delivered_at),
    payload: parseJsonColumn(r.payload, { type: 'test', at: iso(r.created_at), by: '(payload damaged)' }),
  };
}
