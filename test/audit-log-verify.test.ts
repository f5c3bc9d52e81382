import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { COLLECTOR_BIN, freePort, startCollector, startProcess, tempDir, type Proc } from './support/processes.js';

/**
 * `vigil-collector audit-log verify` as an auditor runs it: the built CLI, as a child process, on
 * a data directory whose audit log was written by the real collector commands.
 */

const procs: Proc[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}) {
  const p = startProcess(COLLECTOR_BIN, args, env);
  procs.push(p);
  const { code } = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** A data dir whose audit log holds `n` token.created entries, written by `token create`. */
async function dataDirWithTokens(n: number): Promise<string> {
  const dir = tempDir('audit');
  dirs.push(dir);
  for (let i = 0; i < n; i++) {
    const r = await cli(['token', 'create', '--role', i % 2 ? 'auditor' : 'admin', '--name', `t${i}`, '--data-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
  }
  return dir;
}

function tamper(dir: string, sql: string) {
  const db = new Database(path.join(dir, 'vigil.db'));
  try {
    // Someone with write access to the file: the append-only triggers are no obstacle.
    db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe('vigil-collector audit-log verify', () => {
  it('exit 0 on an intact log, also while the collector runs on it', async () => {
    const dir = await dataDirWithTokens(3);
    const intact = await cli(['audit-log', 'verify', '--data-dir', dir]);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toContain('audit log intact: 3 entries');
    const json = await cli(['audit-log', 'verify', '--json'], { VIGIL_DATA_DIR: dir });
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as { ok: boolean; entries: number; head: { seq: number; hash: string } };
    expect(result).toMatchObject({ ok: true, entries: 3, head: { seq: 3 } });
    expect(intact.stdout).toContain(`head: 3:${result.head.hash}`);

    const collector = await startCollector({ dataDir: dir, port: await freePort() });
    procs.push(collector);
    const live = await cli(['audit-log', 'verify', '--data-dir', dir, '--expect-head', `${result.head.seq}:${result.head.hash}`]);
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toContain('contains the expected head');
  });

  it('exit 1 naming the seq of a changed entry', async () => {
    const dir = await dataDirWithTokens(4);
    tamper(dir, `UPDATE audit_log SET details = '{"name":"t1","role":"admin"}' WHERE seq = 2`);
    const r = await cli(['audit-log', 'verify', '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('BROKEN at seq 2');
    expect(r.stdout).toContain('last good seq: 1');
    const json = await cli(['audit-log', 'verify', '--data-dir', dir, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, brokenAt: 2, problem: 'altered', lastGoodSeq: 1 });
  });

  it('exit 1 when a published head is no longer in the log (cut-off tail)', async () => {
    const dir = await dataDirWithTokens(3);
    const { head } = JSON.parse((await cli(['audit-log', 'verify', '--data-dir', dir, '--json'])).stdout) as { head: { seq: number; hash: string } };
    tamper(dir, 'DELETE FROM audit_log WHERE seq = 3');
    expect((await cli(['audit-log', 'verify', '--data-dir', dir])).code).toBe(0);
    const r = await cli(['audit-log', 'verify', '--data-dir', dir, '--expect-head', `${head.seq}:${head.hash}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('BROKEN at seq 3 (head_missing)');
  });

  it('exit 2 without a database or with a malformed head, and --help', async () => {
    const dir = tempDir('audit-empty');
    dirs.push(dir);
    const none = await cli(['audit-log', 'verify', '--data-dir', path.join(dir, 'missing')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no database');
    expect(fs.existsSync(path.join(dir, 'missing'))).toBe(false);
    expect((await cli(['audit-log', 'verify', '--data-dir', dir, '--expect-head', 'yesterday'])).code).toBe(2);
    const help = await cli(['audit-log', 'verify', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--expect-head');
  });
});
