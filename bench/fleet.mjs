// A fleet against one collector: N simulated agents (test/sim, in a child process) enrol, connect,
// send their snapshots, then heartbeat every 30 s with background events, while this process
// measures the collector (a child process too, the real built one via lib.mjs):
//
// * time to enrol and connect all N, and until every snapshot is committed;
// * the collector's CPU and RSS over a steady window, and RSS per connected agent;
// * alert latency at that load: a few extra agents in this process plug in unapproved sticks and
//   time `usb.attached` → `opened` on the live feed (/api/v1/alerts/stream);
// * a reconnect storm: every fleet connection dropped at once; time until every agent is
//   connected again and has had `config` back for its hello;
// * optionally (`cpuProf`) the collector's CPU profile, cut into the phases above.
//
// Three processes share the machine's (two) cores, nothing pinned: the collector; the simulator
// (test/sim/child.mjs under fork: one event loop for the whole fleet, about 25 % of a core while
// 10,000 agents enrol and send snapshots, 6 % in steady state); and this one (the probe agents,
// the feed and /proc sampling: next to nothing), so its timestamps are not delayed by the fleet.
//
// One collector process holds every agent's socket, so N is capped by the open-file limit
// (ulimit -Hn; Node raises the soft limit to it): 20,000+ agents need the gateway spread over
// several processes, which Vigil does not have.
//
// Run alone: `node bench/fleet.mjs [agents] [--cpu-prof] [--profile-dir=DIR] [--collector-arg=--flag=value]…
// [--collector-node-arg=--flag]… [--progress]` (prints JSON).
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { agentEnvelope } from '@vigil/shared';
import { fleetPolicyText } from '../test/sim/fleet-policy.mjs';
import { loadTemplates } from '../test/sim/templates.mjs';
import { ADMIN_TOKEN, connectAgent, cpuSeconds, ENROL_SECRET, enrol, ROOT, rssBytes, startCollector, tempDir } from './lib.mjs';

const SIM_CHILD = path.join(ROOT, 'test/sim/child.mjs');
const MiB = 2 ** 20;
/** File descriptors a collector needs besides agent sockets: SQLite, the listener, API clients, slack. */
const FD_RESERVE = 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const r1 = (x) => +x.toFixed(1);
const monoUs = () => Number(process.hrtime.bigint() / 1000n);

/** The hard open-file limit of this process (children inherit it; Node raises its soft limit to it). */
export function openFileLimit() {
  const m = /^Max open files\s+\S+\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** The most agents one collector process can hold here. */
export const maxAgentsPerCollector = () => openFileLimit() - FD_RESERVE;

function percentiles(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p) => r1(s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]);
  return { n: s.length, p50: at(50), p95: at(95), p99: at(99), max: r1(s.at(-1)), mean: r1(s.reduce((a, b) => a + b, 0) / s.length) };
}

/** The simulator in a child process, driven over IPC (test/sim/child.mjs). */
function startSimChild() {
  const child = fork(SIM_CHILD, [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiting = new Map();
  let next = 0;
  let fatal;
  child.on('message', (m) => {
    if (m.fatal) {
      fatal = new Error(`simulator: ${m.fatal}`);
      for (const w of waiting.values()) w.reject(fatal);
      return;
    }
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.resolve(m.result);
    else w?.reject(new Error(`simulator: ${m.error}`));
  });
  const exited = new Promise((r) => child.once('exit', r));
  const call = (cmd, extra = {}, timeoutMs = 600_000) =>
    new Promise((resolve, reject) => {
      if (fatal) return reject(fatal);
      const id = ++next;
      const t = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`simulator: no answer to ${cmd} in ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, {
        resolve: (v) => (clearTimeout(t), resolve(v)),
        reject: (e) => (clearTimeout(t), reject(e)),
      });
      child.send({ id, cmd, ...extra });
    });
  return { child, pid: child.pid, call, exited };
}

/** A few numbers from the collector's /metrics, when it has them (and this build serves them). */
async function scrapeMetrics(url) {
  try {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return undefined;
    const out = {};
    for (const line of (await res.text()).split('\n')) {
      const m = /^(\w*(?:heap_size_used_bytes|eventloop_lag_p99_seconds|eventloop_lag_max_seconds|ingest_batch_seconds_(?:sum|count)|agents_connected))(?:\{[^}]*\})? (\S+)$/.exec(line);
      if (m) out[m[1]] = Number(m[2]);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** The kernel's TCP listen-queue and SYN counters (/proc/net/netstat), machine-wide. */
function tcpCounters() {
  try {
    const lines = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const i = lines.findIndex((l) => l.startsWith('TcpExt:'));
    const names = lines[i].split(/\s+/);
    const values = lines[i + 1].split(/\s+/);
    const want = ['ListenOverflows', 'ListenDrops', 'TCPSynRetrans', 'TCPReqQFullDoCookies'];
    return Object.fromEntries(want.map((w) => [w, Number(values[names.indexOf(w)])]));
  } catch {
    return {};
  }
}

const diff = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));

/** Bytes a process has had written to storage so far (/proc/<pid>/io), or null where not readable. */
function writeBytes(pid) {
  try {
    return Number(/^write_bytes: (\d+)/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);
  } catch {
    return null;
  }
}

/** Samples a process's CPU share and RSS once a second until stopped. */
function sampler(pids) {
  const series = Object.fromEntries(Object.keys(pids).map((k) => [k, { rss: [], cpu0: cpuSeconds(pids[k]), io0: writeBytes(pids[k]) }]));
  const t0 = performance.now();
  const timer = setInterval(() => {
    for (const [k, pid] of Object.entries(pids)) {
      try {
        series[k].rss.push(rssBytes(pid));
      } catch {
        // exited
      }
    }
  }, 1000);
  return () => {
    clearInterval(timer);
    const seconds = (performance.now() - t0) / 1000;
    const out = { seconds: r1(seconds) };
    for (const [k, pid] of Object.entries(pids)) {
      const s = series[k];
      const cpu = cpuSeconds(pid) - s.cpu0;
      const rss = s.rss.length ? s.rss : [rssBytes(pid)];
      const io = writeBytes(pid);
      out[k] = {
        cpuPercentOfOneCore: r1((cpu / seconds) * 100),
        cpuSeconds: r1(cpu),
        rssMiB: { min: r1(Math.min(...rss) / MiB), mean: r1(rss.reduce((a, b) => a + b, 0) / rss.length / MiB), max: r1(Math.max(...rss) / MiB) },
        ...(io !== null && s.io0 !== null ? { writtenMiBPerSecond: r1((io - s.io0) / MiB / seconds) } : {}),
      };
    }
    return out;
  };
}

function openFeed(url) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/alerts/stream?rule=usb.unauthorised`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => resolve(ws));
  });
}

/** An unapproved stick (a Kingston DataTraveler, which the fleet policy does not allow) with its own serial. */
const stick = (serial, busPath) => ({
  key: `usb:0951:1666:${serial}`,
  vendorId: '0951',
  productId: '1666',
  serial,
  manufacturer: 'Kingston',
  product: 'DataTraveler 3.0',
  deviceClass: '00',
  interfaceClasses: ['08'],
  busPath,
  removable: 'removable',
  isHub: false,
  isRootHub: false,
});

/**
 * `count` attaches round-robin over the probe agents at `rate` per second; the latency of each is
 * from just before `ws.send` to its `opened` frame on the feed. The stick is unplugged once its
 * alert has arrived, as a user would.
 */
function measureAlertLatency({ probes, feed, count, rate, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const pending = new Map();
    const latencies = [];
    let sent = 0;
    const start = performance.now();
    const onFrame = (d) => {
      const now = performance.now();
      const f = JSON.parse(String(d));
      if (f.action !== 'opened') return;
      const p = pending.get(f.alert.subject);
      if (!p) return;
      latencies.push(now - p.t0);
      pending.delete(f.alert.subject);
      p.probe.send('usb.detached', { key: p.device.key, busPath: p.device.busPath });
      if (latencies.length === count) finish();
    };
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (sent < due) {
        const i = sent++;
        const probe = probes[i % probes.length];
        const device = stick(`FLEETBENCH${String(i).padStart(6, '0')}`, `3-${1 + (i % 4)}`);
        pending.set(device.key, { t0: performance.now(), probe, device });
        probe.send('usb.attached', { device, present: false });
      }
    };
    const timer = setInterval(tick, 5);
    const deadline = setTimeout(() => finish(new Error(`alert latency: ${pending.size} of ${count} alerts had not arrived after ${timeoutMs} ms`)), timeoutMs);
    feed.on('message', onFrame);
    function finish(err) {
      clearInterval(timer);
      clearTimeout(deadline);
      feed.off('message', onFrame);
      if (err) reject(err);
      else resolve({ latencyMs: percentiles(latencies), seconds: r1((performance.now() - start) / 1000) });
    }
    tick();
  });
}

// --- CPU profile

/** Where a function lives, short: a package, a file of ours, or Node's internals. */
function place(url) {
  if (!url) return '(native)';
  const u = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (pkg) return pkg[1];
  if (u.startsWith('node:')) return 'node internals';
  return path.relative(ROOT, u);
}

/**
 * The main thread's longest stretches without an idle sample (how long the event loop was blocked),
 * with the functions that took most of each.
 */
function busyStretches(prof, byId, keyOf, w, top = 5) {
  const out = [];
  let cur = null;
  let t = prof.startTime;
  const close = () => {
    if (cur) out.push(cur);
    cur = null;
  };
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    if (t < w.fromUs || t >= w.toUs) continue;
    const n = byId.get(prof.samples[i]);
    if (n.callFrame.functionName === '(idle)') {
      close();
      continue;
    }
    const dt = prof.timeDeltas[i + 1] ?? 0;
    cur ??= { fromUs: t, us: 0, self: new Map() };
    cur.us += dt;
    const k = keyOf(n);
    cur.self.set(k, (cur.self.get(k) ?? 0) + dt);
  }
  close();
  return out
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((c) => ({
      ms: Math.round(c.us / 1000),
      atSecondsIntoPhase: r1((c.fromUs - w.fromUs) / 1e6),
      mostly: [...c.self].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, us]) => `${k} (${Math.round(us / 1000)} ms)`),
    }));
}

/**
 * Self and inclusive time of the busiest functions, and self time by package/file, within each
 * window `{name, fromUs, toUs}` (CLOCK_MONOTONIC microseconds, the clock V8 stamps samples with).
 */
export function summariseCpuProfile(file, windows, top = 15) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n) => {
    const f = n.callFrame;
    return `${f.functionName || '(anonymous)'} ${place(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  };
  const out = {};
  for (const w of windows) {
    const self = new Map();
    const incl = new Map();
    const byPlace = new Map();
    let total = 0;
    let t = prof.startTime;
    for (let i = 0; i < prof.samples.length; i++) {
      t += prof.timeDeltas[i];
      if (t < w.fromUs || t >= w.toUs) continue;
      const dt = prof.timeDeltas[i + 1] ?? 0;
      total += dt;
      const n = byId.get(prof.samples[i]);
      const k = keyOf(n);
      self.set(k, (self.get(k) ?? 0) + dt);
      const p = ['(idle)', '(program)', '(garbage collector)'].includes(n.callFrame.functionName) ? n.callFrame.functionName : place(n.callFrame.url);
      byPlace.set(p, (byPlace.get(p) ?? 0) + dt);
      const seen = new Set();
      for (let id = n.id; id !== undefined; id = parent.get(id)) {
        const a = byId.get(id);
        if (a.callFrame.functionName === '(root)') break;
        const ak = keyOf(a);
        if (seen.has(ak)) continue;
        seen.add(ak);
        incl.set(ak, (incl.get(ak) ?? 0) + dt);
      }
    }
    const busy = total - (self.get('(idle) (native)') ?? 0);
    const stretches = busyStretches(prof, byId, keyOf, w);
    const rows = (m) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, us]) => ({ fn: k, ms: Math.round(us / 1000), pctOfBusy: r1((us / Math.max(1, busy)) * 100) }));
    out[w.name] = {
      seconds: r1(total / 1e6),
      busySeconds: r1(busy / 1e6),
      busyPercentOfOneCore: r1((busy / Math.max(1, total)) * 100),
      selfByPlace: rows(byPlace),
      self: rows(self).filter((r) => !r.fn.startsWith('(idle)')),
      inclusive: rows(incl).filter((r) => !/^\((idle|program|garbage collector)\)/.test(r.fn)),
      longestBusyStretches: stretches,
    };
  }
  return out;
}

/**
 * @param {object} o
 * @param {number} [o.agents] simulated agents (one collector process: at most ulimit -Hn − 1000)
 * @param {number} [o.heartbeatSeconds]
 * @param {number} [o.eventsPerAgentPerHour] background events per agent
 * @param {number} [o.steadySeconds] the steady window
 * @param {number} [o.probeAgents] agents in this process that plug in sticks for the latency measurement
 * @param {number} [o.attaches]
 * @param {number} [o.attachRate] per second
 * @param {boolean} [o.cpuProf] profile the collector (node --cpu-prof) and summarise each phase
 * @param {string} [o.profileDir] keep the .cpuprofile there (default: the run's temp dir, removed)
 * @param {string[]} [o.collectorArgs] more `vigil-collector serve` flags (experiments)
 * @param {string[]} [o.collectorNodeArgs] more flags for the collector's node (experiments, e.g. `--import=<preload>`)
 */
export async function benchFleet({
  agents = 10_000,
  heartbeatSeconds = 30,
  eventsPerAgentPerHour = 6,
  steadySeconds = 60,
  probeAgents = 10,
  attaches = 300,
  attachRate = 5,
  seed = 'fleet-bench',
  cpuProf = false,
  profileDir,
  collectorArgs = [],
  collectorNodeArgs = [],
  progress = false,
} = {}) {
  const cap = maxAgentsPerCollector();
  if (!Number.isInteger(agents) || agents < 1) throw new Error(`agents must be a positive whole number (got ${agents})`);
  if (agents + probeAgents > cap) {
    throw new Error(
      `${agents} agents do not fit in one collector process here: it may hold ${openFileLimit()} open files (ulimit -Hn), so at most about ${cap} agent sockets. ` +
        'Beyond that the agent gateway must be spread over several collector processes, which Vigil does not have yet.',
    );
  }
  const work = tempDir('fleet');
  const dataDir = path.join(work, 'data');
  fs.mkdirSync(dataDir);
  const profDir = profileDir ?? path.join(work, 'prof');
  const policyFile = path.join(work, 'policy.yaml');
  fs.writeFileSync(policyFile, fleetPolicyText(loadTemplates().templates));

  const collector = await startCollector(dataDir, ['--policy-file', policyFile, '--heartbeat-seconds', String(heartbeatSeconds), ...collectorArgs], {
    nodeArgs: [...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), ...collectorNodeArgs],
  });
  const marks = { start: monoUs() };
  let sim;
  const result = { agents, heartbeatSeconds, eventsPerAgentPerHour, collectorArgs, collectorNodeArgs, processes: 'collector, simulator (test/sim/child.mjs) and this process (probe agents, feed, sampling) share the cores; nothing pinned' };
  try {
    await sleep(3000); // start-up work (policy load, first evaluation) out of the baseline
    const rss0 = rssBytes(collector.pid);
    result.collectorIdleRssMiB = r1(rss0 / MiB);

    // --- enrol and connect the fleet
    sim = startSimChild();
    const ramp = sampler({ collector: collector.pid, simulator: sim.pid });
    const t0 = performance.now();
    const tcpRamp = tcpCounters();
    marks.rampFrom = monoUs();
    const ready = await sim.call(
      'start',
      { options: { agents, collectorUrl: collector.url, seed, enrolSecret: ENROL_SECRET, eventsPerAgentPerHour, stateFile: path.join(work, 'sim-state.json'), progress, progressSeconds: 10 } },
      60_000 + agents * 30,
    );
    const connectedMs = performance.now() - t0;
    // Every snapshot committed: the backlog of the start is behind us.
    let st;
    for (const deadline = performance.now() + 300_000; ; ) {
      st = await sim.call('stats');
      if (st.snapshotAckLatencyMs.n >= agents && st.messages.pending < agents / 100 + 10) break;
      if (performance.now() > deadline) throw new Error(`snapshots not all acknowledged after 300 s (${st.snapshotAckLatencyMs.n} of ${agents})`);
      await sleep(500);
    }
    const drainedMs = performance.now() - t0;
    marks.rampTo = monoUs();
    result.connect = {
      enrolledAllSeconds: ready.enrolledSeconds,
      connectedAllSeconds: r1(connectedMs / 1000),
      snapshotsCommittedSeconds: r1(drainedMs / 1000),
      snapshotAckMs: st.snapshotAckLatencyMs,
      ackMsDuringRamp: st.ackLatencyMs,
      reconnects: st.connections.reconnects,
      socketErrors: st.connections.socketErrors,
      tcp: diff(tcpRamp, tcpCounters()),
      ...ramp(),
    };
    result.collectorRssAfterConnectMiB = r1(rssBytes(collector.pid) / MiB);

    // --- steady window
    await sleep(5000);
    marks.steadyFrom = monoUs();
    const steadyStats0 = await sim.call('stats', { resetWindow: true });
    const steady = sampler({ collector: collector.pid, simulator: sim.pid, bench: process.pid });
    await sleep(steadySeconds * 1000);
    const steadyOut = steady();
    marks.steadyTo = monoUs();
    const steadyStats1 = await sim.call('stats', { gc: true, resetWindow: true });
    const rssSteady = rssBytes(collector.pid);
    const sent = (s) => Object.values(s.messages.sent).reduce((a, b) => a + b, 0);
    result.steady = {
      ...steadyOut,
      framesPerSecond: r1((sent(steadyStats1) - sent(steadyStats0)) / steadyOut.seconds),
      ackedPerSecond: r1((steadyStats1.messages.acked - steadyStats0.messages.acked) / steadyOut.seconds),
      ackMs: steadyStats1.windowAckLatencyMs,
      collectorMetrics: await scrapeMetrics(collector.url),
    };
    result.collectorBytesPerAgent = Math.round((rssSteady - rss0) / agents);
    result.simulator = {
      rssMiB: r1(steadyStats1.process.rssBytes / MiB),
      bytesPerAgent: steadyStats1.process.bytesPerAgent,
      heapUsedMiB: r1(steadyStats1.process.heapUsedBytes / MiB),
      cpuSeconds: steadyStats1.process.cpuSeconds,
      eventLoopDelayMs: steadyStats1.process.eventLoopDelayMs,
    };

    // --- alert latency at this load
    const probeCreds = [];
    for (let i = 0; i < probeAgents; i++) probeCreds.push(await enrol(collector.url, `fleet-probe-${i}`));
    const probes = await Promise.all(
      probeCreds.map(async (c) => {
        const ws = await connectAgent(collector.url, c);
        const p = { ws, next: 1 };
        ws.on('message', (d) => {
          const f = JSON.parse(String(d));
          if (f.type === 'ack' && f.body.rejected?.length) p.error = new Error(`probe rejected: ${JSON.stringify(f.body.rejected)}`);
        });
        p.send = (type, body) => ws.send(JSON.stringify(agentEnvelope(type, p.next++, body)));
        return p;
      }),
    );
    const feed = await openFeed(collector.url);
    marks.latencyFrom = monoUs();
    const latency = sampler({ collector: collector.pid });
    const lat = await measureAlertLatency({ probes, feed, count: attaches, rate: attachRate, timeoutMs: 120_000 + (attaches / attachRate) * 1000 });
    result.alertLatency = { attaches, attachRatePerSecond: attachRate, probeAgents, ...lat, collector: latency().collector, fleetAckMs: (await sim.call('stats', { resetWindow: true })).windowAckLatencyMs };
    marks.latencyTo = monoUs();
    const probeError = probes.find((p) => p.error)?.error;
    if (probeError) throw probeError;

    // --- reconnect storm
    await sleep(3000);
    const storm = sampler({ collector: collector.pid, simulator: sim.pid });
    const tcpStorm = tcpCounters();
    marks.stormFrom = monoUs();
    const stormResult = await sim.call('storm', { timeoutMs: 300_000 }, 320_000);
    marks.stormTo = monoUs();
    const afterStorm = await sim.call('stats');
    result.storm = { ...stormResult, tcp: diff(tcpStorm, tcpCounters()), ...storm(), refused: afterStorm.connections.refused, socketErrors: afterStorm.connections.socketErrors };

    // Acks still flowing after the storm: nothing lost, nothing rejected.
    await sleep(5000);
    const final = await sim.call('stop', {}, 120_000);
    result.totals = { acked: final.messages.acked, rejected: final.messages.rejected, errorFrames: final.messages.errorFrames, resent: final.messages.resent, pending: final.messages.pending, sent: final.messages.sent };
    feed.close();
    for (const p of probes) p.ws.close();
  } finally {
    if (sim) {
      sim.child.kill('SIGTERM');
      await sim.exited;
    }
    const exited = new Promise((r) => collector.child.once('exit', r));
    collector.child.kill('SIGTERM');
    await exited;
    marks.end = monoUs();
    try {
      result.databaseMiB = r1(fs.readdirSync(dataDir).reduce((n, f) => n + fs.statSync(path.join(dataDir, f)).size, 0) / MiB);
    } catch {
      // no data dir
    }
  }
  if (cpuProf) {
    const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      const windows = [
        { name: 'ramp (enrol, connect, snapshots)', fromUs: marks.rampFrom, toUs: marks.rampTo },
        { name: 'steady', fromUs: marks.steadyFrom, toUs: marks.steadyTo },
        { name: 'alert latency', fromUs: marks.latencyFrom, toUs: marks.latencyTo },
        { name: 'storm', fromUs: marks.stormFrom, toUs: marks.stormTo },
      ].filter((w) => w.fromUs && w.toUs);
      result.profile = { file: profileDir ? path.join(profDir, file) : undefined, phases: summariseCpuProfile(path.join(profDir, file), windows) };
    }
  }
  // The database (about 2 GB at 10,000 agents) goes; a profile asked for lives in profileDir.
  fs.rmSync(work, { recursive: true, force: true });
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const agents = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
  const dir = args.find((a) => a.startsWith('--profile-dir='))?.slice('--profile-dir='.length);
  const after = (prefix) => args.filter((a) => a.startsWith(prefix)).map((a) => a.slice(prefix.length));
  const o = { agents, cpuProf: args.includes('--cpu-prof'), profileDir: dir, collectorArgs: after('--collector-arg='), collectorNodeArgs: after('--collector-node-arg='), progress: args.includes('--progress') };
  console.log(JSON.stringify(await benchFleet(o), null, 2));
}
