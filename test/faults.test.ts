import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { api, ENROL_SECRET, freePort, ROOT, startAgent, startCollector, startProcess, tempDir, until, type CollectorProc, type Proc } from './support/processes.js';

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FAST = ['--heartbeat-seconds', '0.05'];

interface Counters {
  produced: number;
  sent: number;
  acknowledged: number;
  rejected: number;
  dropped: number;
}

/** What the collector holds for the one agent in the data dir. */
function stored(dataDir: string) {
  const db = new Database(path.join(dataDir, 'vigil.db'), { readonly: true });
  try {
    const agent = db.prepare('SELECT id, heartbeats, messages_stored, messages_rejected FROM agents').get() as {
      id: string;
      heartbeats: number;
      messages_stored: number;
      messages_rejected: number;
    };
    const rows = db.prepare('SELECT count(*) AS n, count(DISTINCT seq) AS seqs FROM messages WHERE agent_id = ?').get(agent.id) as { n: number; seqs: number };
    const byType = Object.fromEntries(
      (db.prepare('SELECT type, count(*) AS n FROM messages WHERE agent_id = ? GROUP BY type').all(agent.id) as { type: string; n: number }[]).map((r) => [r.type, r.n]),
    );
    return { ...agent, rows: rows.n, distinctSeqs: rows.seqs, byType };
  } finally {
    db.close();
  }
}

async function stopAgent(agent: Proc): Promise<{ counters: Counters; pending: number }> {
  expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  const line = await agent.waitForLog((l) => l.msg === 'agent stopped', 1000);
  return line as unknown as { counters: Counters; pending: number };
}

describe('nothing is lost', () => {
  it('collector SIGKILLed repeatedly while an agent sends: every message is stored exactly once', async () => {
    const dataDir = tempDir('collector');
    const port = await freePort();
    let collector: CollectorProc = await startCollector({ dataDir, port, args: FAST });
    procs.push(collector);
    const agent = startAgent({ stateDir: tempDir('agent'), url: collector.url });
    procs.push(agent);
    await agent.waitForLog((l) => l.msg === 'connected to the collector');

    const connections = () => agent.logs.filter((l) => l.msg === 'connected to the collector').length;
    for (let i = 0; i < 3; i++) {
      await sleep(500);
      expect((await collector.kill('SIGKILL')).signal).toBe('SIGKILL');
      await sleep(200 + 100 * i);
      collector = await startCollector({ dataDir, port, args: FAST });
      procs.push(collector);
      await until(async () => connections() === i + 2);
    }
    await sleep(500);
    const { counters, pending } = await stopAgent(agent);
    expect(await collector.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    const s = stored(dataDir);
    expect(pending).toBe(0);
    expect(counters.produced).toBeGreaterThan(30);
    expect(counters.rejected).toBe(0);
    expect(counters.dropped).toBe(0);
    expect(counters.acknowledged).toBe(counters.produced);
    // Each message the agent produced is in the store once: heartbeats as counted, the rest as rows.
    expect(s.rows).toBe(s.distinctSeqs);
    expect(s.rows + s.heartbeats).toBe(counters.produced);
    expect(s.messages_rejected).toBe(0);
    expect(s.byType).toEqual({ snapshot: 1, goodbye: 1 });
  });

  it('an agent killed mid-send and restarted loses nothing', async () => {
    const dataDir = tempDir('collector');
    const collector = await startCollector({ dataDir, port: await freePort(), args: FAST });
    procs.push(collector);
    const stateDir = tempDir('agent');
    const first = startAgent({ stateDir, url: collector.url });
    procs.push(first);
    await first.waitForLog((l) => l.msg === 'connected to the collector');
    await sleep(700);
    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');

    const second = startAgent({ stateDir, url: collector.url });
    procs.push(second);
    await second.waitForLog((l) => l.msg === 'connected to the collector');
    await sleep(500);
    const { counters, pending } = await stopAgent(second);
    expect(await collector.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    const s = stored(dataDir);
    expect(pending).toBe(0);
    expect(s.rows + s.heartbeats).toBe(counters.produced);
    expect(s.byType).toEqual({ snapshot: 2, goodbye: 1 });
  });

  it('messages queued while the collector is down survive an agent SIGKILL and are sent later', async () => {
    const dataDir = tempDir('collector');
    const port = await freePort();
    const stateDir = tempDir('agent');
    let collector = await startCollector({ dataDir, port });
    procs.push(collector);
    const run1 = startAgent({ stateDir, url: collector.url });
    procs.push(run1);
    await run1.waitForLog((l) => l.msg === 'connected to the collector');
    await stopAgent(run1);
    await collector.kill('SIGTERM');

    // Collector down: the agent queues its snapshot, then dies without a chance to send it.
    const run2 = startAgent({ stateDir, url: collector.url });
    procs.push(run2);
    await run2.waitForLog((l) => l.msg === 'vigil agent running');
    await sleep(300);
    expect((await run2.kill('SIGKILL')).signal).toBe('SIGKILL');

    collector = await startCollector({ dataDir, port });
    procs.push(collector);
    const run3 = startAgent({ stateDir, url: collector.url });
    procs.push(run3);
    const unsent = await run3.waitForLog((l) => l.msg === 'unsent messages from an earlier run will be delivered');
    expect(unsent.pending).toBeGreaterThanOrEqual(1);
    await run3.waitForLog((l) => l.msg === 'connected to the collector');
    const { counters, pending } = await stopAgent(run3);
    await collector.kill('SIGTERM');

    const s = stored(dataDir);
    expect(pending).toBe(0);
    expect(s.byType).toEqual({ snapshot: 3, goodbye: 2 });
    expect(s.rows + s.heartbeats).toBe(counters.produced);
  });
});

describe('a fleet through collector crashes', () => {
  it('200 simulated agents sending while the collector is SIGKILLed three times: every message stored exactly once', async () => {
    const work = tempDir('fleet-crash');
    const dataDir = path.join(work, 'data');
    const port = await freePort();
    const collector = await startCollector({ dataDir, port, args: ['--heartbeat-seconds', '2'] });
    procs.push(collector);
    const seed = `crash${Date.now() % 100_000}`;
    const sim = startProcess(path.join(ROOT, 'test/sim/main.mjs'), [
      '--agents', '200', '--collector-url', collector.url, '--seed', seed, '--duration', '600', '--events-per-agent-per-hour', '3600', '--reconnect-max-seconds', '2', '--stop-grace-seconds', '60',
      '--state-file', path.join(work, 'sim-state.json'), '--progress-seconds', '0', '--enrol-secret', ENROL_SECRET,
    ], {});
    procs.push(sim);
    // Crashes start once the fleet is in and sending.
    await until(async () => ((await api(collector.url, '/api/v1/hosts?limit=500')).body as { items: unknown[] }).items.length >= 150, 60_000, 250);
    let current: CollectorProc = collector;
    const kills: number[] = [];
    for (let i = 0; i < 3; i++) {
      await sleep(3000);
      // Mid-stream: messages in flight, some committed and not yet acknowledged.
      expect((await current.kill('SIGKILL')).signal).toBe('SIGKILL');
      kills.push(Date.now());
      await sleep(300);
      current = await startCollector({ dataDir, port, args: ['--heartbeat-seconds', '2'] });
      procs.push(current);
    }
    // Once the whole fleet is back (every host online again), stop the simulator: goodbye, and the last acks.
    await until(async () => ((await api(current.url, '/api/v1/hosts?limit=500&status=online')).body as { items: unknown[] }).items.length >= 200, 180_000, 500);
    await sleep(2000);
    sim.child.kill('SIGTERM');
    const { code } = await sim.exited;
    expect(code, sim.stderr().slice(-2000)).toBe(0);
    expect(current.child.exitCode, `the collector exited early:\n${current.stderr().slice(-3000)}\n${current.stdout().slice(-3000)}`).toBeNull();
    const s = JSON.parse(sim.stdout()) as {
      messages: { produced: Record<string, number>; sent: Record<string, number>; acked: number; pending: number; rejected: number; dropped: number; resent: number };
      connections: { reconnects: number };
    };
    // Messages made (each once; `sent` also counts what was sent again after a crash).
    const total = Object.values(s.messages.produced).reduce((x, y) => x + y, 0);
    expect(s.messages, sim.stdout()).toMatchObject({ pending: 0, rejected: 0, dropped: 0 });
    expect(s.messages.acked).toBe(total);
    // The crashes were felt: agents reconnected and sent again what had not been acknowledged.
    expect(s.connections.reconnects).toBeGreaterThanOrEqual(200);
    expect(s.messages.resent).toBeGreaterThan(0);
    await current.kill('SIGTERM');

    const db = new Database(path.join(dataDir, 'vigil.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT count(*) AS n, count(DISTINCT agent_id || \':\' || seq) AS seqs FROM messages').get() as { n: number; seqs: number };
      // Heartbeats are counters, not rows; everything else once, and no seq stored twice under another id.
      expect(rows.n).toBe(total - (s.messages.produced.heartbeat ?? 0));
      expect(rows.seqs).toBe(rows.n);
      const agents = db.prepare('SELECT count(*) AS n, sum(messages_stored) AS stored FROM agents').get() as { n: number; stored: number };
      expect(agents).toEqual({ n: 200, stored: rows.n });
    } finally {
      db.close();
    }
    process.stdout.write(`fleet crash test: ${total} messages made by 200 agents across ${kills.length} collector SIGKILLs (${s.messages.resent} resent after a crash), ${total - (s.messages.produced.heartbeat ?? 0)} stored once each, 0 lost\n`);
  }, 330_000);
});
