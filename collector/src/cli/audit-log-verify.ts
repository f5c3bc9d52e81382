import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { GENESIS_HASH } from '../audit/hash-chain.js';
import { verifyAuditChain, type AuditVerifyResult, type ExpectedHead } from '../db/audit-repository.js';
import { DB_FILE } from '../db/database.js';

/**
 * `vigil-collector audit-log verify`: checks the audit log's hash chain in the data directory's
 * database, opened read-only (no migrations, no writes; works while the collector runs).
 * Exit codes: 0 intact, 1 broken or unreadable, 2 bad usage or no database.
 */

export const AUDIT_VERIFY_HELP = `Checks every entry of the tamper-evident audit log against its SHA-256 hash chain and
reports the first broken link. A cut-off or wholly rewritten tail still forms a valid chain:
pass a head published earlier (daily notification, export) with --expect-head to catch that.

Exit codes: 0 intact, 1 broken (or unreadable), 2 bad usage or no database.`;

export type AuditLogVerifyOutcome = { ok: true; exitCode: 0 | 1; text: string } | { ok: false; errors: string[] };

export interface AuditLogVerifyOptions {
  dataDir: string;
  /** `<seq>:<sha256 hex>` as published. */
  expectHead?: unknown;
  json?: boolean;
  onProgress?: (entries: number) => void;
}

export function parseExpectedHead(value: unknown): ExpectedHead | string {
  const m = typeof value === 'string' ? /^(\d{1,15}):([0-9a-fA-F]{64})$/.exec(value.trim()) : null;
  if (!m) return '--expect-head: must be <seq>:<64 hex digits>, as published (e.g. 1042:9f86d081…)';
  const head = { seq: Number(m[1]), hash: (m[2] as string).toLowerCase() };
  if (head.seq === 0 && head.hash !== GENESIS_HASH) return '--expect-head: a head at seq 0 can only be the genesis hash (64 zeros)';
  return head;
}

function describe(r: AuditVerifyResult, expect: ExpectedHead | undefined): string {
  if (r.ok) {
    const lines = [`audit log intact: ${r.entries} ${r.entries === 1 ? 'entry' : 'entries'}, chained from the genesis hash`];
    lines.push(r.head ? `head: ${r.head.seq}:${r.head.hash} (at ${r.head.at})` : `head: 0:${GENESIS_HASH} (empty log)`);
    if (expect) lines.push(`contains the expected head ${expect.seq}:${expect.hash}`);
    return `${lines.join('\n')}\n`;
  }
  const lines = [`audit log BROKEN at seq ${r.brokenAt} (${r.problem}): ${r.reason}`];
  lines.push(
    r.lastGoodSeq === null
      ? `last good seq: unknown — ${r.entries} entries are consistent, but the file alone cannot tell which are original`
      : `last good seq: ${r.lastGoodSeq} (${r.entries} entries verified before the break)`,
  );
  return `${lines.join('\n')}\n`;
}

export function auditLogVerify(opts: AuditLogVerifyOptions): AuditLogVerifyOutcome {
  const errors: string[] = [];
  let expect: ExpectedHead | undefined;
  if (opts.expectHead !== undefined) {
    const parsed = parseExpectedHead(opts.expectHead);
    if (typeof parsed === 'string') errors.push(parsed);
    else expect = parsed;
  }
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
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").get();
    if (!table) return { ok: false, errors: [`${file} has no audit log yet (an older schema: start the collector once to upgrade it)`] };
    let result: AuditVerifyResult;
    try {
      result = verifyAuditChain(db, { ...(expect ? { expectHead: expect } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    } catch (err) {
      const message = `the audit log could not be read: ${(err as Error).message}`;
      return { ok: true, exitCode: 1, text: opts.json ? `${JSON.stringify({ ok: false, error: message })}\n` : `${message}\n` };
    }
    const text = opts.json ? `${JSON.stringify(result)}\n` : describe(result, expect);
    return { ok: true, exitCode: result.ok ? 0 : 1, text };
  } finally {
    db.close();
  }
}
