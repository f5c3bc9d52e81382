import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../db/database.js';
import { MIGRATIONS } from '../db/migrations.js';
import { openStore } from '../db/store.js';
import { auditLogVerify, parseExpectedHead } from './audit-log-verify.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-audit-cli-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function seed(n: number): { seq: number; hash: string } {
  const store = openStore({ dataDir: dir, silentAfterMs: 0 });
  try {
    for (let i = 1; i <= n; i++) store.audit.append({ actor: 'cli', action: 'token.created', subject: `api-token:${i}`, details: { i } });
    const head = store.audit.head();
    if (!head) throw new Error('empty');
    return { seq: head.seq, hash: head.hash };
  } finally {
    store.close();
  }
}

function tamper(sql: string) {
  const db = new Database(path.join(dir, 'vigil.db'));
  try {
    db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe('parseExpectedHead', () => {
  it('takes <seq>:<hash> as published, case-insensitively', () => {
    expect(parseExpectedHead(`12:${'AB'.repeat(32)}`)).toEqual({ seq: 12, hash: 'ab'.repeat(32) });
    expect(parseExpectedHead(`0:${'0'.repeat(64)}`)).toEqual({ seq: 0, hash: '0'.repeat(64) });
    for (const bad of ['12', `x:${'a'.repeat(64)}`, `12:${'a'.repeat(63)}`, `0:${'a'.repeat(64)}`, 12]) {
      expect(typeof parseExpectedHead(bad), String(bad)).toBe('string');
    }
  });
});

describe('auditLogVerify', () => {
  it('exit 0 with the entry count and the head to publish', () => {
    const head = seed(5);
    const r = auditLogVerify({ dataDir: dir });
    expect(r).toMatchObject({ ok: true, exitCode: 0 });
    if (!r.ok) return;
    expect(r.text).toContain('audit log intact: 5 entries');
    expect(r.text).toContain(`head: 5:${head.hash}`);
    const json = auditLogVerify({ dataDir: dir, json: true, expectHead: `${head.seq}:${head.hash}` });
    expect(json.ok && JSON.parse(json.text)).toMatchObject({ ok: true, entries: 5, head: { seq: 5, hash: head.hash } });
  });

  it('exit 1 naming the broken seq and the last good one', () => {
    seed(5);
    tamper(`UPDATE audit_log SET details = '{"i":99}' WHERE seq = 3`);
    const r = auditLogVerify({ dataDir: dir });
    expect(r).toMatchObject({ ok: true, exitCode: 1 });
    expect(r.ok && r.text).toMatch(/BROKEN at seq 3 \(altered\).*\nlast good seq: 2 /);
    const json = auditLogVerify({ dataDir: dir, json: true });
    expect(json.ok && JSON.parse(json.text)).toEqual({ ok: false, entries: 2, brokenAt: 3, problem: 'altered', reason: expect.any(String), lastGoodSeq: 2 });
  });

  it('exit 1 when the published head is gone, though the rest still chains', () => {
    const head = seed(5);
    tamper('DELETE FROM audit_log WHERE seq = 5');
    expect(auditLogVerify({ dataDir: dir })).toMatchObject({ ok: true, exitCode: 0 });
    const r = auditLogVerify({ dataDir: dir, expectHead: `${head.seq}:${head.hash}` });
    expect(r).toMatchObject({ ok: true, exitCode: 1 });
    expect(r.ok && r.text).toContain('last good seq: unknown');
  });

  it('usage errors: no database (and none created), a bad head, a schema without the audit log (not migrated)', () => {
    const missing = path.join(dir, 'nope');
    expect(auditLogVerify({ dataDir: missing, expectHead: 'junk' })).toEqual({ ok: false, errors: [expect.stringContaining('--expect-head'), expect.stringContaining('no database')] });
    expect(fs.existsSync(missing)).toBe(false);

    const old = new Database(path.join(dir, 'vigil.db'));
    migrate(old, MIGRATIONS.filter((m) => m.version === 1));
    old.close();
    expect(auditLogVerify({ dataDir: dir })).toEqual({ ok: false, errors: [expect.stringContaining('no audit log yet')] });
    const after = new Database(path.join(dir, 'vigil.db'), { readonly: true });
    expect(after.prepare('SELECT max(version) AS v FROM schema_migrations').get()).toEqual({ v: 1 });
    after.close();
  });
});
