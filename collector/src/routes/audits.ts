import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  AuditCloseRequest,
  AuditDecisionRequest,
  AuditExportQuery,
  AuditHostParams,
  AuditIdParams,
  AuditListQuery,
  AuditSampleRequest,
  uuidv7,
  VigilError,
  type Audit,
  type AuditSummary,
  type AuditVerifyResult,
  type ListEnvelope,
} from '@vigil/shared';
import type { z } from 'zod';
import { drawAudit } from '../audits/draw.js';
import { reportCsv } from '../audits/export-csv.js';
import { reportHtml } from '../audits/export-html.js';
import { reportPdf } from '../audits/export-pdf.js';
import { auditView, buildReport, type AuditReport } from '../audits/report.js';
import { verifySample } from '../audits/verify-sample.js';
import { actorOf } from '../plugins/auth.js';

/** Response headers of an export: the SHA-256 of exactly the bytes of the body, and where it is recorded. */
export const EXPORT_SHA256_HEADER = 'x-vigil-export-sha256';
export const EXPORT_ID_HEADER = 'x-vigil-export-id';
export const EXPORT_AUDIT_LOG_SEQ_HEADER = 'x-vigil-audit-log-seq';

const CONTENT_TYPES = { json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8', html: 'text/html; charset=utf-8', pdf: 'application/pdf' } as const;

/**
 * Auditor random-sample checks (README "Audits"). Auditors and admins draw samples, record
 * decisions, close audits and export; analysts may read. Every change and every export (with its
 * SHA-256) is appended to the audit log in the transaction that makes it.
 */
export async function auditRoutes(app: FastifyInstance) {
  const readers = app.requireRole('admin', 'analyst', 'auditor');
  const auditors = app.requireRole('admin', 'auditor');

  app.post<{ Body: z.output<typeof AuditSampleRequest> }>(
    '/api/v1/audits',
    { schema: { body: AuditSampleRequest }, preHandler: auditors },
    async (request, reply): Promise<Audit> => {
      const now = Date.now();
      const drawn = drawAudit(app.store, request.body, actorOf(request), now);
      // Fresh evidence: every sampled agent that is connected is asked for a full snapshot now.
      let asked = 0;
      app.store.transaction(() => {
        for (const m of drawn.sample) {
          const commandId = app.gateway.collectNow(m.hostId);
          if (commandId) {
            app.store.audits.recordCommand(drawn.id, m.hostId, commandId, now);
            asked++;
          }
        }
      });
      request.log.info({ auditId: drawn.id, sample: drawn.sample.length, asked, by: request.principal?.name }, 'audit sample drawn');
      reply.code(201);
      return auditView(app.store, app.store.audits.require(drawn.id));
    },
  );

  app.get<{ Querystring: AuditListQuery }>(
    '/api/v1/audits',
    { schema: { querystring: AuditListQuery }, preHandler: readers },
    async (request): Promise<ListEnvelope<AuditSummary>> => app.store.audits.list(request.query),
  );

  app.get<{ Params: AuditIdParams }>('/api/v1/audits/:id', { schema: { params: AuditIdParams }, preHandler: readers }, async (request): Promise<Audit> =>
    auditView(app.store, app.store.audits.require(request.params.id)),
  );

  /** The evidence packs, as the JSON export holds them (not recorded as an export). */
  app.get<{ Params: AuditIdParams }>('/api/v1/audits/:id/report', { schema: { params: AuditIdParams }, preHandler: readers }, async (request): Promise<AuditReport> =>
    buildReport(app.store, app.engine, app.store.audits.require(request.params.id)),
  );

  /** Recomputes the sample from the stored seed and population; compares with the audit log. */
  app.get<{ Params: AuditIdParams }>('/api/v1/audits/:id/verify', { schema: { params: AuditIdParams }, preHandler: readers }, async (request): Promise<AuditVerifyResult> => {
    const r = verifySample(app.store.db, request.params.id);
    if (!r) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such audit');
    return r;
  });

  app.put<{ Params: AuditHostParams; Body: AuditDecisionRequest }>(
    '/api/v1/audits/:id/hosts/:hostId/decision',
    { schema: { params: AuditHostParams, body: AuditDecisionRequest }, preHandler: auditors },
    async (request): Promise<Audit> => {
      const { id, hostId } = request.params;
      const actor = actorOf(request);
      const now = Date.now();
      app.store.transaction(() => {
        app.store.audits.require(id, true);
        if (!app.store.audits.decide(id, hostId, request.body.decision, request.body.comment, actor, now)) {
          throw new VigilError('VIGIL_ERR_NOT_FOUND', 'The host is not in this audit\'s sample');
        }
        app.store.audit.append({ actor, action: 'audit.decided', subject: `audit:${id}`, details: { hostId, decision: request.body.decision, comment: request.body.comment } }, now);
      });
      return auditView(app.store, app.store.audits.require(id));
    },
  );

  app.post<{ Params: AuditIdParams; Body: z.output<typeof AuditCloseRequest> }>(
    '/api/v1/audits/:id/close',
    { schema: { params: AuditIdParams, body: AuditCloseRequest }, preHandler: auditors },
    async (request): Promise<Audit> => {
      const { id } = request.params;
      const actor = actorOf(request);
      const now = Date.now();
      app.store.transaction(() => {
        app.store.audits.require(id, true);
        const rows = app.store.audits.hosts(id);
        app.store.audits.close(id, actor, now);
        app.store.audit.append(
          {
            actor,
            action: 'audit.closed',
            subject: `audit:${id}`,
            details: {
              accepted: rows.filter((r) => r.decision === 'accepted').length,
              exception: rows.filter((r) => r.decision === 'exception').length,
              undecided: rows.filter((r) => r.decision === null).length,
              ...(request.body?.comment ? { comment: request.body.comment } : {}),
            },
          },
          now,
        );
      });
      return auditView(app.store, app.store.audits.require(id));
    },
  );

  /**
   * An export: JSON (complete), CSV (one row per finding), printable HTML, or PDF. The body's SHA-256 is
   * sent in a header, stored with the audit, and appended to the audit log.
   */
  app.get<{ Params: AuditIdParams; Querystring: AuditExportQuery }>(
    '/api/v1/audits/:id/export',
    { schema: { params: AuditIdParams, querystring: AuditExportQuery }, preHandler: auditors },
    async (request, reply) => {
      const { id } = request.params;
      const { format } = request.query;
      const actor = actorOf(request);
      const now = Date.now();
      const report = buildReport(app.store, app.engine, app.store.audits.require(id), now);
      let body: Buffer;
      let rows = report.hosts.length;
      if (format === 'csv') {
        const csv = reportCsv(report);
        body = Buffer.from(csv.text, 'utf8');
        rows = csv.rows;
      } else if (format === 'html') body = Buffer.from(reportHtml(report), 'utf8');
      else if (format === 'pdf') body = await reportPdf(report);
      else body = Buffer.from(`${JSON.stringify(report, null, 2)}\n`, 'utf8');
      const sha256 = createHash('sha256').update(body).digest('hex');
      const exportId = uuidv7(now);
      const seq = app.store.transaction(() => {
        const entry = app.store.audit.append(
          { actor, action: 'export', subject: `audit:${id}`, details: { exportId, format, sha256, bytes: body.length, rows, auditLogHead: `${report.auditLogHead.seq}:${report.auditLogHead.hash}` } },
          now,
        );
        app.store.audits.addExport({ id: exportId, auditId: id, format, sha256, bytes: body.length, auditLogSeq: entry.seq, createdAt: now, createdBy: actor });
        return entry.seq;
      });
      const stamp = report.generatedAt.replace(/[:.]/g, '-');
      reply
        .header('content-type', CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="vigil-audit-${id}-${stamp}.${format}"`)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .header(EXPORT_SHA256_HEADER, sha256)
        .header(EXPORT_ID_HEADER, exportId)
        .header(EXPORT_AUDIT_LOG_SEQ_HEADER, String(seq));
      return reply.send(body);
    },
  );
}
