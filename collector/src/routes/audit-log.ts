import type { FastifyInstance } from 'fastify';
import { AuditLogListQuery, type AuditHead, type AuditLogEntry, type ListEnvelope } from '@vigil/shared';
import { GENESIS_HASH } from '../audit/hash-chain.js';

/** The tamper-evident audit log, for admins and auditors: entries newest first, and the chain head. */
export async function auditLogRoutes(app: FastifyInstance) {
  const readers = app.requireRole('admin', 'auditor');

  app.get<{ Querystring: AuditLogListQuery }>(
    '/api/v1/audit-log',
    { schema: { querystring: AuditLogListQuery }, preHandler: readers },
    async (request): Promise<ListEnvelope<AuditLogEntry>> => app.store.audit.list(request.query),
  );

  /** What is published daily and printed on exports; `vigil-collector audit-log verify --expect-head seq:hash` checks it later. */
  app.get('/api/v1/audit-log/head', { preHandler: readers }, async (): Promise<AuditHead> => app.store.audit.head() ?? { seq: 0, hash: GENESIS_HASH, at: null });
}
