import type { Audit, AuditReport } from '@vigil/shared';
import type { PolicyEngine } from '../alerts/policy-engine.js';
import { GENESIS_HASH } from '../audit/hash-chain.js';
import { toAuditSummary, toSampleHost, type AuditRow } from '../db/audits-repository.js';
import type { Store } from '../db/store.js';
import { hostEvidence } from './evidence.js';

/** The audit as the API shows it: summary, population, sample with freshness and decisions, exports. */
export function auditView(store: Store, a: AuditRow): Audit {
  const rows = store.audits.hosts(a.id);
  return {
    ...toAuditSummary(a, rows.length),
    population: store.audits.population(a),
    sample: rows.map((r) => toSampleHost(r, store.hosts.get(r.host_id)?.hostname ?? null, store.audits.firstSnapshotSince(r.host_id, a.created_at))),
    exports: store.audits.exports(a.id),
  };
}

export type { AuditReport };

export function buildReport(store: Store, engine: PolicyEngine, a: AuditRow, now = Date.now()): AuditReport {
  const head = store.audit.head();
  return {
    format: 'vigil-audit-report-v1',
    generatedAt: new Date(now).toISOString(),
    auditLogHead: head ?? { seq: 0, hash: GENESIS_HASH, at: null },
    policyVersion: engine.policyInForce.version,
    audit: auditView(store, a),
    hosts: store.audits.hosts(a.id).map((r) => hostEvidence({ store, engine, audit: a, now }, r)),
  };
}
