import fs from 'node:fs';
import net from 'node:net';
import { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadServeConfig } from '../config.js';
import { ADMIN_TOKEN, ENROL_SECRET, hostFacts, startHarness, TestAgent, type Harness } from '../test-support/harness.js';

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
    const before = await new Promise<number>((r, j) => h.app.server.getConnections((err, n) => (err ? j(err) : r(n))));
    const agents = await connectHosts(6);
    const status = h.app.gateway.workerStatus();
    // The workers accept on the shared socket: the kernel decides which, the main process holds none.
    expect(status.reduce((n, w) => n + w.connections, 0)).toBe(6);
    expect(await new Promise<number>((r, j) => h.app.server.getConnections((err, n) => (err ? j(err) : r(n))))).toBe(before);
    for (const w of status) {
      expect(w.pid).not.toBe(process.pid);
      // The IPC channel, the data pipe, the listening socket and its agents' sockets.
      expect(sockets(w.pid)).toBeGreaterThanOrEqual(3 + w.connections);
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
    // The busier worker (the kernel spreads the connections: at least 2 of 4).
    const victim = h.app.gateway.workerStatus().reduce((a, b) => (b.connections > a.connections ? b : a));
    process.kill(victim.pid, 'SIGKILL');
    const lost = [];
    for (const a of agents) if ((await Promise.race([a.conn.waitClosed(), new Promise((r) => setTimeout(() => r(undefined), 1000))])) !== undefined) lost.push(a);
    expect(lost.length).toBe(victim.connections);
    expect(lost.length).toBeGreaterThanOrEqual(2);
    await until(() => h.app.gateway.connections.size === 4 - lost.length);
    for (const a of lost) expect(h.store.hosts.get(a.creds.hostId)?.status).toBe('offline');
    // Replaced with a new process.
    await until(() => h.app.gateway.workerStatus().every((w) => w.ready) && h.app.gateway.workerStatus()[victim.worker]!.pid !== victim.pid);
    for (const a of lost) {
      const again = await TestAgent.connect(h.wsUrl, a.creds.agentToken, { agentId: a.creds.agentId });
      const env = again.send('goodbye', { reason: 'stop' });
      expect((await again.waitForAck(env.seq)).body).toEqual({ upToSeq: env.seq });
      again.close();
    }
    expect((h.store.db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n).toBe(lost.length);
    for (const a of agents) a.conn.close();
  });

  it('reports each worker on /metrics, and the workers stop with the collector', async () => {
    const agents = await connectHosts(3);
    // Reports arrive every second.
    await until(() => h.app.gateway.workerStatus().every((w) => w.rssBytes > 0), 3000);
    const res = await h.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const held = h.app.gateway.workerStatus().map((w) => w.connections);
    expect(held[0]! + held[1]!).toBe(3);
    expect(res.body).toMatch(new RegExp(`^vigil_gateway_worker_connections\\{worker="0"\\} ${held[0]}$`, 'm'));
    expect(res.body).toMatch(new RegExp(`^vigil_gateway_worker_connections\\{worker="1"\\} ${held[1]}$`, 'm'));
    expect(res.body).toMatch(/^vigil_gateway_worker_resident_memory_bytes\{worker="1"\} [1-9]\d+$/m);
    expect(res.body).toMatch(/^vigil_agents_connected 3$/m);
    const pids = h.app.gateway.workerStatus().map((w) => w.pid);
    await h.app.close();
    for (const a of agents) expect(await a.conn.waitClosed()).toBe(1001);
    for (const pid of pids) await until(() => !alive(pid));
  });
});

/** Writes `parts` to a raw connection, `gapMs` apart, and collects what comes back until `done` says so. */
async function raw(port: number, parts: (string | Buffer)[], done: (text: string) => boolean, gapMs = 30): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  let text = '';
  const finished = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no complete answer: ${JSON.stringify(text.slice(0, 300))}`)), 5000);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (done(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  for (const p of parts) {
    socket.write(p);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  const out = await finished;
  socket.destroy();
  return out;
}
/** Whether `text` holds `n` complete HTTP responses with Content-Length bodies. */
const responses = (n: number) => (text: string) => {
  let at = 0;
  for (let i = 0; i < n; i++) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) return false;
    const len = Number(/content-length: (\d+)/i.exec(text.slice(at, end))?.[1] ?? 0);
    if (text.length < end + 4 + len) return false;
    at = end + 4 + len;
  }
  return true;
};

describe('gateway workers accepting connections', () => {
  it('pass what is not an agent upgrade to the main process with the bytes they read: split heads and bodies, keep-alive, oversized heads', async () => {
    const port = h.app.gateway.port!;
    const body = JSON.stringify({ secret: ENROL_SECRET, host: hostFacts({ hostname: 'split-enrol' }) });
    // The head in two pieces (cut in the request line), the body in two more, then a second request on the same connection.
    const text = await raw(
      port,
      [
        'POST /api/v1/enr',
        `ol HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 40)}`,
        body.slice(40),
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
      ],
      responses(2),
    );
    expect(text).toMatch(/^HTTP\/1\.1 201 /);
    expect(text).toContain('"agentToken"');
    expect(text.slice(text.indexOf('HTTP/1.1 200'))).toMatch(/^HTTP\/1\.1 200 /);
    expect(h.store.db.prepare(`SELECT count(*) AS n FROM hosts WHERE hostname = 'split-enrol'`).get()).toEqual({ n: 1 });

    // A head past 16 KiB goes to the main process, whose HTTP server refuses it.
    const big = await raw(port, [`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`], (t) => t.includes('\r\n\r\n'));
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('keep an agent upgrade whose head arrives in pieces, and pass other WebSocket upgrades (the live feed) to the main process', async () => {
    const creds = await h.enrol(hostFacts({ hostname: 'slow-head' }));
    const head = `GET /agent/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer ${creds.agentToken}\r\n\r\n`;
    const text = await raw(h.app.gateway.port!, [head.slice(0, 9), head.slice(9, 60), head.slice(60)], (t) => t.includes('\r\n\r\n'));
    expect(text).toMatch(/^HTTP\/1\.1 101 /);
    expect(text).toContain('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');

    const feed = new WebSocket(`${h.url.replace('http', 'ws')}/api/v1/alerts/stream`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    await new Promise<void>((resolve, reject) => {
      feed.once('open', () => resolve());
      feed.once('error', reject);
    });
    feed.close();
  });

  it('answer an agent upgrade with a bad token with the coded 401, and a plain GET of the agent path as the main process does', async () => {
    const port = h.app.gateway.port!;
    const upgrade = (auth: string) =>
      `GET /agent/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${auth}\r\n`;
    const forged = await raw(port, [upgrade('Authorization: Bearer vga_forged-000000000000\r\n')], responses(1));
    expect(forged).toMatch(/^HTTP\/1\.1 401 /);
    expect(forged).toContain('"code":"VIGIL_ERR_TOKEN_INVALID"');
    const plain = await raw(port, ['GET /agent/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'], responses(1));
    expect(plain).toMatch(/^HTTP\/1\.1 401 /);
    expect(plain).toContain('"code":"VIGIL_ERR_UNAUTHENTICATED"');
  });
});

describe('gateway workers under slow and idle connections', () => {
  it('drop a connection whose request head does not arrive within the head timeout, and keep serving others meanwhile', async () => {
    const quick = await startHarness({ gatewayWorkers: 2, gateway: { headTimeoutMs: 300 } });
    try {
      const port = quick.app.gateway.port!;
      const idle = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const s = net.connect(port, '127.0.0.1');
          await new Promise<void>((r) => s.once('connect', () => r()));
          // Half send the start of a head and stall (slowloris), half send nothing.
          if (i % 2) s.write('GET /agent/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
          return new Promise<number>((resolve) => {
            const t0 = Date.now();
            s.on('error', () => undefined);
            s.on('close', () => resolve(Date.now() - t0));
          });
        }),
      );
      expect((await fetch(`${quick.url}/healthz`)).status).toBe(200);
      const lived = await Promise.all(idle);
      for (const ms of lived) expect(ms).toBeLessThan(5000);
      expect(quick.app.gateway.workerStatus().reduce((n, w) => n + w.connections, 0)).toBe(0);
      // Counted on /metrics once the workers report (each second).
      const dropped = async () => {
        const res = await quick.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        return Number(/^vigil_gateway_connections_dropped_total\{reason="head_timeout"\} (\d+)$/m.exec(res.body)?.[1]);
      };
      for (const end = Date.now() + 5_000; (await dropped()) < 200 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
      expect(await dropped()).toBe(200);
    } finally {
      await quick.close();
    }
  }, 20_000);
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
