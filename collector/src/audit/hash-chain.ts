import { createHash } from 'node:crypto';

/**
 * The audit log's hash chain. Pure: no I/O.
 *
 * Every row of `audit_log` stores `prev_hash` (the `hash` of the row before it, or the genesis
 * value for seq 1) and `hash`, computed as follows, so that anyone holding a copy of the SQLite
 * file can verify the chain without Vigil:
 *
 *     hash = lowercase hex of SHA-256 over the bytes
 *
 *       "vigil-audit-v1\n"                      (the 15 ASCII bytes of the format tag, newline included)
 *       ns(prev_hash)                           64 lowercase hex digits; genesis: 64 × "0"
 *       ns(seq)                                 decimal integer, no sign, no leading zeros (1, 2, …)
 *       ns(at)                                  epoch milliseconds as a decimal integer
 *       ns(actor)
 *       ns(action)
 *       subject == NULL ? "-" : ns(subject)
 *       ns(details)                             the `details` column's text exactly as stored
 *
 *     where ns(x) is a netstring: the decimal length of x in UTF-8 *bytes*, ":", the UTF-8 bytes
 *     of x, ",". E.g. ns("é") = "2:é,". A netstring always starts with a digit, so the "-" that
 *     stands for a NULL subject cannot be confused with one, and no two different rows encode to
 *     the same bytes.
 *
 * Every text is taken as SQLite stores it (UTF-8). `details` is a JSON object written in
 * canonical form (keys sorted by UTF-16 code units, no whitespace, strings and numbers as
 * ECMAScript's JSON.stringify writes them — RFC 8785 for the values Vigil stores), so the same
 * details give the same hash whatever order the keys were built in. A verifier hashes the stored
 * text as it is and need not re-canonicalise it.
 *
 * A sketch in Python, for an auditor:
 *
 *     ns = lambda b: str(len(b)).encode() + b":" + b + b","
 *     prev = "0" * 64
 *     for seq, at, actor, action, subject, details, prev_hash, h in db.execute(
 *             "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log ORDER BY seq"):
 *         m = b"vigil-audit-v1\n" + ns(prev_hash.encode()) + ns(str(seq).encode()) + ns(str(at).encode()) \
 *             + ns(actor.encode()) + ns(action.encode()) + (b"-" if subject is None else ns(subject.encode())) \
 *             + ns(details.encode())
 *         assert prev_hash == prev and hashlib.sha256(m).hexdigest() == h, seq
 *         prev = h
 *
 * What the chain shows: a changed field (the row no longer matches its hash), a deleted row (a gap
 * in seq), an inserted or reordered row (a seq or prev_hash that does not fit). What it cannot show
 * on its own: a truncated tail, or a tail rewritten from some row onwards with every hash
 * recomputed — the result is again a valid chain. That is why the head `{seq, hash}` is published
 * outside the database every day and on every export: a later verification against a published
 * head fails if the chain no longer contains it.
 */

export const HASH_FORMAT_TAG = 'vigil-audit-v1\n';

/** `prev_hash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** What one entry's hash covers (besides the previous hash). */
export interface ChainFields {
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  /** The stored text (canonical JSON), or an object that is canonicalised first. */
  details: string | Readonly<Record<string, unknown>>;
}

const MAX_DEPTH = 64;

function write(value: unknown, depth: number): string | undefined {
  if (depth > MAX_DEPTH) throw new TypeError(`audit details nest deeper than ${MAX_DEPTH} levels`);
  let v = value;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON(): unknown }).toJSON();
  }
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('audit details cannot hold a bigint');
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) return `[${v.map((item) => write(item, depth + 1) ?? 'null').join(',')}]`;
      const obj = v as Record<string, unknown>;
      const members: string[] = [];
      for (const key of Object.keys(obj).sort()) {
        const s = write(obj[key], depth + 1);
        if (s !== undefined) members.push(`${JSON.stringify(key)}:${s}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      // undefined, functions and symbols are left out, as JSON.stringify does.
      return undefined;
  }
}

/**
 * Canonical JSON: JSON.stringify's values and escaping, object keys sorted by UTF-16 code units,
 * no whitespace. `undefined` members are dropped and non-finite numbers become null, as in JSON.
 */
export function canonicalJson(value: unknown): string {
  const s = write(value, 0);
  if (s === undefined) throw new TypeError('value has no JSON representation');
  return s;
}

const netstring = (s: string) => `${Buffer.byteLength(s, 'utf8')}:${s},`;

/** The exact bytes hashed for one entry (see the file header). */
export function entryPreimage(prevHash: string, e: ChainFields): Buffer {
  const details = typeof e.details === 'string' ? e.details : canonicalJson(e.details);
  const parts = [
    HASH_FORMAT_TAG,
    netstring(prevHash),
    netstring(String(e.seq)),
    netstring(String(e.at)),
    netstring(e.actor),
    netstring(e.action),
    e.subject === null ? '-' : netstring(e.subject),
    netstring(details),
  ];
  return Buffer.from(parts.join(''), 'utf8');
}

/** SHA-256 (lowercase hex) of one entry chained to `prevHash`. */
export function entryHash(prevHash: string, e: ChainFields): string {
  return createHash('sha256').update(entryPreimage(prevHash, e)).digest('hex');
}
