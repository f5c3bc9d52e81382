import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Host, listEnvelope } from '@vigil/shared';
import { ADMIN_TOKEN, api, freePort, startAgent, startCollector, tempDir, until, type Proc } from './support/processes.js';

// The real binaries: `vigil-collector serve --gateway-workers 2` with real agents, stopped by a signal.

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});

/** The pids whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // pid (comm) state ppid …; comm may hold spaces and parentheses, so read after the last ')'.
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('vigil-collector serve --gateway-workers', () => {
  it('serves real agents through worker processes, and SIGTERM stops the workers with it', async () => {
    const dataDir = tempDir('collector');
    const port = await freePort();
    let collector = await startCollector({ dataDir, port, args: ['--gateway-workers', '2'] });
    procs.push(collector);
    const workers = childrenOf(collector.child.pid!);
    expect(workers).toHaveLength(2);
    expect(collector.logs.filter((l) => l.msg === 'gateway worker ready')).toHaveLength(2);

    const agents = [startAgent({ stateDir: tempDir('agent-a'), url: collector.url }), startAgent({ stateDir: tempDir('agent-b'), url: collector.url })];
    procs.push(...agents);
    const hosts = listEnvelope(Host);
    const online = async () => {
      const page = hosts.parse((await api(collector.url, '/api/v1/hosts')).body);
      return page.items.length === 2 && page.items.every((h) => h.status === 'online') && page.items;
    };
    await until(online);
    // The workers hold both agents (which one each, the kernel decided: they accept on a shared socket).
    const metrics = await fetch(`${collector.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text());
    const held = [0, 1].map((w) => Number(new RegExp(`^vigil_gateway_worker_connections\\{worker="${w}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]));
    expect(held[0]! + held[1]!).toBe(2);

    expect(await collector.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    await until(async () => workers.every((pid) => !alive(pid)), 5000);
    // Told the collector is going away (1001), not cut off.
    for (const a of agents) expect(await a.waitForLog((l) => l.msg === 'disconnected from the collector', 5000)).toMatchObject({ code: 1001 });

    // Back on the same port: the agents reconnect through new workers.
    collector = await startCollector({ dataDir, port, args: ['--gateway-workers', '2'] });
    procs.push(collector);
    await until(online, 20_000);
  });
});
