import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Audit, AuditVerifyResult } from '@vigil/shared';
import { ADMIN_TOKEN, api, COLLECTOR_BIN, ENROL_SECRET, freePort, startAgent, startCollector, startProcess, tempDir, until, type Proc } from './support/processes.js';

/**
 * `vigil-collector audit sample` and `audit verify` as an auditor runs them: the built CLI as child
 * processes, against a real collector with a real agent that answers the collect-now command.
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

/** A collector with a real agent and two more enrolled hosts (no agent running for them). */
async function fleet() {
  const dataDir = tempDir('audit-cli');
  dirs.push(dataDir);
  const collector = await startCollector({ dataDir, port: await freePort() });
  procs.push(collector);
  for (const name of ['ws-spare-1', 'ws-spare-2']) {
    const res = await fetch(`${collector.url}/api/v1/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret: ENROL_SECRET, host: { hostname: name, os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', arch: 'x64' }, hardware: {}, addresses: [], users: [], agentVersion: '0.1.0' } }),
    });
    expect(res.status).toBe(201);
  }
  const agentDir = tempDir('audit-cli-agent');
  dirs.push(agentDir);
  const agent = startAgent({ stateDir: agentDir, url: collector.url });
  procs.push(agent);
  const online = await until(async () => {
    const { body } = await api<{ items: { id: string; hostname: string; status: string; agent: { messagesStored: number } }[] }>(collector.url, '/api/v1/hosts');
    return body.items.find((h) => h.hostname === os.hostname() && h.status === 'online' && h.agent.messagesStored >= 1);
  });
  return { dataDir, collector, online, client: { VIGIL_URL: collector.url, VIGIL_API_TOKEN: ADMIN_TOKEN } };
}

describe('vigil-collector audit sample', () => {
  it('draws through the API, the real agent answers collect-now with fresh evidence; usage errors exit 2, a refused size 1', async () => {
    const { collector, online, client } = await fleet();
    const drawn = await cli(['audit', 'sample', '--size', '3', '--seed', 'cli-seed', '--json'], client);
    expect(drawn.code, drawn.stderr).toBe(0);
    const audit = Audit.parse(JSON.parse(drawn.stdout));
    const mac = (id: string) => crypto.createHmac('sha256', 'cli-seed').update(id).digest('hex');
    expect(audit.sample.map((m) => m.hostId)).toEqual(audit.population.map((m) => m.hostId).sort((a, b) => (mac(a) < mac(b) ? -1 : 1)));
    // The connected agent got collect-now and answered with a fresh snapshot.
    expect(audit.sample.find((m) => m.hostId === online.id)?.commandId).toMatch(/^[0-9a-f-]{36}$/);
    expect(audit.sample.filter((m) => m.commandId !== null)).toHaveLength(1);
    const fresh = await until(async () => {
      const { body } = await api<Audit>(collector.url, `/api/v1/audits/${audit.id}`);
      return body.sample.find((m) => m.hostId === online.id)?.freshEvidenceAt;
    });
    expect(Date.parse(fresh)).toBeGreaterThanOrEqual(Date.parse(audit.createdAt));

    const [again, none, zero, strata, tooMany] = await Promise.all([
      // Human-readable output; the same seed draws the same hosts.
      cli(['audit', 'sample', '--size', '2', '--seed', 'cli-seed', '--url', collector.url, '--token', ADMIN_TOKEN]),
      // Usage errors exit 2 before anything is sent; a size the collector refuses exits 1 with its code.
      cli(['audit', 'sample'], client),
      cli(['audit', 'sample', '--size', '0'], client),
      cli(['audit', 'sample', '--size', '1', '--strata', 'colour'], client),
      cli(['audit', 'sample', '--size', '4'], client),
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('drawn: 2 of 3 hosts');
    expect(again.stdout).toContain('seed:       cli-seed');
    for (const m of audit.sample.slice(0, 2)) expect(again.stdout).toContain(m.hostId);
    expect([none.code, zero.code, strata.code]).toEqual([2, 2, 2]);
    expect(none.stderr).toContain('give exactly one of size or percent');
    expect(strata.stderr).toContain('--strata');
    expect(tooMany.code).toBe(1);
    expect(tooMany.stderr).toContain('VIGIL_ERR_SAMPLE_SIZE');
  }, 120_000);
});

describe('vigil-collector audit verify', () => {
  it('exit 0 when the sample re-derives, 1 when the stored sample was edited in SQLite, 2 on bad usage', async () => {
    const { dataDir, collector } = await fleet();
    const res = await api<Audit>(collector.url, '/api/v1/audits', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ size: 3, seed: 'verify-seed' }) });
    expect(res.status).toBe(201);
    const audit = Audit.parse(res.body);

    // Offline on the data directory, while the collector runs.
    const [ok, okJson, noId, unknown] = await Promise.all([
      cli(['audit', 'verify', audit.id, '--data-dir', dataDir]),
      cli(['audit', 'verify', audit.id, '--json'], { VIGIL_DATA_DIR: dataDir }),
      cli(['audit', 'verify', '--data-dir', dataDir]),
      cli(['audit', 'verify', crypto.randomUUID(), '--data-dir', dataDir]),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('sample MATCHES');
    expect(AuditVerifyResult.parse(JSON.parse(okJson.stdout))).toMatchObject({ ok: true, sampleMatches: true, matchesAuditLog: true });
    expect(noId.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no audit');

    // Someone edits the stored sample in SQLite: swap the first two sampled hosts.
    const db = new Database(path.join(dataDir, 'vigil.db'));
    try {
      db.prepare('UPDATE audit_hosts SET position = -1 WHERE audit_id = ? AND position = 0').run(audit.id);
      db.prepare('UPDATE audit_hosts SET position = 0 WHERE audit_id = ? AND position = 1').run(audit.id);
      db.prepare('UPDATE audit_hosts SET position = 1 WHERE audit_id = ? AND position = -1').run(audit.id);
    } finally {
      db.close();
    }
    const [bad, badJson] = await Promise.all([cli(['audit', 'verify', audit.id, '--data-dir', dataDir]), cli(['audit', 'verify', audit.id, '--data-dir', dataDir, '--json'])]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('MISMATCH');
    expect(bad.stdout).toContain('same hosts in another order or strata');
    expect(badJson.code).toBe(1);
    expect(JSON.parse(badJson.stdout)).toMatchObject({ ok: false, sampleMatches: false, matchesAuditLog: false });
    // The API says the same.
    const viaApi = await api<AuditVerifyResult>(collector.url, `/api/v1/audits/${audit.id}/verify`);
    expect(viaApi.body).toMatchObject({ ok: false, sampleMatches: false });
  }, 120_000);
});
