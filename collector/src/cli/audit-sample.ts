import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Audit, AuditVerifyResult } from '@vigil/shared';
import { verifySample } from '../audits/verify-sample.js';
import { DB_FILE } from '../db/database.js';

/**
 * `vigil-collector audit sample` (through the running collector's API: the sampled agents are sent
 * collect-now) and `vigil-collector audit verify <audit-id>` (offline, on the data directory,
 * read-only, like `audit-log verify`).
 */

export const AUDIT_SAMPLE_HELP = `Draws a seeded random sample of hosts for an audit through the running collector
(POST /api/v1/audits) and prints the audit id, seed and sampled hosts. The sampled agents are
asked for fresh evidence at once. Re-derive it with \`vigil-collector audit verify <audit-id>\`
or by hand (README, "Audits").

Exit codes: 0 drawn, 1 the collector refused or could not be reached, 2 bad usage.`;

export const AUDIT_SAMPLE_VERIFY_HELP = `Recomputes an audit's sample from its stored seed and population, compares it with the
stored sample, and compares both with the hashes the tamper-evident audit log recorded at draw
time (and checks that log's chain). Opens the data directory's database read-only.

Exit codes: 0 the sample matches, 1 it does not (tampered) or cannot be read, 2 bad usage,
no database or no such audit.`;

export function describeAudit(a: Audit): string {
  const lines = [
    `audit ${a.id} drawn: ${a.sampleSize} of ${a.populationSize} hosts`,
    `algorithm:  ${a.algorithm}`,
    `seed:       ${a.seed}${a.seedGenerated ? ' (generated)' : ''}`,
    `period:     ${a.period.from} – ${a.period.to}`,
    `population: sha256 ${a.populationSha256}`,
    `sample:     sha256 ${a.sampleSha256} (audit log seq ${a.auditLogSeq})`,
    '',
    ...a.sample.map((m) => `${m.stratum}\t${m.rank}\t${m.hostId}\t${m.hostname ?? ''}\t${m.commandId ? 'collect-now sent' : 'agent not connected'}`),
  ];
  return `${lines.join('\n')}\n`;
}

export type AuditVerifyOutcome = { ok: true; exitCode: 0 | 1; text: string } | { ok: false; errors: string[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function describeVerify(r: AuditVerifyResult): string {
  if (r.ok) {
    return [
      `audit ${r.auditId}: sample MATCHES`,
      `recomputed ${r.recomputedSample.length} hosts with ${r.algorithm} from the stored seed and population;`,
      `population sha256 ${r.populationSha256} is the one the audit log recorded at draw time; the audit log is intact`,
      '',
    ].join('\n');
  }
  return [`audit ${r.auditId}: MISMATCH`, ...r.problems.map((p) => `  - ${p}`), ''].join('\n');
}

export function auditSampleVerify(opts: { dataDir: string; auditId: string | undefined; json?: boolean }): AuditVerifyOutcome {
  const errors: string[] = [];
  if (!opts.auditId) errors.push('audit verify: give the audit id');
  else if (!UUID.test(opts.auditId)) errors.push(`audit verify: ${opts.auditId} is not an audit id`);
  const file = path.join(opts.dataDir, DB_FILE);
  if (!fs.existsSync(file)) errors.push(`no database at ${file} (check --data-dir / VIGIL_DATA_DIR)`);
  if (errors.length) return { ok: false, errors };
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    return { ok: false, errors: [`cannot open ${file}: ${(err as Error).message}`] };
  }
  try {
    db.pragma('busy_timeout = 5000');
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audits'").get()) {
      return { ok: false, errors: [`${file} has no audits yet (an older schema: start the collector once to upgrade it)`] };
    }
    let result: AuditVerifyResult | undefined;
    try {
      result = verifySample(db, opts.auditId!);
    } catch (err) {
      const message = `the audit could not be read: ${(err as Error).message}`;
      return { ok: true, exitCode: 1, text: opts.json ? `${JSON.stringify({ ok: false, error: message })}\n` : `${message}\n` };
    }
    if (!result) return { ok: false, errors: [`no audit ${opts.auditId} in ${file}`] };
    return { ok: true, exitCode: result.ok ? 0 : 1, text: opts.json ? `${JSON.stringify(result)}\n` : describeVerify(result) };
  } finally {
    db.close();
  }
}
