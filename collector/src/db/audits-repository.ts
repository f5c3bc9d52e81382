import type { AuditDecision, AuditExportRecord, AuditListQuery, AuditSampleHost, AuditSummary, ListEnvelope } from '@vigil/shared';
import { VigilError } from '@vigil/shared';
import type { PopulationMember, SampledMember } from '../audits/sampling.js';
import type { Db } from './database.js';
import { parseJsonColumn } from './json-column.js';
import { encodeCursor, decodeCursor } from './cursor.js';

export interface AuditRow {
  id: string;
  title: string | null;
  status: 'open' | 'closed';
  algorithm: string;
  seed: string;
  seed_generated: number;
  request: string;
  period_from: number;
  period_to: number;
  population: string;
  population_size: number;
  population_sha256: string;
  sample_sha256: string;
  pseudonym_key: string | null;
  audit_log_seq: number;
  created_at: number;
  created_by: string;
  closed_at: number | null;
  closed_by: string | null;
}

export interface AuditHostRow {
  audit_id: string;
  position: number;
  host_id: string;
  stratum: string;
  rank: number;
  hmac: string;
  command_id: string | null;
  commanded_at: number | null;
  decision: AuditDecision | null;
  comment: string | null;
  decided_by: string | null;
  decided_at: number | null;
}

interface ExportRow {
  id: string;
  audit_id: string;
  format: 'json' | 'csv' | 'html' | 'pdf';
  sha256: string;
  bytes: number;
  audit_log_seq: number;
  created_at: number;
  created_by: string;
}

/** A host as the population needs it. */
export interface PopulationHost {
  id: string;
  platform: string;
  groups: string[];
}

export interface NewAudit {
  id: string;
  title: string | null;
  algorithm: string;
  seed: string;
  seedGenerated: boolean;
  /** The request as parsed (strata, filters, size or percent, pseudonymisation). */
  request: Record<string, unknown>;
  periodFrom: number;
  periodTo: number;
  population: readonly PopulationMember[];
  populationSha256: string;
  sampleSha256: string;
  pseudonymKey: string | null;
  auditLogSeq: number;
  createdAt: number;
  createdBy: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

/** The stored request's fields the summary shows. */
interface StoredRequest {
  strata?: Record<string, unknown>;
  platforms?: string[];
  groups?: string[];
  pseudonymiseUsers?: boolean;
}

export function toAuditSummary(r: AuditRow, sampleSize: number): AuditSummary {
  const req = parseJsonColumn<StoredRequest>(r.request, {});
  return {
    id: r.id,
    title: r.title,
    status: r.status,
    createdAt: iso(r.created_at),
    createdBy: r.created_by,
    closedAt: isoOrNull(r.closed_at),
    closedBy: r.closed_by,
    algorithm: r.algorithm,
    seed: r.seed,
    seedGenerated: r.seed_generated === 1,
    period: { from: iso(r.period_from), to: iso(r.period_to) },
    strata: req.strata ?? null,
    filters: { platforms: req.platforms ?? null, groups: req.groups ?? null },
    pseudonymiseUsers: req.pseudonymiseUsers === true,
    populationSize: r.population_size,
    populationSha256: r.population_sha256,
    sampleSize,
    sampleSha256: r.sample_sha256,
    auditLogSeq: r.audit_log_seq,
  };
}

export const toExportRecord = (e: ExportRow): AuditExportRecord => ({
  id: e.id,
  format: e.format,
  sha256: e.sha256,
  bytes: e.bytes,
  createdAt: iso(e.created_at),
  createdBy: e.created_by,
  auditLogSeq: e.audit_log_seq,
});

/**
 * Audits: the drawn sample with its seed and exact population, the auditors' decisions, and the
 * exports made. Rows are written by the audits service inside the transaction that appends the
 * matching audit-log entry.
 */
export class AuditsRepository {
  private readonly insertAudit;
  private readonly insertHost;
  private readonly byId;
  private readonly hostsOf;
  private readonly exportsOf;

  constructor(private readonly db: Db) {
    this.insertAudit = db.prepare(`INSERT INTO audits (id, title, status, algorithm, seed, seed_generated, request, period_from,
      period_to, population, population_size, population_sha256, sample_sha256, pseudonym_key, audit_log_seq, created_at, created_by)
      VALUES (@id, @title, 'open', @algorithm, @seed, @seedGenerated, @request, @periodFrom, @periodTo, @population, @populationSize,
      @populationSha256, @sampleSha256, @pseudonymKey, @auditLogSeq, @createdAt, @createdBy)`);
    this.insertHost = db.prepare(`INSERT INTO audit_hosts (audit_id, position, host_id, stratum, rank, hmac)
      VALUES (@auditId, @position, @hostId, @stratum, @rank, @hmac)`);
    this.byId = db.prepare<[string], AuditRow>('SELECT * FROM audits WHERE id = ?');
    this.hostsOf = db.prepare<[string], AuditHostRow>('SELECT * FROM audit_hosts WHERE audit_id = ? ORDER BY position');
    this.exportsOf = db.prepare<[string], ExportRow>('SELECT * FROM audit_exports WHERE audit_id = ? ORDER BY created_at, id');
  }

  /** Every enrolled, non-retired host, optionally only on these platforms / in any of these groups. */
  populationHosts(filters: { platforms?: readonly string[] | undefined; groups?: readonly string[] | undefined }): PopulationHost[] {
    const rows = this.db
      .prepare<[], { id: string; platform: string; groups: string }>(
        `SELECT h.id, h.platform, h.groups FROM hosts h WHERE h.status != 'retired' AND EXISTS (SELECT 1 FROM agents a WHERE a.host_id = h.id) ORDER BY h.id`,
      )
      .all();
    const platforms = filters.platforms ? new Set(filters.platforms) : undefined;
    return rows
      .map((r) => ({ id: r.id, platform: r.platform, groups: parseJsonColumn<string[]>(r.groups, []) }))
      .filter((h) => (!platforms || platforms.has(h.platform)) && (!filters.groups || h.groups.some((g) => filters.groups!.includes(g))));
  }

  create(a: NewAudit, sample: readonly SampledMember[]): void {
    this.insertAudit.run({
      id: a.id,
      title: a.title,
      algorithm: a.algorithm,
      seed: a.seed,
      seedGenerated: a.seedGenerated ? 1 : 0,
      request: JSON.stringify(a.request),
      periodFrom: a.periodFrom,
      periodTo: a.periodTo,
      population: JSON.stringify(a.population),
      populationSize: a.population.length,
      populationSha256: a.populationSha256,
      sampleSha256: a.sampleSha256,
      pseudonymKey: a.pseudonymKey,
      auditLogSeq: a.auditLogSeq,
      createdAt: a.createdAt,
      createdBy: a.createdBy,
    });
    sample.forEach((m, position) => this.insertHost.run({ auditId: a.id, position, ...m }));
  }

  get(id: string): AuditRow | undefined {
    return this.byId.get(id);
  }

  /** Throws 404 if missing; 409 VIGIL_ERR_AUDIT_CLOSED if `mustBeOpen` and closed. */
  require(id: string, mustBeOpen = false): AuditRow {
    const a = this.get(id);
    if (!a) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such audit');
    if (mustBeOpen && a.status !== 'open') throw new VigilError('VIGIL_ERR_AUDIT_CLOSED');
    return a;
  }

  hosts(id: string): AuditHostRow[] {
    return this.hostsOf.all(id);
  }

  exports(id: string): AuditExportRecord[] {
    return this.exportsOf.all(id).map(toExportRecord);
  }

  population(a: AuditRow): PopulationMember[] {
    return parseJsonColumn<PopulationMember[]>(a.population, []);
  }

  list(q: AuditListQuery): ListEnvelope<AuditSummary> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: q.limit + 1 };
    if (q.cursor) {
      const [at, id] = decodeCursor(q.cursor);
      where.push('(a.created_at < @at OR (a.created_at = @at AND a.id < @id))');
      params.at = Number(at);
      params.id = id;
    }
    if (q.status) {
      where.push('a.status = @status');
      params.status = q.status;
    }
    const rows = this.db
      .prepare<[Record<string, unknown>], AuditRow & { sample_size: number }>(
        `SELECT a.*, (SELECT count(*) FROM audit_hosts h WHERE h.audit_id = a.id) AS sample_size FROM audits a
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.created_at DESC, a.id DESC LIMIT @limit`,
      )
      .all(params);
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const last = page.at(-1);
    return { items: page.map((r) => toAuditSummary(r, r.sample_size)), nextCursor: more && last ? encodeCursor([String(last.created_at), last.id]) : null };
  }

  recordCommand(auditId: string, hostId: string, commandId: string, at: number): void {
    this.db.prepare('UPDATE audit_hosts SET command_id = ?, commanded_at = ? WHERE audit_id = ? AND host_id = ?').run(commandId, at, auditId, hostId);
  }

  decide(auditId: string, hostId: string, decision: AuditDecision, comment: string, actor: string, at: number): boolean {
    const r = this.db
      .prepare('UPDATE audit_hosts SET decision = ?, comment = ?, decided_by = ?, decided_at = ? WHERE audit_id = ? AND host_id = ?')
      .run(decision, comment, actor, at, auditId, hostId);
    return r.changes === 1;
  }

  close(auditId: string, actor: string, at: number): boolean {
    return this.db.prepare("UPDATE audits SET status = 'closed', closed_at = ?, closed_by = ? WHERE id = ? AND status = 'open'").run(at, actor, auditId).changes === 1;
  }

  addExport(e: { id: string; auditId: string; format: string; sha256: string; bytes: number; auditLogSeq: number; createdAt: number; createdBy: string }): void {
    this.db
      .prepare(
        `INSERT INTO audit_exports (id, audit_id, format, sha256, bytes, audit_log_seq, created_at, created_by)
         VALUES (@id, @auditId, @format, @sha256, @bytes, @auditLogSeq, @createdAt, @createdBy)`,
      )
      .run(e);
  }

  /** When the first snapshot from a host arrived at or after `since` (fresh evidence); null if none. */
  firstSnapshotSince(hostId: string, since: number): number | null {
    const r = this.db
      .prepare<[string, number], { at: number | null }>(`SELECT min(received_at) AS at FROM messages WHERE host_id = ? AND type = 'snapshot' AND received_at >= ?`)
      .get(hostId, since);
    return r?.at ?? null;
  }
}

export const toSampleHost = (r: AuditHostRow, hostname: string | null, freshAt: number | null): AuditSampleHost => ({
  hostId: r.host_id,
  hostname,
  stratum: r.stratum,
  rank: r.rank,
  hmac: r.hmac,
  commandId: r.command_id,
  freshEvidenceAt: isoOrNull(freshAt),
  decision: r.decision,
  comment: r.comment,
  decidedBy: r.decided_by,
  decidedAt: isoOrNull(r.decided_at),
});
