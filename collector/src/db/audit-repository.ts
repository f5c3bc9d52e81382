import { createHash } from 'node:crypto';
import type { AuditLogEntry, AuditLogListQuery, ListEnvelope } from '@vigil/shared';
import { LIMITS, VigilError } from '@vigil/shared';
import { isAuditAction, type AuditAction } from '../audit/actions.js';
import { canonicalJson, entryHash, GENESIS_HASH } from '../audit/hash-chain.js';
import type { Db } from './database.js';
import { encodeCursor } from './cursor.js';
import { parseJsonColumn } from './json-column.js';

/**
 * The tamper-evident audit log (`audit_log`): an append-only SHA-256 hash chain, see
 * `audit/hash-chain.ts` for the encoding and for what verification can and cannot detect.
 */

/** Caps on what one entry may hold, so attacker-controlled text cannot bloat the log. */
export const AUDIT_LIMITS = {
  /** Bytes of the details' canonical JSON; larger details are replaced by their size and SHA-256. */
  detailsBytes: 64 * 1024,
  /** Characters; longer text is cut and ends in "…". */
  actor: 256,
  subject: LIMITS.text,
} as const;

export interface AuditAppend {
  actor: string;
  action: AuditAction;
  subject?: string | null;
  /** A JSON object; small, and never a secret. */
  details?: Readonly<Record<string, unknown>>;
}

export interface AuditChainHead {
  seq: number;
  hash: string;
  /** ISO 8601 time of the head entry. */
  at: string;
}

/** A published head to check the chain against (`<seq>:<hash>`). */
export interface ExpectedHead {
  seq: number;
  hash: string;
}

/**
 * How the chain is broken:
 * - `missing`: a gap in seq — entries were deleted (brokenAt: the first missing seq);
 * - `altered`: an entry no longer matches its own hash — a field was changed (brokenAt: that entry);
 * - `replaced`: an entry matches its hash, but the next entry recorded a different hash for it — it
 *   was rewritten and its hash recomputed (brokenAt: the rewritten entry);
 * - `inserted`: two entries claim the same predecessor — one was inserted (brokenAt: the inserted entry);
 * - `genesis`: the first entry does not start from the genesis hash (brokenAt: 1);
 * - `head_mismatch` / `head_missing`: the chain is consistent, but does not contain the expected
 *   (published) head — rewritten from some entry onwards, or cut short (brokenAt: the head's seq,
 *   or the first missing one). Which entries are original cannot be told from the file alone.
 */
export type ChainProblem = 'missing' | 'altered' | 'replaced' | 'inserted' | 'genesis' | 'head_mismatch' | 'head_missing';

export type AuditVerifyResult =
  | { ok: true; entries: number; head: AuditChainHead | null }
  | {
      ok: false;
      /** Entries verified before the break. */
      entries: number;
      brokenAt: number;
      problem: ChainProblem;
      reason: string;
      /** The last entry that can be trusted; null when the file alone cannot tell (head problems). */
      lastGoodSeq: number | null;
    };

export interface VerifyOptions {
  expectHead?: ExpectedHead;
  /** Called with the number of entries checked so far, every `progressEvery` entries. Must not use the database. */
  onProgress?: (entries: number) => void;
  progressEvery?: number;
}

/** A row of `audit_log` as stored. */
export interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Lone surrogates become U+FFFD (what UTF-8 storage would make of them anyway); too long is cut. */
function capText(s: string, max: number): string {
  const clean = s.replace(/\p{Cs}/gu, '\uFFFD');
  if (clean.length <= max) return clean;
  let cut = clean.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function capDetails(details: Readonly<Record<string, unknown>>): string {
  if (details === null || typeof details !== 'object' || Array.isArray(details)) throw new TypeError('audit details must be a JSON object');
  const json = canonicalJson(details);
  if (!json.startsWith('{')) throw new TypeError('audit details must be a JSON object');
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes <= AUDIT_LIMITS.detailsBytes) return json;
  return canonicalJson({ truncated: true, bytes, sha256: createHash('sha256').update(json, 'utf8').digest('hex') });
}

function decodeSeqCursor(cursor: string): number {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 1 && Number.isSafeInteger(key[0]) && (key[0] as number) > 0) return key[0] as number;
  } catch {
    // fall through
  }
  throw new VigilError('VIGIL_ERR_VALIDATION', 'cursor is not valid');
}

const toEntry = (r: AuditRow): AuditLogEntry => ({
  seq: r.seq,
  at: iso(r.at),
  actor: r.actor,
  action: r.action,
  subject: r.subject,
  details: parseJsonColumn<Record<string, unknown>>(r.details, {}),
  prevHash: r.prev_hash,
  hash: r.hash,
});

/**
 * Check the whole chain, streaming over the rows in seq order. Stops at the first problem.
 * Works on a read-only connection (the offline `audit-log verify` command uses it directly).
 */
export function verifyAuditChain(db: Db, opts: VerifyOptions = {}): AuditVerifyResult {
  const every = Math.max(1, opts.progressEvery ?? 10_000);
  const expect = opts.expectHead;
  const rows = db.prepare<[], AuditRow>('SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log ORDER BY seq').iterate();
  let entries = 0;
  let prev: AuditRow | undefined;
  const broken = (brokenAt: number, problem: ChainProblem, reason: string, good = entries): AuditVerifyResult => ({
    ok: false,
    entries: good,
    brokenAt,
    problem,
    reason,
    lastGoodSeq: problem === 'head_mismatch' || problem === 'head_missing' ? null : brokenAt - 1,
  });

  for (const row of rows) {
    const expected = (prev?.seq ?? 0) + 1;
    if (row.seq !== expected) {
      const gap = row.seq - 1 === expected ? `entry ${expected} is` : `entries ${expected}..${row.seq - 1} are`;
      return broken(expected, 'missing', `${gap} missing: seq jumps from ${expected - 1} to ${row.seq} (deleted)`);
    }
    const prevHash = prev?.hash ?? GENESIS_HASH;
    const selfConsistent = entryHash(row.prev_hash, row) === row.hash;
    if (row.prev_hash !== prevHash) {
      if (!prev) {
        return broken(1, 'genesis', 'entry 1 does not start from the genesis hash: earlier entries were removed, or it was forged');
      }
      if (row.prev_hash === prev.prev_hash) {
        return broken(prev.seq, 'inserted', `entry ${prev.seq} was inserted: it and entry ${row.seq} both follow entry ${prev.seq - 1}`, entries - 1);
      }
      if (selfConsistent) {
        return broken(
          prev.seq,
          'replaced',
          `entry ${prev.seq} was rewritten and its hash recomputed: entry ${row.seq} recorded a different hash for it`,
          entries - 1,
        );
      }
      return broken(row.seq, 'altered', `entry ${row.seq} does not match its hash, and does not follow entry ${prev.seq}: it was changed`);
    }
    if (!selfConsistent) {
      return broken(row.seq, 'altered', `entry ${row.seq} does not match its hash: a field was changed after it was written`);
    }
    if (expect && row.seq === expect.seq && row.hash !== expect.hash) {
      return broken(
        row.seq,
        'head_mismatch',
        `entry ${row.seq} is not the published head (its hash is ${row.hash}, the head's ${expect.hash}): the log was rewritten at or before seq ${row.seq}`,
      );
    }
    entries++;
    prev = row;
    if (entries % every === 0) opts.onProgress?.(entries);
  }

  if (expect && expect.seq > entries) {
    return broken(
      entries + 1,
      'head_missing',
      `the log ends at seq ${entries}, before the published head at seq ${expect.seq}: entries were removed from its end`,
    );
  }
  return { ok: true, entries, head: prev ? { seq: prev.seq, hash: prev.hash, at: iso(prev.at) } : null };
}

/** The audit log over one database. */
export class AuditRepository {
  private readonly last;
  private readonly insert;
  private readonly appendRow;
  private readonly appendTx;

  constructor(private readonly db: Db) {
    this.last = db.prepare<[], { seq: number; hash: string; at: number }>('SELECT seq, hash, at FROM audit_log ORDER BY seq DESC LIMIT 1');
    this.insert = db.prepare(
      'INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (@seq, @at, @actor, @action, @subject, @details, @prevHash, @hash)',
    );
    // The previous hash is read from the database inside the transaction (a savepoint when the
    // caller already has one), never kept in memory: a rolled-back caller leaves no trace, and
    // another connection's appends are chained onto. IMMEDIATE when standalone, so two writers
    // cannot both read the same head; seq being the primary key refuses a fork in any case.
    this.appendRow = (e: { at: number; actor: string; action: AuditAction; subject: string | null; details: string }) => {
      const last = this.last.get();
      const seq = (last?.seq ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS_HASH;
      const hash = entryHash(prevHash, { seq, ...e });
      this.insert.run({ seq, ...e, prevHash, hash });
      return { seq, hash };
    };
    this.appendTx = db.transaction(this.appendRow).immediate;
  }

  /**
   * Append one entry. Synchronous; call it inside the transaction that makes the change it
   * records, so both commit or neither does. Works standalone too.
   */
  append(entry: AuditAppend, now: number = Date.now()): { seq: number; hash: string } {
    if (!isAuditAction(entry.action)) throw new TypeError(`unknown audit action: ${String(entry.action)}`);
    if (!Number.isSafeInteger(now)) throw new TypeError('audit time must be whole epoch milliseconds');
    const e = {
      at: now,
      actor: capText(entry.actor, AUDIT_LIMITS.actor),
      action: entry.action,
      subject: entry.subject == null ? null : capText(entry.subject, AUDIT_LIMITS.subject),
      details: capDetails(entry.details ?? {}),
    };
    // Inside the caller's transaction one INSERT is atomic by itself: no savepoint needed (an
    // alert change appends one entry on the ingest path). Standalone: its own IMMEDIATE transaction.
    return this.db.inTransaction ? this.appendRow(e) : this.appendTx(e);
  }

  /** The latest entry: what is published daily and printed on exports. null while the log is empty. */
  head(): AuditChainHead | null {
    const r = this.last.get();
    return r ? { seq: r.seq, hash: r.hash, at: iso(r.at) } : null;
  }

  /** Newest first, with a keyset cursor. */
  list(q: Pick<AuditLogListQuery, 'limit' | 'cursor' | 'action' | 'since'>): ListEnvelope<AuditLogEntry> {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: q.limit + 1 };
    if (q.cursor) {
      where.push('seq < @before');
      params.before = decodeSeqCursor(q.cursor);
    }
    if (q.action) {
      where.push('action = @action');
      params.action = q.action;
    }
    if (q.since) {
      where.push('at >= @since');
      params.since = Date.parse(q.since);
    }
    const rows = this.db
      .prepare<[Record<string, unknown>], AuditRow>(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`,
      )
      .all(params);
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const lastRow = page[page.length - 1];
    return { items: page.map(toEntry), nextCursor: more && lastRow ? encodeCursor([lastRow.seq]) : null };
  }

  /** Check the whole chain; see verifyAuditChain. */
  verify(opts: VerifyOptions = {}): AuditVerifyResult {
    return verifyAuditChain(this.db, opts);
  }
}
