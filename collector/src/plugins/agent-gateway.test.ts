import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { agentEnvelope, CLOSE_CODES, LIMITS, PROTOCOL_VERSION } from '@vigil/shared';
import { ADMIN_TOKEN, hostFacts, startHarness, TestAgent, type Harness } from '../test-support/harness.js';

let h: Harness;
let agent: { agentId: string; hostId: string; agentToken: string };

/**
 * Every test runs twice: with agents' sockets in the collector's own process, and handed to two
 * gateway worker processes (`--gateway-workers 2`; the built worker script, dist/gateway/worker.js).
 */
const MODES = [
  { name: 'in process', gatewayWorkers: 0 },
  { name: 'gateway workers', gatewayWorkers: 2 },
];

const count = (sql: string, ...params: unknown[]) => (h.store.db.prepare(sql).get(...params) as { n: number }).n;
const messages = () => count('SELECT count(*) AS n FROM messages');
const rejections = () => h.store.db.prepare('SELECT seq, code, reason, type FROM rejected_messages ORDER BY id').all() as { seq: number | null; code: string; reason: string; type: string | null }[];

async function upgradeStatus(headers: Record<string, string>, url = h.wsUrl): Promise<{ status: number; body: { error: { code: string } } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.on('open', () => reject(new Error('upgrade should have been refused')));
    ws.on('error', () => undefined);
  });
}

describe.each(MODES)('agent gateway ($name)', ({ gatewayWorkers }) => {
beforeEach(async () => {
  h = await startHarness({ maxFrameBytes: 64 * 1024, gateway: { maxBadFrames: 3 }, gatewayWorkers });
  agent = await h.enrol();
});
afterEach(async () => h.close());

  it('accepts hello, stores a snapshot, acks after commit and updates the host', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId, hostId: agent.hostId });
    const config = a.frames.find((f) => f.type === 'config');
    expect(config?.body).toMatchObject({ heartbeatSeconds: 30, maxFrameBytes: 64 * 1024 });
    const env = a.send('snapshot', { host: hostFacts({ hostname: 'renamed-host' }) });
    const ack = await a.waitForAck(env.seq);
    expect(ack.body).toEqual({ upToSeq: env.seq });
    expect(count('SELECT count(*) AS n FROM messages WHERE id = ?', env.id)).toBe(1);
    const host = h.store.hosts.get(agent.hostId);
    expect(host).toMatchObject({ hostname: 'renamed-host', status: 'online', agent: { connected: true, lastSeq: env.seq, messagesStored: 1 } });
    a.close();
  });

  it('is idempotent on message id: a resent message is acked again but stored once', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    const env = agentEnvelope('goodbye', 1, { reason: 'sleep' });
    a.sendRaw(JSON.stringify(env));
    await a.waitForAck(1);
    a.close();
    const b = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    b.sendRaw(JSON.stringify(env));
    await b.waitForAck(1);
    expect(count('SELECT count(*) AS n FROM messages WHERE id = ?', env.id)).toBe(1);
    expect(h.store.hosts.get(agent.hostId)?.agent.messagesStored).toBe(1);
    b.close();
  });

  it('heartbeats update the agent counters and are not stored as rows', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    const counters = { produced: 5, sent: 4, acknowledged: 3, rejected: 0, dropped: 1 };
    const env = a.send('heartbeat', { counters, droppedByType: { heartbeat: 1 }, outbox: { pending: 2, bytes: 300 }, uptimeSeconds: 12 });
    await a.waitForAck(env.seq);
    expect(messages()).toBe(0);
    expect(h.store.hosts.get(agent.hostId)?.agent.counters).toEqual(counters);
    a.close();
  });

  it('refuses the upgrade without a token, with an unknown token and with a revoked one', async () => {
    expect(await upgradeStatus({})).toMatchObject({ status: 401, body: { error: { code: 'VIGIL_ERR_UNAUTHENTICATED' } } });
    expect(await upgradeStatus({ authorization: 'Bearer vga_forged-token-that-does-not-exist-000' })).toMatchObject({
      status: 401,
      body: { error: { code: 'VIGIL_ERR_TOKEN_INVALID' } },
    });
    const res = await h.app.inject({ method: 'POST', url: `/api/v1/hosts/${agent.hostId}/revoke`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(await upgradeStatus({ authorization: `Bearer ${agent.agentToken}` })).toMatchObject({
      status: 401,
      body: { error: { code: 'VIGIL_ERR_TOKEN_REVOKED' } },
    });
  });

  it('cuts off a connected agent when its host is revoked', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    await h.app.inject({ method: 'POST', url: `/api/v1/hosts/${agent.hostId}/revoke`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(await a.waitClosed()).toBe(CLOSE_CODES.revoked);
    expect(a.frames.some((f) => f.type === 'error' && f.body.code === 'VIGIL_ERR_TOKEN_REVOKED')).toBe(true);
    expect(h.store.hosts.get(agent.hostId)?.status).toBe('retired');
  });

  it('answers a frame that is not JSON with a coded error, stores nothing, and stays up', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    a.sendRaw('{"v":1, this is not json');
    const err = await a.waitFor((f) => f.type === 'error');
    expect(err.body.code).toBe('VIGIL_ERR_FRAME_NOT_JSON');
    // The error frame goes out at once; the record of it with the next commit (through IPC with workers).
    for (let i = 0; i < 200 && rejections().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(messages()).toBe(0);
    expect(rejections()).toEqual([expect.objectContaining({ seq: null, code: 'VIGIL_ERR_FRAME_NOT_JSON' })]);
    // still serving
    const env = a.send('goodbye', { reason: 'stop' });
    await a.waitForAck(env.seq);
    expect((await h.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    a.close();
  });

  it('acks a schema-invalid message as rejected and records why, without storing it', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    const bad = { ...agentEnvelope('usb.attached', 1, { device: {} as never, present: false }) };
    a.sendRaw(JSON.stringify(bad));
    const ack = await a.waitForAck(1);
    expect(ack.body).toEqual({ upToSeq: 1, rejected: [{ seq: 1, code: 'VIGIL_ERR_MESSAGE_INVALID' }] });
    expect(messages()).toBe(0);
    const [r] = rejections();
    expect(r).toMatchObject({ seq: 1, code: 'VIGIL_ERR_MESSAGE_INVALID', type: 'usb.attached' });
    expect(r?.reason).toMatch(/device\.key/);
    expect(h.store.hosts.get(agent.hostId)?.agent.messagesRejected).toBe(1);
    // the queue is not blocked: the next message is accepted
    const next = agentEnvelope('goodbye', 2, { reason: 'stop' });
    a.sendRaw(JSON.stringify(next));
    await a.waitForAck(2);
    expect(messages()).toBe(1);
    a.close();
  });

  it('rejects a frame over the size cap with a coded error and acks it so the queue moves on', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    const big = agentEnvelope('snapshot', 1, { host: hostFacts({ fqdn: 'x'.repeat(200) }) });
    const padded = JSON.stringify({ ...big, pad: 'y'.repeat(70 * 1024) });
    a.sendRaw(padded);
    const ack = await a.waitForAck(1);
    expect(ack.body.rejected).toEqual([{ seq: 1, code: 'VIGIL_ERR_FRAME_TOO_LARGE' }]);
    expect(messages()).toBe(0);
    a.close();
  });

  it('closes a stream past the hard cap without storing it', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    a.sendRaw('x'.repeat(64 * 1024 * 4 + 10));
    expect(await a.waitClosed()).toBe(1009);
    expect(messages()).toBe(0);
    expect((await h.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('refuses a hello that speaks for another agent or host', async () => {
    const other = await h.enrol(hostFacts({ hostname: 'other' }));
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: other.agentId });
    expect(a.closeCode ?? (await a.waitClosed())).toBe(CLOSE_CODES.protocol);
    expect(a.frames).toContainEqual(expect.objectContaining({ type: 'error', body: expect.objectContaining({ code: 'VIGIL_ERR_HOST_MISMATCH' }) }));
    const b = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId, hostId: other.hostId });
    expect(b.closeCode ?? (await b.waitClosed())).toBe(CLOSE_CODES.protocol);
    expect(messages()).toBe(0);
    expect(h.store.hosts.get(other.hostId)?.status).toBe('offline');
  });

  it('refuses an incompatible protocol version in hello with a coded error', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId, protocolVersion: PROTOCOL_VERSION + 1 });
    expect(a.closeCode ?? (await a.waitClosed())).toBe(CLOSE_CODES.protocol);
    expect(a.frames).toContainEqual(expect.objectContaining({ type: 'error', body: expect.objectContaining({ code: 'VIGIL_ERR_PROTOCOL_VERSION' }) }));
  });

  it('requires hello first', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken);
    a.send('goodbye', { reason: 'stop' });
    expect(await a.waitClosed()).toBe(CLOSE_CODES.protocol);
    expect(a.frames[0]?.body.code).toBe('VIGIL_ERR_HELLO_REQUIRED');
    expect(messages()).toBe(0);
  });

  it('closes a stream that keeps sending garbage', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    for (let i = 0; i < 5; i++) a.sendRaw(`garbage ${i}`);
    expect(await a.waitClosed()).toBe(CLOSE_CODES.tooManyBadFrames);
    expect(a.frames.some((f) => f.body.code === 'VIGIL_ERR_TOO_MANY_BAD_FRAMES')).toBe(true);
  });

  it('rejects binary frames with a coded error', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    a.sendRaw(Buffer.from([1, 2, 3]), true);
    expect((await a.waitFor((f) => f.type === 'error')).body.code).toBe('VIGIL_ERR_FRAME_BINARY');
    a.close();
  });

  it('lets a second connection with the same token replace the first', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    const b = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    expect(await a.waitClosed()).toBe(CLOSE_CODES.superseded);
    const env = b.send('goodbye', { reason: 'stop' });
    await b.waitForAck(env.seq);
    expect(h.store.hosts.get(agent.hostId)?.status).toBe('online');
    b.close();
  });

  it('marks the host offline when the agent disconnects, with the goodbye reason', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    const env = a.send('goodbye', { reason: 'shutdown' });
    await a.waitForAck(env.seq);
    a.close();
    await a.waitClosed();
    for (let i = 0; i < 50 && h.store.hosts.get(agent.hostId)?.status !== 'offline'; i++) await new Promise((r) => setTimeout(r, 20));
    expect(h.store.hosts.get(agent.hostId)).toMatchObject({ status: 'offline', lastGoodbye: 'shutdown' });
  });

  it('caps untrusted text at the boundary', async () => {
    const a = await TestAgent.connect(h.wsUrl, agent.agentToken, { agentId: agent.agentId });
    a.send('snapshot', { host: hostFacts({ hostname: 'h'.repeat(LIMITS.hostname + 1) }) });
    const ack = await a.waitForAck(1);
    expect(ack.body.rejected).toEqual([{ seq: 1, code: 'VIGIL_ERR_MESSAGE_INVALID' }]);
    expect(h.store.hosts.get(agent.hostId)?.hostname).toBe('ws-0042');
    a.close();
  });
});

describe.each(MODES)('agent gateway flow control and timeouts ($name)', ({ gatewayWorkers }) => {
  it('stops reading a connection with too much waiting for commit, and resumes after it', async () => {
    const small = await startHarness({ gateway: { maxInflight: 2 }, gatewayWorkers });
    try {
      const creds = await small.enrol();
      const a = await TestAgent.connect(small.wsUrl, creds.agentToken, { agentId: creds.agentId });
      for (let i = 0; i < 200; i++) a.send('goodbye', { reason: 'sleep' });
      await a.waitForAck(200);
      expect((small.store.db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n).toBe(200);
      a.close();
    } finally {
      await small.close();
    }
  });

  it('refuses agents past what each process may hold with 503 VIGIL_ERR_AT_CAPACITY, and takes them again once some leave', async () => {
    const full = await startHarness({ gateway: { maxConnectionsPerProcess: 2 }, gatewayWorkers });
    try {
      const capacity = 2 * Math.max(1, gatewayWorkers);
      const conns: TestAgent[] = [];
      for (let i = 0; i < capacity; i++) {
        const creds = await full.enrol(hostFacts({ hostname: `h${i}` }));
        conns.push(await TestAgent.connect(full.wsUrl, creds.agentToken, { agentId: creds.agentId }));
      }
      const extra = await full.enrol(hostFacts({ hostname: 'extra' }));
      const auth = { authorization: `Bearer ${extra.agentToken}` };
      expect(await upgradeStatus(auth, full.wsUrl)).toMatchObject({ status: 503, body: { error: { code: 'VIGIL_ERR_AT_CAPACITY' } } });
      expect(full.logs.join('')).toContain('agent connections at capacity');
      conns[0]!.close();
      await conns[0]!.waitClosed();
      for (let i = 0; i < 100 && full.app.gateway.connections.size === capacity; i++) await new Promise((r) => setTimeout(r, 20));
      const admitted = await TestAgent.connect(full.wsUrl, extra.agentToken, { agentId: extra.agentId });
      expect(admitted.frames.some((f) => f.type === 'config')).toBe(true);
      for (const c of [...conns.slice(1), admitted]) c.close();
    } finally {
      await full.close();
    }
  });

  it('closes a connection that never says hello', async () => {
    const quick = await startHarness({ gateway: { helloTimeoutMs: 200 }, gatewayWorkers });
    try {
      const creds = await quick.enrol();
      const a = await TestAgent.connect(quick.wsUrl, creds.agentToken);
      expect(await a.waitClosed()).toBe(CLOSE_CODES.protocol);
      expect(a.frames[0]?.body.code).toBe('VIGIL_ERR_HELLO_REQUIRED');
    } finally {
      await quick.close();
    }
  });

  it.runIf(gatewayWorkers === 0)('takes a hello that arrived during a stall longer than the hello timeout (a busy process reads it before judging)', async () => {
    const quick = await startHarness({ gateway: { helloTimeoutMs: 100 }, gatewayWorkers });
    try {
      const creds = await quick.enrol();
      const a = await TestAgent.connect(quick.wsUrl, creds.agentToken);
      a.sendRaw(JSON.stringify(agentEnvelope('hello', 0, { protocolVersion: PROTOCOL_VERSION, agentVersion: '0.1.0', agentId: creds.agentId })));
      // The collector is this process: stall it past the timeout with the hello unread.
      for (const end = Date.now() + 300; Date.now() < end; );
      expect((await a.waitFor((f) => f.type === 'config' || f.type === 'error')).type).toBe('config');
      a.close();
    } finally {
      await quick.close();
    }
  });
});

const INSTANCE_A = '6b1f3c2e-1111-4111-8111-111111111111';
const INSTANCE_B = '6b1f3c2e-2222-4222-8222-222222222222';
const INSTANCE_C = '6b1f3c2e-3333-4333-8333-333333333333';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(MODES)('one token, two copies; rate limits ($name)', ({ gatewayWorkers }) => {
  let hh: Harness;
  afterEach(async () => {
    await hh?.close();
    hh = undefined as unknown as Harness;
  });

  const clonedAlerts = async () => {
    const res = await hh.app.inject({ url: '/api/v1/alerts?rule=agent.cloned', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.statusCode).toBe(200);
    return (res.json() as { items: { hostId: string; subject: string; severity: string; status: string; count: number; details: Record<string, unknown> }[] }).items;
  };

  it('raises agent.cloned when a replaced instance comes back (A, B, A), with peers and counts; both copies still stored', async () => {
    hh = await startHarness({ gatewayWorkers });
    const creds = await hh.enrol();
    const a1 = await TestAgent.connect(hh.wsUrl, creds.agentToken, { agentId: creds.agentId, instanceId: INSTANCE_A, lastSeq: 0 });
    const envA = a1.send('goodbye', { reason: 'sleep' });
    await a1.waitForAck(envA.seq);
    const b = await TestAgent.connect(hh.wsUrl, creds.agentToken, { agentId: creds.agentId, instanceId: INSTANCE_B, lastSeq: 1 });
    expect(await a1.waitClosed()).toBe(CLOSE_CODES.superseded);
    // B's own message at the same seq (its copy of the outbox diverged): stored too, not merged away.
    const envB = b.send('goodbye', { reason: 'stop' });
    await b.waitForAck(envB.seq);
    expect(await clonedAlerts()).toEqual([]);
    const a2 = await TestAgent.connect(hh.wsUrl, creds.agentToken, { agentId: creds.agentId, instanceId: INSTANCE_A, lastSeq: 1 });
    expect(await b.waitClosed()).toBe(CLOSE_CODES.superseded);
    let alerts: Awaited<ReturnType<typeof clonedAlerts>> = [];
    for (let i = 0; i < 100 && alerts.length === 0; i++) {
      alerts = await clonedAlerts();
      if (!alerts.length) await sleep(20);
    }
    expect(alerts).toEqual([
      expect.objectContaining({
        hostId: creds.hostId,
        subject: `agent:${creds.agentId}`,
        severity: 'high',
        status: 'open',
        details: expect.objectContaining({
          signals: ['instance-alternation'],
          supersessions: 2,
          alternations: 1,
          copies: [expect.objectContaining({ instanceId: INSTANCE_A, hellos: 2 }), expect.objectContaining({ instanceId: INSTANCE_B, hellos: 1 })],
          peers: expect.arrayContaining([expect.stringMatching(/^(::ffff:)?127\.0\.0\.1:\d+$/)]),
        }),
      }),
    ]);
    const rows = hh.store.db.prepare('SELECT id, seq FROM messages WHERE agent_id = ? ORDER BY id').all(creds.agentId) as { id: string; seq: number }[];
    expect(rows).toEqual([
      { id: envA.id, seq: 1 },
      { id: envB.id, seq: 1 },
    ]);
    a2.close();
  }, 15_000);

  it('raises agent.cloned when a hello shows an outbox behind what was committed (no instance ids)', async () => {
    hh = await startHarness({ gatewayWorkers });
    const creds = await hh.enrol();
    const a = await TestAgent.connect(hh.wsUrl, creds.agentToken, { agentId: creds.agentId, lastSeq: 0 });
    let last = 0;
    for (let i = 0; i < 5; i++) last = a.send('goodbye', { reason: 'sleep' }).seq;
    await a.waitForAck(last);
    a.close();
    await a.waitClosed();
    const b = await TestAgent.connect(hh.wsUrl, creds.agentToken, { agentId: creds.agentId, lastSeq: 2 });
    let alerts: Awaited<ReturnType<typeof clonedAlerts>> = [];
    for (let i = 0; i < 100 && alerts.length === 0; i++) {
      alerts = await clonedAlerts();
      if (!alerts.length) await sleep(20);
    }
    expect(alerts).toEqual([expect.objectContaining({ details: expect.objectContaining({ signals: ['seq-regression'], helloLastSeq: 2, committedSeq: 5 }) })]);
    b.close();
  }, 15_000);

  it('does not flag one agent that reconnects and restarts, replacing a connection that still looks open', async () => {
    hh = await startHarness({ gatewayWorkers });
    const creds = await hh.enrol();
    let seq = 0;
    const hello = (instanceId: string) => ({ agentId: creds.agentId, instanceId, lastSeq: seq });
    let prev: TestAgent | undefined;
    for (const instanceId of [INSTANCE_A, INSTANCE_A, INSTANCE_B, INSTANCE_B, INSTANCE_C, INSTANCE_C]) {
      // The previous connection is left open (a half-open socket after a power cut): the new one replaces it.
      const a = await TestAgent.connect(hh.wsUrl, creds.agentToken, hello(instanceId));
      if (prev) expect(await prev.waitClosed()).toBe(CLOSE_CODES.superseded);
      const env = a.send('goodbye', { reason: 'sleep' });
      seq = env.seq;
      await a.waitForAck(env.seq);
      prev = a;
    }
    prev?.close();
    await sleep(100);
    expect(await clonedAlerts()).toEqual([]);
    expect(hh.logs.some((l) => l.includes('raising agent.cloned'))).toBe(false);
  }, 15_000);

  it('slows a flooding connection with a coded error, closes it (4430) if it keeps going, refuses it a while; another agent is unaffected', async () => {
    hh = await startHarness({ gatewayWorkers, gateway: { rate: { framesPerSecond: 100, frameBurst: 200, bytesPerSecond: 0, byteBurst: 1 }, rateLimitCloseMs: 1000 } });
    const flooder = await hh.enrol();
    const calm = await hh.enrol(hostFacts({ hostname: 'calm-host' }));
    const f = await TestAgent.connect(hh.wsUrl, flooder.agentToken, { agentId: flooder.agentId });
    const c = await TestAgent.connect(hh.wsUrl, calm.agentToken, { agentId: calm.agentId });
    const hb = { counters: { produced: 1, sent: 1, acknowledged: 0, rejected: 0, dropped: 0 }, droppedByType: {}, outbox: { pending: 0, bytes: 0 }, uptimeSeconds: 1 };
    let flooding = true;
    let sentByFlooder = 0;
    const flood = (async () => {
      while (flooding && f.closeCode === undefined) {
        for (let i = 0; i < 200; i++) f.send('heartbeat', hb);
        sentByFlooder += 200;
        await sleep(5);
      }
    })();
    const err = await f.waitFor((x) => x.type === 'error' && x.body.code === 'VIGIL_ERR_FRAME_RATE_LIMITED', 10_000);
    expect(err.type).toBe('error');
    // Meanwhile the calm agent's messages are acknowledged as usual.
    for (let i = 0; i < 5; i++) {
      const env = c.send('goodbye', { reason: 'sleep' });
      expect((await c.waitForAck(env.seq)).body).toMatchObject({ upToSeq: env.seq });
      await sleep(100);
    }
    expect(await f.waitClosed(15_000)).toBe(CLOSE_CODES.rateLimited);
    flooding = false;
    await flood;
    expect(sentByFlooder).toBeGreaterThan(1000);
    // The refusal is recorded when the collector sees the socket go (with workers, through the worker's report).
    await sleep(300);
    expect(await upgradeStatus({ authorization: `Bearer ${flooder.agentToken}` }, hh.wsUrl)).toMatchObject({
      status: 429,
      body: { error: { code: 'VIGIL_ERR_CONNECT_RATE_LIMITED' } },
    });
    const env = c.send('goodbye', { reason: 'stop' });
    await c.waitForAck(env.seq);
    c.close();
  }, 30_000);

  it('refuses an agent token past its connection attempts per minute, with a code', async () => {
    hh = await startHarness({ gatewayWorkers, gateway: { connectsPerMinute: 3 } });
    const creds = await hh.enrol();
    for (let i = 0; i < 3; i++) {
      const a = await TestAgent.connect(hh.wsUrl, creds.agentToken, { agentId: creds.agentId });
      a.close();
      await a.waitClosed();
    }
    expect(await upgradeStatus({ authorization: `Bearer ${creds.agentToken}` }, hh.wsUrl)).toMatchObject({
      status: 429,
      body: { error: { code: 'VIGIL_ERR_CONNECT_RATE_LIMITED' } },
    });
    // Another agent is not affected.
    const other = await hh.enrol(hostFacts({ hostname: 'other' }));
    const b = await TestAgent.connect(hh.wsUrl, other.agentToken, { agentId: other.agentId });
    expect(b.frames.some((x) => x.type === 'config')).toBe(true);
    b.close();
  }, 15_000);
});
