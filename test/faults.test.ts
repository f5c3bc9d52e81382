import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startAgent, startCollector, tempDir, until, type CollectorProc, type Proc } from './support/processes.js';

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
