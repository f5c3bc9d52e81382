import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadServeConfig } from '../config.js';
import { ADMIN_TOKEN, hostFacts, startHarness, TestAgent, type Harness } from '../test-support/harness.js';

// What only the multi-process gateway has: sockets held by worker processes, a worker dying,
// workers stopping with the collector, their metrics. The protocol itself runs in both modes in
// plugins/agent-gateway.test.ts.

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ gatewayWorkers: 2 });
});
afterEach(async () => h.close());

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const sockets = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
  try {
    return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
  } catch {
    return false;
  }
}).length;
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); ) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function connectHosts(n: number) {
  const agents = [];
  for (let i = 0; i < n; i++) {
    const creds = await h.enrol(hostFacts({ hostname: `ws-${i}` }));
    agents.push({ creds, conn: await TestAgent.connect(h.wsUrl, creds.agentToken, { agentId: creds.agentId }) });
  }
  return agents;
}

describe('gateway workers', () => {
  it('spreads agents over the workers, whose processes hold the sockets; messages are stored and acked by the main process', async () => {
    const agents = await connectHosts(6);
    const status = h.app.gateway.workerStatus();
    expect(status.map((w) => w.connections)).toEqual([3, 3]);
    for (const w of status) {
      expect(w.pid).not.toBe(process.pid);
      // The IPC channel and its agents' sockets.
      expect(sockets(w.pid)).toBeGreaterThanOrEqual(4);
    }
    expect(h.app.gateway.connections.size).toBe(6);
    for (const [i, a] of agents.entries()) {
      const env = a.conn.send('snapshot', { host: hostFacts({ hostname: `renamed-${i}` }) });
      expect((await a.conn.waitForAck(env.seq)).body).toEqual({ upToSeq: env.seq });
      expect(h.store.hosts.get(a.creds.hostId)?.hostname).toBe(`renamed-${i}`);
    }
    for (const a of agents) a.conn.close();
  });

  it('a worker that dies takes its connections with it and is replaced; its agents reconnect and resend', async () => {
    const agents = await connectHosts(4);
    const [victim] = h.app.gateway.workerStatus();
    process.kill(victim!.pid, 'SIGKILL');
    const lost = [];
    for (const a of agents) if ((await Promise.race([a.conn.waitClosed(), new Promise((r) => setTimeout(() => r(undefined), 1000))])) !== undefined) lost.push(a);
    expect(lost).toHaveLength(2);
    await until(() => h.app.gateway.connections.size === 2);
    for (const a of lost) expect(h.store.hosts.get(a.creds.hostId)?.status).toBe('offline');
    // Replaced with a new process.
    await until(() => h.app.gateway.workerStatus().every((w) => w.ready) && h.app.gateway.workerStatus()[victim!.worker]!.pid !== victim!.pid);
    for (const a of lost) {
      const again = await TestAgent.connect(h.wsUrl, a.creds.agentToken, { agentId: a.creds.agentId });
      const env = again.send('goodbye', { reason: 'stop' });
      expect((await again.waitForAck(env.seq)).body).toEqual({ upToSeq: env.seq });
      again.close();
    }
    expect((h.store.db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n).toBe(2);
    for (const a of agents) a.conn.close();
  });

  it('reports each worker on /metrics, and the workers stop with the collector', async () => {
    const agents = await connectHosts(3);
    // Reports arrive every second.
    await until(() => h.app.gateway.workerStatus().every((w) => w.rssBytes > 0), 3000);
    const res = await h.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.body).toMatch(/^vigil_gateway_worker_connections\{worker="0"\} 2$/m);
    expect(res.body).toMatch(/^vigil_gateway_worker_connections\{worker="1"\} 1$/m);
    expect(res.body).toMatch(/^vigil_gateway_worker_resident_memory_bytes\{worker="1"\} [1-9]\d+$/m);
    expect(res.body).toMatch(/^vigil_agents_connected 3$/m);
    const pids = h.app.gateway.workerStatus().map((w) => w.pid);
    await h.app.close();
    for (const a of agents) expect(await a.conn.waitClosed()).toBe(1001);
    for (const pid of pids) await until(() => !alive(pid));
  });
});

describe('--gateway-workers', () => {
  it('is a whole number from 0 to 64, and refused with the collector terminating TLS itself', () => {
    expect(loadServeConfig(['--gateway-workers', '4'], {})).toMatchObject({ ok: true, config: { gatewayWorkers: 4 } });
    expect(loadServeConfig([], { VIGIL_GATEWAY_WORKERS: '2' })).toMatchObject({ ok: true, config: { gatewayWorkers: 2 } });
    expect(loadServeConfig([], {})).toMatchObject({ ok: true, config: { gatewayWorkers: 0 } });
    const bad = loadServeConfig(['--gateway-workers', '1.5'], {});
    expect(bad.ok).toBe(false);
    const cert = `${h.dir}/cert.pem`;
    fs.writeFileSync(cert, 'x');
    const tls = loadServeConfig(['--gateway-workers', '2', '--tls-cert', cert, '--tls-key', cert], {});
    expect(tls.ok).toBe(false);
    expect(!tls.ok && tls.errors.join('\n')).toMatch(/--gateway-workers \(VIGIL_GATEWAY_WORKERS\): .*proxy/);
  });
});
