import type { ApprovalListQuery, CoverageScope, ExceptionListQuery, ListEnvelope, PolicyException, RuleId, UsbApproval as ApiUsbApproval } from '@vigil/shared';
import { uuidv7, VigilError } from '@vigil/shared';
import type { UsbApproval } from '../policy/usb-approval.js';
import type { Db } from './database.js';
import { parseJsonColumn } from './json-column.js';

/**
 * USB approvals and policy exceptions: records people make, kept apart from the policy document.
 * Neither is ever deleted; revoking one stamps it, so reports can show what was accepted, by whom
 * and until when.
 */

interface ApprovalRow {
  id: string;
  device_key: string | null;
  vendor_id: string | null;
  product_id: string | null;
  scope: string;
  expires_at: number | null;
  reason: string;
  created_by: string;
  created_at: number;
  alert_id: string | null;
  revoked_at: number | null;
  revoked_by: string | null;
}

interface ExceptionRow {
  id: string;
  rule: RuleId;
  subject: string | null;
  scope: string;
  expires_at: number;
  reason: string;
  created_by: string;
  created_at: number;
  alert_id: string | null;
  revoked_at: number | null;
  revoked_by: string | null;
}

export interface NewApproval {
  target: { deviceKey: string } | { vendorId: string; productId: string };
  scope: CoverageScope;
  expiresAt: number | null;
  reason: string;
  createdBy: string;
  alertId: string | null;
}

export interface NewException {
  rule: RuleId;
  subject: string | null;
  scope: CoverageScope;
  expiresAt: number;
  reason: string;
  createdBy: string;
  alertId: string | null;
}

/** An exception as the engine uses it. */
export interface ActiveException {
  id: string;
  rule: RuleId;
  subject: string | null;
  scope: CoverageScope;
  expiresAt: number;
  createdBy: string;
  reason: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function page<R extends { id: string }, T>(rows: R[], limit: number, map: (r: R) => T): ListEnvelope<T> {
  const more = rows.length > limit;
  const items = (more ? rows.slice(0, limit) : rows).map(map);
  return { items, nextCursor: more ? (rows[limit - 1]?.id ?? null) : null };
}

/**
 * One page of approvals or exceptions, newest first, keyed by id (UUIDv7): `?active=true` keeps
 * those not revoked and not expired (`unexpired` says when a row has not expired), `false` the rest.
 */
function listRows<R>(
  db: Db,
  table: 'usb_approvals' | 'policy_exceptions',
  q: { limit: number; cursor?: string | undefined; active?: 'true' | 'false' | undefined },
  now: number,
  unexpired: string,
  extra?: { sql: string; params: Record<string, unknown> },
): R[] {
  if (q.cursor !== undefined && !/^[0-9a-f-]{36}$/.test(q.cursor)) throw new VigilError('VIGIL_ERR_VALIDATION', 'cursor is not valid');
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: q.limit + 1, now, ...extra?.params };
  if (q.cursor) {
    where.push('id < @cursor');
    params.cursor = q.cursor;
  }
  if (q.active === 'true') where.push(`revoked_at IS NULL AND ${unexpired}`);
  if (q.active === 'false') where.push(`(revoked_at IS NOT NULL OR NOT ${unexpired})`);
  if (extra) where.push(extra.sql);
  return db.prepare<Record<string, unknown>, R>(`SELECT * FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`).all(params);
}

export class ApprovalsRepository {
  constructor(private readonly db: Db) {}

  private toApi(r: ApprovalRow, now: number): ApiUsbApproval {
    return {
      id: r.id,
      deviceKey: r.device_key,
      vendorId: r.vendor_id,
      productId: r.product_id,
      scope: parseJsonColumn<CoverageScope>(r.scope, { all: true }),
      expiresAt: iso(r.expires_at),
      reason: r.reason,
      createdBy: r.created_by,
      createdAt: new Date(r.created_at).toISOString(),
      alertId: r.alert_id,
      revokedAt: iso(r.revoked_at),
      revokedBy: r.revoked_by,
      active: r.revoked_at === null && (r.expires_at === null || now < r.expires_at),
    };
  }

  create(a: NewApproval, now: number): ApiUsbApproval {
    const row: ApprovalRow = {
      id: uuidv7(now),
      device_key: 'deviceKey' in a.target ? a.target.deviceKey : null,
      vendor_id: 'vendorId' in a.target ? a.target.vendorId : null,
      product_id: 'productId' in a.target ? a.target.productId : null,
      scope: JSON.stringify(a.scope),
      expires_at: a.expiresAt,
      reason: a.reason,
      created_by: a.createdBy,
      created_at: now,
      alert_id: a.alertId,
      revoked_at: null,
      revoked_by: null,
    };
    this.db
      .prepare(`INSERT INTO usb_approvals (id, device_key, vendor_id, product_id, scope, expires_at, reason, created_by, created_at, alert_id)
        VALUES (@id, @device_key, @vendor_id, @product_id, @scope, @expires_at, @reason, @created_by, @created_at, @alert_id)`)
      .run(row);
    return this.toApi(row, now);
  }

  get(id: string, now: number): ApiUsbApproval | undefined {
    const row = this.db.prepare<[string], ApprovalRow>('SELECT * FROM usb_approvals WHERE id = ?').get(id);
    return row && this.toApi(row, now);
  }

  revoke(id: string, by: string, now: number): ApiUsbApproval {
    const changed = this.db.prepare('UPDATE usb_approvals SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL').run(now, by, id).changes;
    const a = this.get(id, now);
    if (!a) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such approval');
    if (changed === 0) throw new VigilError('VIGIL_ERR_CONFLICT', 'The approval is already revoked');
    return a;
  }

  list(q: ApprovalListQuery, now: number): ListEnvelope<ApiUsbApproval> {
    // expires_at NULL: never expires.
    const extra = q.hostId ? { sql: "json_extract(scope, '$.hostId') = @hostId", params: { hostId: q.hostId } } : undefined;
    const rows = listRows<ApprovalRow>(this.db, 'usb_approvals', q, now, '(expires_at IS NULL OR expires_at > @now)', extra);
    return page(rows, q.limit, (r) => this.toApi(r, now));
  }

  /** Every approval not revoked (expired ones too: the evaluator names them as near misses). */
  unrevoked(): UsbApproval[] {
    return this.db
      .prepare<[], ApprovalRow>('SELECT * FROM usb_approvals WHERE revoked_at IS NULL ORDER BY id')
      .all()
      .map((r) => {
        const scope = parseJsonColumn<CoverageScope>(r.scope, { all: true });
        const base = { id: r.id, scope: 'all' in scope ? { all: true as const } : scope, expiresAt: r.expires_at, by: r.created_by, reason: r.reason };
        return r.device_key !== null ? { ...base, deviceKey: r.device_key } : { ...base, vendorId: r.vendor_id ?? '', productId: r.product_id ?? '' };
      });
  }
}

export class ExceptionsRepository {
  constructor(private readonly db: Db) {}

  private toApi(r: ExceptionRow, now: number): PolicyException {
    return {
      id: r.id,
      rule: r.rule,
      subject: r.subject,
      scope: parseJsonColumn<CoverageScope>(r.scope, { all: true }),
      expiresAt: new Date(r.expires_at).toISOString(),
      reason: r.reason,
      createdBy: r.created_by,
      createdAt: new Date(r.created_at).toISOString(),
      alertId: r.alert_id,
      revokedAt: iso(r.revoked_at),
      revokedBy: r.revoked_by,
      active: r.revoked_at === null && now < r.expires_at,
    };
  }

  create(e: NewException, now: number): PolicyException {
    const row: ExceptionRow = {
      id: uuidv7(now),
      rule: e.rule,
      subject: e.subject,
      scope: JSON.stringify(e.scope),
      expires_at: e.expiresAt,
      reason: e.reason,
      created_by: e.createdBy,
      created_at: now,
      alert_id: e.alertId,
      revoked_at: null,
      revoked_by: null,
    };
    this.db
      .prepare(`INSERT INTO policy_exceptions (id, rule, subject, scope, expires_at, reason, created_by, created_at, alert_id)
        VALUES (@id, @rule, @subject, @scope, @expires_at, @reason, @created_by, @created_at, @alert_id)`)
      .run(row);
    return this.toApi(row, now);
  }

  get(id: string, now: number): PolicyException | undefined {
    const row = this.db.prepare<[string], ExceptionRow>('SELECT * FROM policy_exceptions WHERE id = ?').get(id);
    return row && this.toApi(row, now);
  }

  revoke(id: string, by: string, now: number): PolicyException {
    const changed = this.db.prepare('UPDATE policy_exceptions SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL').run(now, by, id).changes;
    const e = this.get(id, now);
    if (!e) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such exception');
    if (changed === 0) throw new VigilError('VIGIL_ERR_CONFLICT', 'The exception is already revoked');
    return e;
  }

  list(q: ExceptionListQuery, now: number): ListEnvelope<PolicyException> {
    const rows = listRows<ExceptionRow>(this.db, 'policy_exceptions', q, now, 'expires_at > @now');
    return page(rows, q.limit, (r) => this.toApi(r, now));
  }

  /** Exceptions in force at `now`. */
  active(now: number): ActiveException[] {
    return this.db
      .prepare<[number], ExceptionRow>('SELECT * FROM policy_exceptions WHERE revoked_at IS NULL AND expires_at > ? ORDER BY id')
      .all(now)
      .map((r) => ({ id: r.id, rule: r.rule, subject: r.subject, scope: parseJsonColumn<CoverageScope>(r.scope, { all: true }), expiresAt: r.expires_at, createdBy: r.created_by, reason: r.reason }));
  }
}
