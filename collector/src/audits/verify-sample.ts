import type { AuditVerifyResult } from '@vigil/shared';
import { entryHash } from '../audit/hash-chain.js';
import { verifyAuditChain, type AuditRow as AuditLogRow } from '../db/audit-repository.js';
import type { AuditHostRow, AuditRow } from '../db/audits-repository.js';
import type { Db } from '../db/database.js';
import { parseJsonColumn } from '../db/json-column.js';
import { ALGORITHM, drawSample, rankKey, populationHash, sampleHash, sizeOfRequest, type PopulationMember } from './sampling.js';

/**
 * Re-derives an audit's sample from its stored seed and population and compares it with the
 * stored sample; compares the population and sample with the hashes the audit log recorded at
 * draw time (so rewriting population and sample together is caught too); and checks the audit
 * log's chain. Reads only: works on a read-only connection (`vigil-collector audit verify`).
 * Returns undefined if there is no such audit.
 */
export function verifySample(db: Db, auditId: string): AuditVerifyResult | undefined {
  const audit = db.prepare<[string], AuditRow>('SELECT * FROM audits WHERE id = ?').get(auditId);
  if (!audit) return undefined;
  const stored = db.prepare<[string], AuditHostRow>('SELECT * FROM audit_hosts WHERE audit_id = ? ORDER BY position').all(auditId);
  const problems: string[] = [];
  const population = parseJsonColumn<PopulationMember[] | null>(audit.population, null);
  if (!Array.isArray(population)) problems.push('the stored population is not readable');
  const members = (population ?? []).filter((m) => typeof m?.hostId === 'string' && typeof m.stratum === 'string');
  const request = parseJsonColumn<Record<string, unknown>>(audit.request, {});

  let recomputed: PopulationMember[] = [];
  if (audit.algorithm !== ALGORITHM) {
    problems.push(`unknown algorithm ${audit.algorithm}`);
  } else {
    try {
      recomputed = drawSample(audit.seed, members, sizeOfRequest(request, members.length)).map((m) => ({ hostId: m.hostId, stratum: m.stratum }));
    } catch (err) {
      problems.push(`the stored request cannot be applied to the stored population: ${(err as Error).message}`);
    }
  }
  const storedSample = stored.map((r) => ({ hostId: r.host_id, stratum: r.stratum }));
  const sampleMatches =
    problems.length === 0 &&
    recomputed.length === storedSample.length && recomputed.every((m, i) => m.hostId === storedSample[i]?.hostId && m.stratum === storedSample[i]?.stratum);
  if (!sampleMatches && problems.length === 0) {
    const want = new Set(recomputed.map((m) => m.hostId));
    const have = new Set(storedSample.map((m) => m.hostId));
    const missing = [...want].filter((x) => !have.has(x));
    const extra = [...have].filter((x) => !want.has(x));
    problems.push(
      `the stored sample differs from the one the seed and population give` +
        (missing.length ? `; missing: ${missing.slice(0, 10).join(', ')}` : '') +
        (extra.length ? `; not drawn: ${extra.slice(0, 10).join(', ')}` : '') +
        (!missing.length && !extra.length ? '; same hosts in another order or strata' : ''),
    );
  }
  if (audit.algorithm === ALGORITHM) {
    const wrongKeys = stored.filter((r) => r.hmac !== rankKey(audit.seed, r.host_id)).length;
    if (wrongKeys) problems.push(`${wrongKeys} stored rank keys are not HMAC-SHA256(seed, host id)`);
  }

  const popHash = populationHash(members);
  const populationMatchesStored = popHash === audit.population_sha256 && members.length === audit.population_size;
  if (!populationMatchesStored) problems.push('the stored population does not match its stored hash or size');

  const entry = db.prepare<[number], AuditLogRow>('SELECT * FROM audit_log WHERE seq = ?').get(audit.audit_log_seq);
  let matchesAuditLog = false;
  if (!entry) {
    problems.push(`the audit-log entry ${audit.audit_log_seq} that recorded the draw is missing`);
  } else {
    const d = parseJsonColumn<Record<string, unknown>>(entry.details, {});
    const selfConsistent = entryHash(entry.prev_hash, entry) === entry.hash;
    matchesAuditLog =
      selfConsistent &&
      entry.action === 'audit.sampled' &&
      entry.subject === `audit:${audit.id}` &&
      d.populationSha256 === popHash &&
      d.sampleSha256 === sampleHash(storedSample) &&
      d.seed === audit.seed &&
      d.algorithm === audit.algorithm;
    if (!matchesAuditLog) problems.push(`the population, sample or seed differ from what audit-log entry ${entry.seq} recorded at draw time`);
  }
  const chain = verifyAuditChain(db);
  if (!chain.ok) problems.push(`the audit log is broken at seq ${chain.brokenAt} (${chain.problem})`);

  return {
    auditId: audit.id,
    ok: problems.length === 0,
    algorithm: audit.algorithm,
    sampleMatches,
    populationMatchesStored,
    matchesAuditLog,
    auditLogIntact: chain.ok,
    populationSha256: popHash,
    recomputedSample: recomputed,
    problems,
  };
}
