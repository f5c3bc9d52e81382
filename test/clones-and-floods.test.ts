import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { agentEnvelope, Alert, AlertFeedFrame, CLOSE_CODES, listEnvelope, PROTOCOL_VERSION } from '@vigil/shared';
import { Outbox } from '../agent/src/outbox/outbox.js';
import { addSysfsDevice, loadSysfsFixture, makeSysfsRoot, type SysfsDevice } from '../agent/src/probes/usb/test-support/sysfs-tree.js';
import { cleanedAfterEach } from './support/cleanup.js';
import { ADMIN_TOKEN, api, ENROL_SECRET, freePort, startAgent, startCollector, until, type CollectorProc, type Proc } from './support/processes.js';

/**
 * Issue 9, "Reliability and security", across real processes: one agent token used by two copies
 * of the agent (a cloned machine image: the state directory copied) is raised as `agent.cloned`,
 * while one agent that restarts is not; a client flooding frames is slowed, told, closed and
 * refused while a well-behaved agent's messages keep being acknowledged; and a large outbox flush
 * after a long time offline is not refused with the default limits.
 */

const { procs, feeds, scratch } = cleanedAfterEach();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alertList = listEnvelope(Alert);

async function clonedAlerts(collector: CollectorProc): Promise<Alert[]> {
  const { status, body } = await api(collector.url, '/api/v1/alerts?rule=agent.cloned&limit=100');
  expect(status).toBe(200);
  return alertList.parse(body).items;
}

/** Stops an agent gracefully; its last words: counters and what is left in its outbox. */
async function stopAgent(agent: Proc): Promise<{ counters: { produced: number; acknowledged: number; rejected: number; dropped: number }; pending: number }> {
  expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  return (await agent.waitForLog((l) => l.msg === 'agent stopped', 1000)) as never;
}

function readDb<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path.join(dataDir, 'vigil.db'), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Errors the collector sent an agent, as the agent logged them. */
const collectorErrors = (agent: Proc) => agent.logs.filter((l) => l.msg === 'the collector reported an error').map((l) => String(l.code));

describe('one agent token used by two copies of the agent', () => {
  it.each([0, 2])('a cloned state directory run on two machines at once raises agent.cloned (API and live feed), and both copies’ events are stored (%i gateway workers)', async (workers) => {
    const dataDir = scratch('clone-collector');
    const collector = await startCollector({ dataDir, port: await freePort(), args: ['--heartbeat-seconds', '0.5', '--gateway-workers', String(workers)] });
    procs.push(collector);
    const fixture = await loadSysfsFixture('sandisk-stick.json');
    const stick = fixture.devices.find((d) => d.attrs.idVendor === '0781') as SysfsDevice;
    const hubs = fixture.devices.filter((d) => d !== stick);
    const phoneFixture = await loadSysfsFixture('sony-xperia-phone.json');
    const phone = phoneFixture.devices.find((d) => d.attrs.idVendor === '0fce') as SysfsDevice;
    expect(stick && phone).toBeDefined();
    // Two machines from one image, each with its own USB bus.
    const sysfs1 = await makeSysfsRoot();
    const sysfs2 = await makeSysfsRoot();
    for (const d of hubs) await addSysfsDevice(sysfs1, d);
    for (const d of phoneFixture.devices.filter((x) => x !== phone)) await addSysfsDevice(sysfs2, d);

    // The original machine enrols and reports, then is shut down and its disk imaged.
    const original = scratch('clone-agent-1');
    const first = startAgent({ stateDir: original, url: collector.url, env: { VIGIL_SYSFS_ROOT: sysfs1 } });
    procs.push(first);
    await first.waitForLog((l) => l.msg === 'connected to the collector');
    await sleep(1500);
    expect((await stopAgent(first)).pending).toBe(0);
    const copy = scratch('clone-agent-2');
    fs.cpSync(original, copy, { recursive: true });

    const feed = new WebSocket(`${collector.url.replace(/^http/, 'ws')}/api/v1/alerts/stream?rule=agent.cloned`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    feeds.push(feed);
    const frames: AlertFeedFrame[] = [];
    feed.on('message', (d) => frames.push(AlertFeedFrame.parse(JSON.parse(String(d)))));
    await new Promise<void>((resolve, reject) => {
      feed.once('open', () => resolve());
      feed.once('error', reject);
    });

    // Both machines boot from the image: same token, same outbox, each its own USB bus.
    const a = startAgent({ stateDir: original, url: collector.url, env: { VIGIL_SYSFS_ROOT: sysfs1 } });
    const b = startAgent({ stateDir: copy, url: collector.url, env: { VIGIL_SYSFS_ROOT: sysfs2 } });
    procs.push(a, b);
    await Promise.all([a.waitForLog((l) => l.msg === 'connected to the collector'), b.waitForLog((l) => l.msg === 'connected to the collector')]);
    // Each copy sees a different device plugged in: an event only that copy reports.
    await addSysfsDevice(sysfs1, stick);
    await addSysfsDevice(sysfs2, phone);

    const bothUp = Date.now();
    const alert = await until(async () => (await clonedAlerts(collector))[0], 30_000, 200);
    const alertMs = Date.now() - bothUp;
    const agentId = readDb(dataDir, (db) => (db.prepare('SELECT id FROM agents').get() as { id: string }).id);
    expect(alert).toMatchObject({ rule: 'agent.cloned', subject: `agent:${agentId}`, severity: 'high', status: 'open' });
    const details = alert.details as { signals: string[]; copies: { instanceId: string | null; peers: string[]; hellos: number }[]; peers: string[]; supersessions: number; detections: number };
    expect(details.signals.length).toBeGreaterThan(0);
    expect(details.signals.every((s) => ['instance-alternation', 'seq-regression'].includes(s))).toBe(true);
    // Two agent processes, each with its own instance id, replacing each other.
    const instances = new Set(details.copies.map((c) => c.instanceId).filter((i): i is string => i !== null));
    expect(instances.size).toBeGreaterThanOrEqual(2);
    expect(details.supersessions).toBeGreaterThan(0);
    expect(details.peers.length).toBeGreaterThan(0);
    const onFeed = await until(async () => frames.find((f) => f.alert.id === alert.id), 10_000, 50);
    expect(onFeed.alert.rule).toBe('agent.cloned');

    // Both copies' USB events arrive, under the one agent.
    const attached = () =>
      readDb(dataDir, (db) => db.prepare(`SELECT json_extract(body, '$.device.vendorId') AS v FROM messages WHERE agent_id = ? AND type = 'usb.attached'`).all(agentId) as { v: string }[]).map((r) => r.v);
    await until(async () => attached().includes('0781') && attached().includes('0fce'), 30_000, 200);
    // Nothing is lost on either copy. While both run they keep replacing each other, so a copy may
    // stop with messages still in its outbox (it was between connections): both are stopped, then
    // each is started again on its own (the other machine switched off) and delivers them.
    const stopped = [await stopAgent(a), await stopAgent(b)];
    for (const [i, [stateDir, sysfs]] of [
      [original, sysfs1],
      [copy, sysfs2],
    ].entries()) {
      let last = stopped[i]!;
      for (let attempt = 0; attempt < 3 && last.pending > 0; attempt++) {
        const again = startAgent({ stateDir: stateDir!, url: collector.url, env: { VIGIL_SYSFS_ROOT: sysfs! } });
        procs.push(again);
        await again.waitForLog((l) => l.msg === 'connected to the collector', 30_000);
        await sleep(1000);
        last = await stopAgent(again);
      }
      expect(last.pending).toBe(0);
      expect(last.counters.acknowledged).toBe(last.counters.produced);
      expect(last.counters.dropped).toBe(0);
    }
    // Still one alert for the token (bumped, not duplicated).
    const final = await clonedAlerts(collector);
    expect(final).toHaveLength(1);
    const rows = readDb(dataDir, (db) => db.prepare(`SELECT type, count(*) AS n FROM messages WHERE agent_id = ? GROUP BY type`).all(agentId));
    console.log(JSON.stringify({ clone: { workers, alertMs, signals: details.signals, copies: details.copies.length, supersessions: details.supersessions, peers: details.peers, count: final[0]?.count, rows } }));
  }, 120_000);

  it('one agent restarted repeatedly (SIGKILL and SIGTERM) and reconnecting after collector restarts is not flagged', async () => {
    const dataDir = scratch('restart-collector');
    const port = await freePort();
    let collector = await startCollector({ dataDir, port, args: ['--heartbeat-seconds', '0.2'] });
    procs.push(collector);
    const stateDir = scratch('restart-agent');
    let connects = 0;
    for (let i = 0; i < 4; i++) {
      const agent = startAgent({ stateDir, url: collector.url });
      procs.push(agent);
      await agent.waitForLog((l) => l.msg === 'connected to the collector');
      connects++;
      await sleep(400);
      if (i % 2 === 0) await agent.kill('SIGKILL');
      else await stopAgent(agent);
    }
    // The same process reconnecting: the collector goes away and comes back.
    const agent = startAgent({ stateDir, url: collector.url });
    procs.push(agent);
    await agent.waitForLog((l) => l.msg === 'connected to the collector');
    for (let i = 0; i < 2; i++) {
      await collector.kill('SIGKILL');
      collector = await startCollector({ dataDir, port, args: ['--heartbeat-seconds', '0.2'] });
      procs.push(collector);
      await until(async () => agent.logs.filter((l) => l.msg === 'connected to the collector').length === i + 2, 20_000);
      await sleep(400);
    }
    connects += 3;
    expect(connects).toBe(7);
    const { pending } = await stopAgent(agent);
    expect(pending).toBe(0);
    expect(await clonedAlerts(collector)).toEqual([]);
    expect(collector.logs.some((l) => String(l.msg).includes('agent.cloned'))).toBe(false);
  }, 120_000);
});

describe('frame floods', () => {
  it('a flooding client is told (coded error), closed (4430) and refused (429) while a well-behaved agent keeps being acknowledged', async () => {
    const dataDir = scratch('flood-collector');
    const collector = await startCollector({
      dataDir,
      port: await freePort(),
      args: ['--heartbeat-seconds', '0.1', '--agent-frames-per-second', '200', '--agent-frame-burst', '1000', '--agent-rate-limit-close-seconds', '2'],
    });
    procs.push(collector);
    const calm = startAgent({ stateDir: scratch('flood-calm'), url: collector.url });
    procs.push(calm);
    await calm.waitForLog((l) => l.msg === 'connected to the collector');

    const enrol = await fetch(`${collector.url}/api/v1/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        secret: ENROL_SECRET,
        host: { hostname: 'flooder', os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', arch: 'x64' }, agentVersion: '0.1.0' },
      }),
    });
    expect(enrol.status).toBe(201);
    const creds = (await enrol.json()) as { agentId: string; agentToken: string };
    const wsUrl = `${collector.url.replace(/^http/, 'ws')}/agent/v1`;
    const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${creds.agentToken}` } });
    feeds.push(ws);
    const errors: string[] = [];
    let acked = 0;
    ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as { type: string; body: { code?: string; upToSeq?: number } };
      if (f.type === 'error' && f.body.code) errors.push(f.body.code);
      if (f.type === 'ack') acked = Math.max(acked, f.body.upToSeq ?? 0);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify(agentEnvelope('hello', 0, { protocolVersion: PROTOCOL_VERSION, agentVersion: '0.1.0', agentId: creds.agentId })));

    const calmSeq = () => readDb(dataDir, (db) => (db.prepare(`SELECT max(last_seq) AS s FROM agents WHERE id != ?`).get(creds.agentId) as { s: number }).s);
    const calmBefore = calmSeq();
    // Heartbeats as fast as the socket takes them, never waiting for an ack.
    let seq = 0;
    let open = true;
    void closed.then(() => (open = false));
    const hb = { counters: { produced: 1, sent: 1, acknowledged: 0, rejected: 0, dropped: 0 }, droppedByType: {}, outbox: { pending: 0, bytes: 0 }, uptimeSeconds: 1 };
    const started = Date.now();
    while (open && Date.now() - started < 20_000) {
      if (ws.bufferedAmount < 1024 * 1024) for (let i = 0; i < 200; i++) ws.send(JSON.stringify(agentEnvelope('heartbeat', ++seq, hb)));
      await sleep(5);
    }
    const code = await closed;
    const floodMs = Date.now() - started;
    expect(errors[0]).toBe('VIGIL_ERR_FRAME_RATE_LIMITED');
    expect(code).toBe(CLOSE_CODES.rateLimited);
    expect(errors.at(-1)).toBe('VIGIL_ERR_FRAME_RATE_LIMITED');
    // Read at the limit, not at the flood's pace: the burst plus about the rate for the time it lasted.
    expect(acked).toBeGreaterThan(1000);
    expect(acked).toBeLessThan(1000 + 200 * (floodMs / 1000) * 1.5 + 500);
    expect(seq).toBeGreaterThan(acked * 2);
    // The calm agent's heartbeats (10 a second) kept being committed during the flood.
    expect(calmSeq() - calmBefore).toBeGreaterThan(10);
    // Reconnecting at once is refused, with a code.
    await sleep(300);
    const refused = await new Promise<{ status: number; code: string }>((resolve, reject) => {
      const again = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${creds.agentToken}` } });
      again.on('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(text) as { error: { code: string } }).error.code }));
      });
      again.on('open', () => reject(new Error('the flooder was let in again at once')));
      again.on('error', () => undefined);
    });
    expect(refused).toEqual({ status: 429, code: 'VIGIL_ERR_CONNECT_RATE_LIMITED' });
    const { pending } = await stopAgent(calm);
    expect(pending).toBe(0);
    expect(collectorErrors(calm)).toEqual([]);
    console.log(JSON.stringify({ flood: { sent: seq, acked, floodMs, calmCommitted: calmSeq() - calmBefore } }));
  }, 90_000);

  it('a large outbox flush after a long time offline is not refused with the default limits', async () => {
    const dataDir = scratch('flush-collector');
    const port = await freePort();
    let collector = await startCollector({ dataDir, port });
    procs.push(collector);
    const stateDir = scratch('flush-agent');
    const first = startAgent({ stateDir, url: collector.url });
    procs.push(first);
    await first.waitForLog((l) => l.msg === 'connected to the collector');
    await stopAgent(first);
    expect((await collector.kill('SIGTERM')).code).toBe(0);

    // Weeks offline: a screen locked and unlocked 10,000 times, journalled by the agent's own outbox.
    const N = 10_000;
    const outbox = Outbox.open({ dir: path.join(stateDir, 'outbox') });
    const t0 = Date.now() - N * 60_000;
    for (let i = 0; i < N; i += 1000) {
      outbox.appendMany(
        Array.from({ length: 1000 }, (_, j) => ({
          type: 'session.state' as const,
          body: { sessions: [{ id: '2', user: 'alice', locked: (i + j) % 2 === 0, idle: false, remote: false, seat: 'seat0', type: 'x11' }] },
        })),
        t0 + i * 60_000,
      );
    }
    expect(outbox.stats().pending).toBe(N);
    outbox.close();

    collector = await startCollector({ dataDir, port });
    procs.push(collector);
    const agent = startAgent({ stateDir, url: collector.url });
    procs.push(agent);
    const started = Date.now();
    await agent.waitForLog((l) => l.msg === 'connected to the collector');
    const stored = () => readDb(dataDir, (db) => (db.prepare(`SELECT count(*) AS n FROM messages WHERE type = 'session.state'`).get() as { n: number }).n);
    await until(async () => stored() >= N, 100_000, 250);
    const flushMs = Date.now() - started;
    const { pending, counters } = await stopAgent(agent);
    expect(pending).toBe(0);
    expect(counters.rejected).toBe(0);
    expect(collectorErrors(agent)).toEqual([]);
    expect(agent.logs.filter((l) => l.msg === 'connected to the collector')).toHaveLength(1);
    expect(collector.logs.some((l) => String(l.msg).includes('frame rate limit'))).toBe(false);
    console.log(JSON.stringify({ flush: { messages: N, flushMs, perSecond: Math.round(N / (flushMs / 1000)) } }));
  }, 150_000);
});
