import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VigilError } from '@vigil/shared';
import { entryHash, GENESIS_HASH } from '../audit/hash-chain.js';
import { AUDIT_LIMITS, type AuditVerifyResult } from './audit-repository.js';
import { openStore, type Store } from './store.js';

interface Row {
  seq: number;
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

const T0 = Date.parse('2025-03-01T09:00:00Z');
let dir: string;
let store: Store;
const extra: Store[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-audit-'));
  store = openStore({ dataDir: dir, silentAfterMs: 60_000 });
});
afterEach(() => {
  for (const s of [store, ...extra.splice(0)]) s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const row = (seq: number) => store.db.prepare('SELECT * FROM audit_log WHERE seq = ?').get(seq) as Row;
const count = () => (store.db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;

/** What someone with write access to the file does first. */
const dropGuards = () => store.db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');

/** An attacker who knows the algorithm: rewrite a row's details and recompute its own hash. */
function rewrite(seq: number, details: string) {
  const r = row(seq);
  const hash = entryHash(r.prev_hash, { ...r, details });
  store.db.prepare('UPDATE audit_log SET details = ?, hash = ? WHERE seq = ?').run(details, hash, seq);
  return hash;
}

/** n entries, each appended standalone (its own transaction). */
function fill(n: number) {
  for (let i = 1; i <= n; i++) {
    store.audit.append(
      { actor: `api-token:${i % 7}`, action: i % 3 === 0 ? 'alert.opened' : 'policy.changed', subject: i % 5 === 0 ? null : `subject-${i}`, details: { i, note: `entry ${i}` } },
      T0 + i * 1000,
    );
  }
}

const broken = (r: AuditVerifyResult) => {
  if (r.ok) throw new Error(`expected a broken chain, got ${JSON.stringify(r)}`);
  return r;
};

describe('append and head', () => {
  it('chains from the genesis hash, stores canonical details and reports the head', () => {
    expect(store.audit.head()).toBeNull();
    const a = store.audit.append({ actor: 'cli', action: 'token.created', subject: 'api-token:1', details: { role: 'admin', name: 'ops' } }, T0);
    const b = store.audit.append({ actor: 'user:alice', action: 'login' }, T0 + 5);
    expect(a.seq).toBe(1);
    expect(b.seq).toBe(2);
    expect(row(1)).toMatchObject({ prev_hash: GENESIS_HASH, hash: a.hash, details: '{"name":"ops","role":"admin"}' });
    expect(row(2)).toMatchObject({ prev_hash: a.hash, hash: b.hash, subject: null, details: '{}' });
    expect(store.audit.head()).toEqual({ seq: 2, hash: b.hash, at: new Date(T0 + 5).toISOString() });
    expect(store.audit.verify()).toEqual({ ok: true, entries: 2, head: store.audit.head() });
  });

  it('refuses updates and deletes through SQL while the guards are in place', () => {
    store.audit.append({ actor: 'cli', action: 'login' }, T0);
    expect(() => store.db.prepare("UPDATE audit_log SET actor = 'x'").run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(count()).toBe(1);
  });

  it('refuses unknown actions, non-object details and fractional times, writing nothing', () => {
    expect(() => store.audit.append({ actor: 'cli', action: 'nope' as never })).toThrow(/unknown audit action/);
    expect(() => store.audit.append({ actor: 'cli', action: 'login', details: [1, 2] as never })).toThrow(/JSON object/);
    expect(() => store.audit.append({ actor: 'cli', action: 'login' }, 1.5)).toThrow(/milliseconds/);
    expect(count()).toBe(0);
  });

  it('caps attacker-sized details and text, and keeps odd text verifiable', () => {
    const huge = 'x'.repeat(AUDIT_LIMITS.detailsBytes);
    store.audit.append({ actor: 'a'.repeat(1000), action: 'usb.approval.created', subject: `usb:${'é'.repeat(5000)}`, details: { product: huge } }, T0);
    const r = row(1);
    const details = JSON.parse(r.details) as Record<string, unknown>;
    expect(details).toEqual({ truncated: true, bytes: Buffer.byteLength(`{"product":"${huge}"}`), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(r.actor).toHaveLength(AUDIT_LIMITS.actor);
    expect(r.subject).toHaveLength(AUDIT_LIMITS.subject);
    expect(r.subject?.endsWith('…')).toBe(true);

    // A lone surrogate, a NUL and an emoji split at the cap all survive storage and verification.
    store.audit.append({ actor: 'bad\ud800actor', action: 'login', subject: `nul\u0000here${'😀'.repeat(600)}` }, T0 + 1);
    expect(row(2).actor).toBe('bad\ufffdactor');
    expect(row(2).subject?.startsWith('nul\u0000here')).toBe(true);
    expect(store.audit.verify()).toMatchObject({ ok: true, entries: 2 });
  });
});

describe('transactions', () => {
  it('a rolled-back transaction leaves no entry, and the chain continues from the committed head', () => {
    const first = store.audit.append({ actor: 'cli', action: 'login' }, T0);
    expect(() =>
      store.transaction(() => {
        store.audit.append({ actor: 'user:mallory', action: 'policy.changed', details: { version: 2 } }, T0 + 1);
        throw new Error('policy change failed');
      }),
    ).toThrow('policy change failed');
    expect(count()).toBe(1);
    expect(store.audit.head()?.hash).toBe(first.hash);
    const next = store.audit.append({ actor: 'user:alice', action: 'policy.changed' }, T0 + 2);
    expect(next.seq).toBe(2);
    expect(row(2).prev_hash).toBe(first.hash);
    expect(store.audit.verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it('works inside the caller’s transaction, including a nested one that rolls back', () => {
    store.transaction(() => {
      store.audit.append({ actor: 'policy-engine', action: 'alert.opened', subject: 'a1' }, T0);
      expect(() =>
        store.transaction(() => {
          store.audit.append({ actor: 'policy-engine', action: 'alert.escalated', subject: 'a1' }, T0 + 1);
          throw new Error('inner');
        }),
      ).toThrow('inner');
      store.audit.append({ actor: 'policy-engine', action: 'alert.auto_resolved', subject: 'a1' }, T0 + 2);
    });
    const actions = (store.db.prepare('SELECT seq, action FROM audit_log ORDER BY seq').all() as { seq: number; action: string }[]).map((r) => `${r.seq}:${r.action}`);
    expect(actions).toEqual(['1:alert.opened', '2:alert.auto_resolved']);
    expect(store.audit.verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it('chains onto entries another connection appended (no head kept in memory)', () => {
    const other = openStore({ dataDir: dir, silentAfterMs: 60_000 });
    extra.push(other);
    for (let i = 0; i < 20; i++) (i % 2 ? other : store).audit.append({ actor: `conn:${i % 2}`, action: 'login' }, T0 + i);
    expect(store.audit.verify()).toMatchObject({ ok: true, entries: 20 });
    expect(other.audit.head()).toEqual(store.audit.head());
  });
});

describe('verify on 1,000 entries', () => {
  const N = 1000;
  beforeEach(() => {
    fill(N);
    expect(store.audit.verify()).toMatchObject({ ok: true, entries: N, head: { seq: N } });
    dropGuards();
  });

  it('reports progress while streaming', () => {
    const seen: number[] = [];
    store.audit.verify({ onProgress: (n) => seen.push(n), progressEvery: 250 });
    expect(seen).toEqual([250, 500, 750, 1000]);
  });

  it('an UPDATE of one row’s details: altered at that seq', () => {
    store.db.prepare(`UPDATE audit_log SET details = '{"i":500,"note":"nothing to see"}' WHERE seq = 500`).run();
    expect(broken(store.audit.verify())).toMatchObject({ brokenAt: 500, problem: 'altered', entries: 499, lastGoodSeq: 499 });
  });

  it('an UPDATE of the last row: altered at the head', () => {
    store.db.prepare(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = ?`).run(N);
    expect(broken(store.audit.verify())).toMatchObject({ brokenAt: N, problem: 'altered' });
  });

  it('a DELETE of one row: missing at that seq', () => {
    store.db.prepare('DELETE FROM audit_log WHERE seq = 500').run();
    const r = broken(store.audit.verify());
    expect(r).toMatchObject({ brokenAt: 500, problem: 'missing', entries: 499, lastGoodSeq: 499 });
    expect(r.reason).toContain('entry 500 is missing');
  });

  it('a DELETE of a range, or of the first row: missing at the first deleted seq', () => {
    store.db.prepare('DELETE FROM audit_log WHERE seq BETWEEN 200 AND 210').run();
    expect(broken(store.audit.verify())).toMatchObject({ brokenAt: 200, problem: 'missing', reason: expect.stringContaining('200..210') });
    store.db.prepare('DELETE FROM audit_log WHERE seq = 1').run();
    expect(broken(store.audit.verify())).toMatchObject({ brokenAt: 1, problem: 'missing', entries: 0, lastGoodSeq: 0 });
  });

  it('a row rewritten with its own hash recomputed, but not the next prev_hash: replaced at that seq', () => {
    rewrite(500, '{"i":500,"note":"rewritten"}');
    expect(broken(store.audit.verify())).toMatchObject({ brokenAt: 500, problem: 'replaced', entries: 499, lastGoodSeq: 499 });
  });

  it('a first row re-rooted away from the genesis hash', () => {
    const r = row(1);
    const prev = 'a'.repeat(64);
    store.db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = 1').run(prev, entryHash(prev, r));
    expect(broken(store.audit.verify())).toMatchObject({ brokenAt: 1, problem: 'genesis', entries: 0 });
  });

  it('a row inserted in the middle (later rows renumbered): inserted at its seq', () => {
    store.db.exec('UPDATE audit_log SET seq = seq + 1000000 WHERE seq > 500; UPDATE audit_log SET seq = seq - 999999 WHERE seq > 1000000;');
    const prev = row(500).hash;
    const forged = { seq: 501, at: T0 + 500_500, actor: 'api-token:1', action: 'usb.approval.created', subject: 'usb:dead:beef:1', details: '{}' };
    store.db
      .prepare('INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (@seq, @at, @actor, @action, @subject, @details, @prev, @hash)')
      .run({ ...forged, prev, hash: entryHash(prev, forged) });
    expect(count()).toBe(N + 1);
    expect(broken(store.audit.verify())).toMatchObject({ brokenAt: 501, problem: 'inserted', entries: 500, lastGoodSeq: 500 });
  });

  it('two rows swapped: altered at the first of them', () => {
    store.db.exec('UPDATE audit_log SET seq = 1000000 WHERE seq = 300; UPDATE audit_log SET seq = 300 WHERE seq = 301; UPDATE audit_log SET seq = 301 WHERE seq = 1000000;');
    expect(broken(store.audit.verify())).toMatchObject({ brokenAt: 300, problem: 'altered', entries: 299 });
  });

  it('a cut-off tail verifies locally (by design), and fails against the published head', () => {
    const published = store.audit.head();
    if (!published) throw new Error('no head');
    store.db.prepare('DELETE FROM audit_log WHERE seq > 990').run();
    expect(store.audit.verify()).toMatchObject({ ok: true, entries: 990 });
    const r = broken(store.audit.verify({ expectHead: published }));
    expect(r).toMatchObject({ brokenAt: 991, problem: 'head_missing', entries: 990, lastGoodSeq: null });
  });

  it('a tail rewritten with every hash recomputed verifies locally, fails against a later head, passes an earlier one', () => {
    const early = { seq: 990, hash: row(990).hash };
    const published = { seq: N, hash: row(N).hash };
    for (let seq = 995; seq <= N; seq++) {
      const r = row(seq);
      const prev = row(seq - 1).hash;
      const details = seq === 995 ? '{"i":995,"note":"history rewritten"}' : r.details;
      store.db.prepare('UPDATE audit_log SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(details, prev, entryHash(prev, { ...r, details }), seq);
    }
    expect(store.audit.verify()).toMatchObject({ ok: true, entries: N });
    expect(store.audit.verify({ expectHead: early })).toMatchObject({ ok: true, entries: N });
    expect(broken(store.audit.verify({ expectHead: published }))).toMatchObject({ brokenAt: N, problem: 'head_mismatch', entries: N - 1, lastGoodSeq: null });
  });
});

describe('list', () => {
  beforeEach(() => fill(30));

  it('pages newest first with a cursor and no overlap', () => {
    const seqs: number[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = store.audit.list({ limit: 7, ...(cursor ? { cursor } : {}) });
      seqs.push(...page.items.map((i) => i.seq));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
    const top = store.audit.list({ limit: 1 }).items[0];
    expect(top).toMatchObject({ seq: 30, at: new Date(T0 + 30_000).toISOString(), action: 'alert.opened', subject: null, details: { i: 30, note: 'entry 30' } });
    expect(top?.prevHash).toBe(row(29).hash);
  });

  it('filters by action and since', () => {
    expect(store.audit.list({ limit: 100, action: 'alert.opened' }).items.map((i) => i.seq)).toEqual([30, 27, 24, 21, 18, 15, 12, 9, 6, 3]);
    const since = new Date(T0 + 25_000).toISOString();
    expect(store.audit.list({ limit: 100, since }).items.map((i) => i.seq)).toEqual([30, 29, 28, 27, 26, 25]);
    expect(store.audit.list({ limit: 100, since, action: 'alert.opened' }).items.map((i) => i.seq)).toEqual([30, 27]);
  });

  it('refuses a cursor it did not make', () => {
    expect(() => store.audit.list({ limit: 5, cursor: 'bm9wZQ' })).toThrow(VigilError);
  });
});
