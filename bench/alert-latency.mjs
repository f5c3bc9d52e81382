// End-to-end alert latency: from an agent sending `usb.attached` for an unapproved device to the
// matching `opened` frame arriving on a live-feed subscriber (`/api/v1/alerts/stream`), through
// the real path: WebSocket → schema → SQLite commit with the policy engine's judgement in the same
// transaction → publish after commit → feed socket. Each attach is a new device key (a new alert);
// once its alert has arrived the agent unplugs it (`usb.detached`, which auto-resolves the alert),
// as a user would, so no host accumulates devices.
//
// Two phases with the same attaches: quiet (only the attaches), and under load (other agents push
// `session.state` frames at a high paced rate from a worker thread meanwhile).
//
// Run alone: `node bench/alert-latency.mjs` (prints JSON); `npm run bench` records it.
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { agentEnvelope } from '@vigil/shared';
import { ADMIN_TOKEN, connectAgent, cpuSeconds, enrol, startCollector, stopChild, summarise, tempDir } from './lib.mjs';

/** A removable stick as the agent reports one (SanDisk 0781:5581, mass storage), with its own serial. */
const stick = (serial, busPath) => ({
  key: `usb:0781:5581:${serial}`,
  vendorId: '0781',
  productId: '5581',
  serial,
  manufacturer: 'SanDisk',
  product: 'SanDisk 3.2Gen1',
  deviceClass: '00',
  interfaceClasses: ['08'],
  busPath,
  removable: 'removable',
  isHub: false,
  isRootHub: false,
});

function openFeed(url) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/alerts/stream?rule=usb.unauthorised`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => resolve(ws));
  });
}

/** An attaching agent: its socket and next seq; acks are only checked for rejections. */
function attachAgent(ws, index) {
  const a = { ws, index, next: 1 };
  ws.on('message', (d) => {
    const f = JSON.parse(String(d));
    if (f.type === 'ack' && f.body.rejected?.length) a.error = new Error(`agent ${index}: rejected ${JSON.stringify(f.body.rejected)}`);
  });
  a.send = (type, body) => ws.send(JSON.stringify(agentEnvelope(type, a.next++, body)));
  return a;
}

/**
 * Sends `count` attaches round-robin over `agents`, paced at `rate` per second, and resolves with
 * the latency of each (ms from just before `ws.send` to the `opened` frame's arrival).
 */
function runAttaches({ phase, agents, feed, count, rate, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const pending = new Map();
    const latencies = [];
    let sent = 0;
    let maxSendLagMs = 0;
    let detachesSent = 0;
    const start = performance.now();

    const onFrame = (d) => {
      const now = performance.now();
      const f = JSON.parse(String(d));
      if (f.action !== 'opened') return;
      const p = pending.get(f.alert.subject);
      if (!p) return;
      latencies.push(now - p.t0);
      pending.delete(f.alert.subject);
      p.agent.send('usb.detached', { key: p.device.key, busPath: p.device.busPath });
      detachesSent++;
      if (latencies.length === count) finish();
    };
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (sent < due) {
        const i = sent++;
        const agent = agents[i % agents.length];
        if (agent.error) return finish(agent.error);
        const device = stick(`BENCH-${phase}-${i}`, `2-${i}`);
        const t0 = performance.now();
        maxSendLagMs = Math.max(maxSendLagMs, t0 - (start + (i * 1000) / rate));
        pending.set(device.key, { t0, agent, device });
        agent.send('usb.attached', { device, present: false });
      }
    };
    const timer = setInterval(tick, 2);
    const deadline = setTimeout(() => finish(new Error(`${phase}: ${pending.size} of ${count} alerts had not arrived after ${timeoutMs} ms`)), timeoutMs);
    feed.on('message', onFrame);
    function finish(err) {
      clearInterval(timer);
      clearTimeout(deadline);
      feed.off('message', onFrame);
      if (err) reject(err);
      else resolve({ latencies, seconds: (performance.now() - start) / 1000, maxSendLagMs, detachesSent });
    }
    tick();
  });
}

function startLoad(url, creds, rate, window) {
  const worker = new Worker(new URL('./session-load.mjs', import.meta.url), { workerData: { url, creds, rate, window } });
  const waiters = [];
  let failure;
  worker.on('message', (m) => {
    if (m.error) failure ??= new Error(`load: ${m.error}`);
    else waiters.shift()?.(m);
  });
  worker.on('error', (err) => (failure ??= err));
  const next = () => new Promise((resolve) => waiters.push(resolve));
  return {
    ready: next(),
    start: () => worker.postMessage('start'),
    count: async () => {
      const p = next();
      worker.postMessage('count');
      return (await p).count;
    },
    stop: async () => {
      const p = next();
      worker.postMessage('stop');
      const { stopped } = await p;
      await worker.terminate();
      if (failure) throw failure;
      return stopped;
    },
  };
}

/** Runs one phase and reports its latencies with what the collector and this process spent. */
async function phase(name, ctx, during) {
  const loadAverage1m = +os.loadavg()[0].toFixed(2);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = cpuSeconds(ctx.collector.pid);
  const own0 = process.cpuUsage();
  const r = await runAttaches({ phase: name, agents: ctx.agents, feed: ctx.feed, count: ctx.attaches, rate: ctx.attachRate, timeoutMs: ctx.phaseTimeoutMs });
  const extra = during ? await during(r.seconds) : {};
  loop.disable();
  const own = process.cpuUsage(own0);
  // Let the last detaches commit before the next phase.
  await new Promise((res) => setTimeout(res, 500));
  return {
    latencyMs: summarise(r.latencies),
    /** The machine's 1-minute load average as the phase started (other work on the box shows here). */
    loadAverage1m,
    seconds: +r.seconds.toFixed(2),
    maxSendLagMs: +r.maxSendLagMs.toFixed(2),
    collectorCpuSeconds: +(cpuSeconds(ctx.collector.pid) - cpu0).toFixed(2),
    benchProcessCpuSeconds: +((own.user + own.system) / 1e6).toFixed(2),
    benchMainLoopDelayMs: { p99: +(loop.percentile(99) / 1e6).toFixed(2), max: +(loop.max / 1e6).toFixed(2) },
    ...extra,
  };
}

export async function benchAlertLatency({ agents = 50, attaches = 2000, attachRate = 100, loadAgents = 20, loadRate = 20_000, loadWindow = 500, phaseTimeoutMs = 120_000 } = {}) {
  const dataDir = tempDir('alert-latency');
  const collector = await startCollector(dataDir);
  try {
    const creds = [];
    for (let i = 0; i < agents + loadAgents; i++) creds.push(await enrol(collector.url, `bench-${i}`));
    const sockets = await Promise.all(creds.slice(0, agents).map((c) => connectAgent(collector.url, c)));
    const ctx = { collector, agents: sockets.map(attachAgent), feed: await openFeed(collector.url), attaches, attachRate, phaseTimeoutMs };

    const quiet = await phase('quiet', ctx);

    const load = startLoad(collector.url, creds.slice(agents), loadRate, loadWindow);
    await load.ready;
    load.start();
    await new Promise((r) => setTimeout(r, 2000)); // reach a steady state first
    const before = await load.count();
    const underLoad = await phase('load', ctx, async () => {
      const after = await load.count();
      const seconds = (after.at - before.at) / 1000;
      return { load: { agents: loadAgents, targetPerSecond: loadRate, window: loadWindow, committedPerSecond: Math.round((after.acked - before.acked) / seconds), deferredByFullWindows: after.deferred - before.deferred } };
    });
    const stopped = await load.stop();
    underLoad.load.totalSent = stopped.sent;
    underLoad.load.totalAcked = stopped.acked;

    ctx.feed.close();
    for (const a of ctx.agents) a.ws.close();
    return { agents, attaches, attachRatePerSecond: attachRate, quiet, underLoad };
  } finally {
    await stopChild(collector.child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await benchAlertLatency(), null, 2));
}
