import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, api, COLLECTOR_BIN, ENROL_SECRET, freePort, ROOT, startCollector, startProcess, tempDir, until, type CollectorProc, type Proc } from './support/processes.js';
import { loopExt4Unavailable, mountLoopExt4, mountSmallFs, smallFsUnavailable, type SmallFs } from './support/small-fs.js';

/**
 * The collector's SQLite file on a filesystem that fills up or turns read-only (issue 9): the
 * collector refuses clearly and stays up, agents keep what is not acknowledged, and when space
 * returns everything arrives, each message stored once.
 */
const cannot = smallFsUnavailable();
const procs: Proc[] = [];
const mounts: Pick<SmallFs, 'unmount'>[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
  for (const m of mounts.splice(0)) m.unmount();
});
afterAll(() => {
  for (const m of mounts.splice(0)) m.unmount();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const AGENTS = 20;

interface SimSummary {
  messages: { produced: Record<string, number>; acked: number; pending: number; rejected: number; dropped: number; resent: number };
  connections: { reconnects: number; closeCodes?: Record<string, number> };
}

function startSim(work: string, url: string, seed: string): Proc {
  return startProcess(path.join(ROOT, 'test/sim/main.mjs'), [
    '--agents', String(AGENTS), '--collector-url', url, '--seed', seed, '--duration', '600', '--events-per-agent-per-hour', '7200',
    '--reconnect-max-seconds', '1', '--stop-grace-seconds', '30', '--templates', 'windows-11',
    '--state-file', path.join(work, 'sim-state.json'), '--progress-seconds', '0', '--enrol-secret', ENROL_SECRET,
  ], {});
}

async function stopSim(sim: Proc): Promise<SimSummary> {
  sim.child.kill('SIGTERM');
  const { code } = await sim.exited;
  expect(code, sim.stderr().slice(-2000)).toBe(0);
  return JSON.parse(sim.stdout()) as SimSummary;
}

/** What the store holds against what the fleet made: each message once, nothing missing. */
function expectExactlyOnce(dataDir: string, s: SimSummary): { made: number; rows: number } {
  const made = Object.values(s.messages.produced).reduce((x, y) => x + y, 0);
  expect(s.messages, JSON.stringify(s)).toMatchObject({ pending: 0, rejected: 0, dropped: 0 });
  expect(s.messages.acked).toBe(made);
  const db = new Database(path.join(dataDir, 'vigil.db'), { readonly: true });
  try {
    const rows = db.prepare("SELECT count(*) AS n, count(DISTINCT agent_id || ':' || seq) AS seqs FROM messages").get() as { n: number; seqs: number };
    expect(rows.n).toBe(made - (s.messages.produced.heartbeat ?? 0));
    expect(rows.seqs).toBe(rows.n);
    const agents = db.prepare('SELECT count(*) AS n, sum(messages_stored) AS stored FROM agents').get() as { n: number; stored: number };
    expect(agents).toEqual({ n: AGENTS, stored: rows.n });
    return { made, rows: rows.n };
  } finally {
    db.close();
  }
}

async function readyz(url: string) {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status?: string; error?: { code: string } } };
}

describe.skipIf(cannot !== null)(`the SQLite file on a full or read-only filesystem${cannot ? ` (skipped: ${cannot})` : ''}`, () => {
  it('disk full while agents send: refused with a code, one log line, nothing acknowledged that was not stored; resumes by itself when space returns', async () => {
    const work = tempDir('disk-full');
    const fsx = mountSmallFs(path.join(work, 'mnt'), 48 * 1024 * 1024);
    mounts.push(fsx);
    const dataDir = path.join(fsx.dir, 'data');
    const collector: CollectorProc = await startCollector({ dataDir, port: await freePort(), args: ['--heartbeat-seconds', '1'] });
    procs.push(collector);
    const sim = startSim(work, collector.url, `full${Date.now() % 100_000}`);
    procs.push(sim);
    await until(async () => ((await api(collector.url, `/api/v1/hosts?limit=100&status=online`)).body as { items: unknown[] }).items.length >= AGENTS, 60_000, 250);
    await sleep(1000);

    // The disk fills while the fleet sends.
    const filled = fsx.fill();
    const fullAt = Date.now();
    const refused = await until(async () => {
      if (collector.child.exitCode !== null) throw new Error(`the collector exited (${collector.child.exitCode}):\n${collector.stderr().slice(-3000)}\n${collector.stdout().slice(-3000)}`);
      const r = await readyz(collector.url);
      return r.status === 503 ? r : null;
    }, 20_000, 100).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${collector.stderr().slice(-3000)}\n${collector.stdout().slice(-3000)}`);
    });
    expect(refused.body.error?.code).toBe('VIGIL_ERR_STORAGE_UNAVAILABLE');
    // A while full: agents keep sending (and resending), the collector keeps refusing.
    await sleep(5000);
    expect(collector.child.exitCode, collector.stderr().slice(-3000)).toBeNull();
    const metrics = await fetch(`${collector.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text());
    expect(metrics).toMatch(/^vigil_storage_available 0$/m);
    // An API write is refused with the code too, not a 500.
    const write = await api(collector.url, '/api/v1/usb/approvals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: 'product', vendorId: '0781', productId: '5567', scope: { all: true }, reason: 'disk full test' }) });
    expect(write.status).toBe(503);
    expect((write.body as { error: { code: string } }).error.code).toBe('VIGIL_ERR_STORAGE_UNAVAILABLE');
    const unavailableLines = collector.logs.filter((l) => l.msg === 'storage unavailable: refusing writes until it can write again');
    expect(unavailableLines).toHaveLength(1);
    expect(unavailableLines[0]).toMatchObject({ level: 50, code: 'SQLITE_FULL' });
    expect(collector.logs.filter((l) => l.level === 50).length, JSON.stringify(collector.logs.filter((l) => l.level === 50).slice(0, 5))).toBeLessThanOrEqual(2);

    // Space returns: the collector resumes by itself.
    fsx.free();
    const fullMs = Date.now() - fullAt;
    await until(async () => (await readyz(collector.url)).status === 200, 20_000, 100);
    await collector.waitForLog((l) => l.msg === 'storage available again', 5000);
    await sleep(3000);
    const s = await stopSim(sim);
    expect(collector.child.exitCode, collector.stderr().slice(-3000)).toBeNull();
    expect(await collector.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const { made, rows } = expectExactlyOnce(dataDir, s);
    process.stdout.write(`disk full test: filler ${filled} bytes; full for ${fullMs} ms; ${made} messages made by ${AGENTS} agents, ${s.messages.resent} resent, ${rows} rows stored once each, 0 lost\n`);
  }, 180_000);

  it('read-only, then full, at start: the collector refuses with a code and exit 1; agents keep buffering; everything arrives once when the disk is writable', async () => {
    const work = tempDir('disk-ro');
    const fsx = mountSmallFs(path.join(work, 'mnt'), 48 * 1024 * 1024);
    mounts.push(fsx);
    const dataDir = path.join(fsx.dir, 'data');
    const port = await freePort();
    const first = await startCollector({ dataDir, port, args: ['--heartbeat-seconds', '1'] });
    procs.push(first);
    const sim = startSim(work, first.url, `ro${Date.now() % 100_000}`);
    procs.push(sim);
    await until(async () => ((await api(first.url, `/api/v1/hosts?limit=100&status=online`)).body as { items: unknown[] }).items.length >= AGENTS, 60_000, 250);
    await sleep(1000);
    expect(await first.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    const refusedStart = async (why: RegExp) => {
      const p = startProcess(COLLECTOR_BIN, ['serve', '--port', String(port), '--data-dir', dataDir, '--log-format', 'json'], { VIGIL_ENROL_SECRET: ENROL_SECRET, VIGIL_ADMIN_TOKEN: ADMIN_TOKEN });
      procs.push(p);
      const exit = await Promise.race([p.exited, sleep(15_000).then(() => null)]);
      expect(exit, `the collector did not refuse to start: ${p.stdout().slice(-2000)}`).toEqual({ code: 1, signal: null });
      expect(p.stderr()).toMatch(/^vigil-collector: VIGIL_ERR_STORAGE_UNAVAILABLE: cannot write in the data directory /);
      expect(p.stderr()).toMatch(why);
      expect(p.stderr().trim().split('\n')).toHaveLength(1);
      return p.stderr().trim();
    };
    // Read-only (the collector is down: a filesystem with a file open for writing cannot be remounted read-only).
    fsx.remount('ro');
    const roLine = await refusedStart(/the filesystem is read-only \(EROFS/);
    fsx.remount('rw');
    // Full.
    const filled = fsx.fill();
    const fullLine = await refusedStart(/no space left on the device \(ENOSPC; \d+ bytes free\)/);
    await sleep(2000);
    fsx.free();

    // Writable again: the agents' buffered messages arrive.
    const collector = await startCollector({ dataDir, port, args: ['--heartbeat-seconds', '1'] });
    procs.push(collector);
    await until(async () => ((await api(collector.url, `/api/v1/hosts?limit=100&status=online`)).body as { items: unknown[] }).items.length >= AGENTS, 60_000, 250);
    await sleep(2000);
    const s = await stopSim(sim);
    expect(await collector.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const { made, rows } = expectExactlyOnce(dataDir, s);
    process.stdout.write(`read-only/full at start: refused twice (${JSON.stringify(roLine)}, ${JSON.stringify(fullLine)}; filler ${filled} bytes); ${made} messages made by ${AGENTS} agents, ${rows} rows stored once each, 0 lost\n`);
  }, 180_000);
});

const cannotLoop = loopExt4Unavailable();
describe.skipIf(cannotLoop !== null)(`the filesystem turning read-only under a running collector${cannotLoop ? ` (skipped: ${cannotLoop})` : ''}`, () => {
  it('an ext4 error makes it read-only mid-stream: refused with a code, one log line, nothing acknowledged that was not stored; after a repair everything arrives once', async () => {
    const work = tempDir('disk-ro-live');
    const ext4 = mountLoopExt4(path.join(work, 'mnt'), 64 * 1024 * 1024);
    mounts.push(ext4);
    const dataDir = path.join(ext4.dir, 'data');
    const port = await freePort();
    // The default (--db-synchronous full) syncs every commit before it is acknowledged: with normal,
    // the commits of the last moments before the error were acknowledged from the page cache and
    // lost with it (17-28 of ~400 messages in three runs when this test was written).
    const collector = await startCollector({ dataDir, port, args: ['--heartbeat-seconds', '1'] });
    procs.push(collector);
    const sim = startSim(work, collector.url, `rolive${Date.now() % 100_000}`);
    procs.push(sim);
    await until(async () => ((await api(collector.url, `/api/v1/hosts?limit=100&status=online`)).body as { items: unknown[] }).items.length >= AGENTS, 60_000, 250);
    await sleep(1000);

    ext4.fail();
    const failedAt = Date.now();
    const refused = await until(async () => {
      if (collector.child.exitCode !== null) throw new Error(`the collector exited (${collector.child.exitCode}):\n${collector.stderr().slice(-3000)}`);
      const r = await readyz(collector.url);
      return r.status === 503 ? r : null;
    }, 20_000, 100).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${collector.stderr().slice(-3000)}\n${collector.stdout().slice(-3000)}`);
    });
    expect(refused.body.error?.code).toBe('VIGIL_ERR_STORAGE_UNAVAILABLE');
    await sleep(4000);
    expect(collector.child.exitCode, collector.stderr().slice(-3000)).toBeNull();
    const lines = collector.logs.filter((l) => l.msg === 'storage unavailable: refusing writes until it can write again');
    expect(lines, collector.logs.filter((l) => String(l.msg).startsWith('storage')).map((l) => JSON.stringify({ ...l, err: (l.err as { message?: string })?.message })).join('\n')).toHaveLength(1);
    expect(String(lines[0]!.code)).toMatch(/^SQLITE_(READONLY|IOERR|CANTOPEN)/);
    expect(collector.logs.filter((l) => l.level === 50).length, JSON.stringify(collector.logs.filter((l) => l.level === 50).slice(0, 5))).toBeLessThanOrEqual(2);
    const write = await api(collector.url, '/api/v1/usb/approvals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: 'product', vendorId: '0781', productId: '5567', scope: { all: true }, reason: 'read-only test' }) });
    expect(write.status).toBe(503);

    // An aborted journal does not come back by itself: stop, repair, start again. Agents keep buffering.
    const stop = await collector.kill('SIGTERM');
    expect(stop.signal).toBeNull();
    const roMs = Date.now() - failedAt;
    ext4.repair();
    const again = await startCollector({ dataDir, port, args: ['--heartbeat-seconds', '1'] });
    procs.push(again);
    await until(async () => ((await api(again.url, `/api/v1/hosts?limit=100&status=online`)).body as { items: unknown[] }).items.length >= AGENTS, 60_000, 250);
    await sleep(2000);
    const s = await stopSim(sim);
    expect(await again.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const { made, rows } = expectExactlyOnce(dataDir, s);
    process.stdout.write(`read-only mid-stream test: ${String(lines[0]!.code)}; read-only for ${roMs} ms (collector exit ${JSON.stringify(stop)}); ${made} messages made by ${AGENTS} agents, ${s.messages.resent} resent, ${rows} rows stored once each, 0 lost\n`);
  }, 180_000);
});
