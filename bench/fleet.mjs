// Fleet scale: a simulated fleet (test/sim, in child processes) grown tier by tier against one
// collector — by default 10,000, then 20,000, then 50,000 agents — measuring at each tier:
//
// * the ramp of the agents it adds: time to enrol and connect them all, and until every
//   snapshot is committed (the collector spends milliseconds of CPU on each host's inventory);
// * a steady window (30 s heartbeats, background events): the collector's CPU and RSS, and its
//   memory per connected agent = (collector RSS at the end of the window − idle RSS) ÷ agents;
// * alert latency at that load, during the steady window: a few extra agents in this process plug
//   in unapproved sticks and time `usb.attached` → `opened` on the live feed (/api/v1/alerts/stream);
// * a reconnect storm: every fleet connection dropped at once; time until every agent is
//   connected again and has had `config` back for its hello;
// * optionally (`cpuProf`) the collector's CPU profile, cut into those phases.
//
// One process here may hold at most `ulimit -Hn` (20,000) open files, so past about 19,000 agents
// the collector runs with `--gateway-workers N`: N gateway child processes accept the connections
// on a socket the main process binds (the main process checks each agent's token, gets every other
// request passed on, and stays the only writer to the store). The collector is then a process tree: its CPU and RSS are summed over the tree, and
// given for the main process and the workers apart. The simulator likewise runs one child per
// 15,000 agents at most (test/sim/shards.mjs).
//
// The processes share the machine's cores, nothing pinned: the collector (and its workers), the
// simulator children, and this one (the probe agents, the feed and /proc sampling: next to
// nothing), so its timestamps are not delayed by the fleet.
//
// Run alone: `node bench/fleet.mjs [tiers, e.g. 10000,20000,50000] [--gateway-workers=N]
// [--steady-seconds=S] [--cpu-prof] [--cpu-prof-simulator] [--profile-dir=DIR] [--collector-arg=--flag=value]…
// [--collector-node-arg=--flag]… [--progress]` (prints JSON).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { agentEnvelope } from '@vigil/shared';
import { fleetPolicyText } from '../test/sim/fleet-policy.mjs';
import { AGENTS_PER_PROCESS, startShardedSimulation } from '../test/sim/shards.mjs';
import { loadTemplates } from '../test/sim/templates.mjs';
import { ADMIN_TOKEN, connectAgent, cpuSeconds, ENROL_SECRET, enrol, processTree, ROOT, rssOf, startCollector, tempDir } from './lib.mjs';

const MiB = 2 ** 20;
/** File descriptors a collector process needs besides agent sockets: SQLite, the listener, API clients, slack. */
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

const cpuOf = (pid) => {
  try {
    return cpuSeconds(pid);
  } catch {
    return null;
  }
};

/**
 * Samples groups of processes once a second until stopped: each group's CPU (summed over its
 * processes, as % of one core) and RSS (summed; min, mean, max of the samples). A group is a
 * function returning its pids now, so workers that appear or go are counted while they live.
 */
function sampler(groups) {
  const series = {};
  const cpu0 = new Map();
  const seen = (pids) => {
    for (const p of pids) if (!cpu0.has(p)) cpu0.set(p, cpuOf(p) ?? 0);
    return pids;
  };
  for (const [k, pidsOf] of Object.entries(groups)) {
    const pids = seen(pidsOf());
    series[k] = { rss: [], pids: new Set(pids), io0: sumIo(pids) };
  }
  const t0 = performance.now();
  const sample = () => {
    for (const [k, pidsOf] of Object.entries(groups)) {
      const pids = seen(pidsOf());
      for (const p of pids) series[k].pids.add(p);
      series[k].rss.push(rssOf(pids));
    }
  };
  const timer = setInterval(sample, 1000);
  return () => {
    clearInterval(timer);
    sample();
    const seconds = (performance.now() - t0) / 1000;
    const out = { seconds: r1(seconds) };
    for (const k of Object.keys(groups)) {
      const s = series[k];
      let cpu = 0;
      for (const p of s.pids) {
        const c = cpuOf(p);
        if (c !== null) cpu += c - cpu0.get(p);
      }
      const rss = s.rss;
      const io = sumIo([...s.pids]);
      out[k] = {
        processes: groups[k]().length,
        cpuPercentOfOneCore: r1((cpu / seconds) * 100),
        cpuSeconds: r1(cpu),
        rssMiB: { min: r1(Math.min(...rss) / MiB), mean: r1(rss.reduce((a, b) => a + b, 0) / rss.length / MiB), max: r1(Math.max(...rss) / MiB), end: r1(rss.at(-1) / MiB) },
        ...(io !== null && s.io0 !== null ? { writtenMiBPerSecond: r1((io - s.io0) / MiB / seconds) } : {}),
      };
    }
    return out;
  };
}

function sumIo(pids) {
  let n = 0;
  for (const p of pids) {
    const w = writeBytes(p);
    if (w === null) return null;
    n += w;
  }
  return n;
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
 * alert has arrived, as a user would (its alert stays open, so each measurement needs sticks of
 * its own: `serialPrefix`).
 */
function measureAlertLatency({ probes, feed, count, rate, timeoutMs, serialPrefix = 'FLEETBENCH' }) {
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
        const device = stick(`${serialPrefix}${String(i).padStart(6, '0')}`, `3-${1 + (i % 4)}`);
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

/** Gateway workers for a fleet of `agents` (with the probe agents): none while one process can hold every socket. */
export function autoGatewayWorkers(agents) {
  return agents <= maxAgentsPerCollector() ? 0 : Math.ceil(agents / AGENTS_PER_PROCESS);
}

/** Enrols `count` probe agents once; `connect()` opens their sockets (and the alert feed) for one measurement. */
async function probeAgents(url, count) {
  const creds = [];
  for (let i = 0; i < count; i++) creds.push(await enrol(url, `fleet-probe-${i}`));
  const next = new Map(creds.map((c) => [c.agentId, 1]));
  return {
    async connect() {
      const probes = await Promise.all(
        creds.map(async (c) => {
          const ws = await connectAgent(url, c);
          const p = { ws };
          ws.on('message', (d) => {
            const f = JSON.parse(String(d));
            if (f.type === 'ack' && f.body.rejected?.length) p.error = new Error(`probe rejected: ${JSON.stringify(f.body.rejected)}`);
          });
          p.send = (type, body) => {
            const seq = next.get(c.agentId);
            next.set(c.agentId, seq + 1);
            ws.send(JSON.stringify(agentEnvelope(type, seq, body)));
          };
          return p;
        }),
      );
      const feed = await openFeed(url);
      return {
        probes,
        feed,
        close() {
          feed.close();
          for (const p of probes) p.ws.close();
        },
      };
    },
  };
}

/**
 * @param {object} o
 * @param {number[]} [o.tiers] fleet sizes, growing: each tier adds agents to the fleet already connected
 * @param {number} [o.gatewayWorkers] the collector's `--gateway-workers` (default: none while one
 *   collector process can hold every agent socket, else one per 15,000 agents of the last tier, for every tier)
 * @param {number} [o.heartbeatSeconds]
 * @param {number} [o.eventsPerAgentPerHour] background events per agent
 * @param {number} [o.steadySeconds] the steady window of each tier
 * @param {number} [o.probeAgents] agents in this process that plug in sticks for the latency measurement
 * @param {number} [o.attaches] per tier
 * @param {number} [o.attachRate] per second
 * @param {boolean} [o.cpuProf] profile the collector's main process (node --cpu-prof) and summarise each phase
 * @param {boolean} [o.cpuProfSimulator] the same for each simulator process (`simulatorProfiles`)
 * @param {string} [o.profileDir] keep the .cpuprofile there (default: the run's temp dir, removed)
 * @param {string[]} [o.collectorArgs] more `vigil-collector serve` flags (experiments)
 * @param {string[]} [o.collectorNodeArgs] more flags for the collector's node (experiments, e.g. `--import=<preload>`)
 * @param {number} [o.deadline] `performance.now()` by which the fleet part should be done: a tier after the
 *   first is not started when its estimate (from the tier before: ramp per added agent, storm per agent)
 *   would end past it; `skipped` says which and why (the default run's 15-minute budget)
 * @param {(line: string) => void} [o.log] a line per phase
 */
/**
 * How long a tier of `agents` should take, from the tier before it: its ramp time per added agent
 * × 1.25 (the ramp's cost per agent grows a little with the fleet and the store: 6.8 ms at 20,000
 * and 7.4 ms at 50,000 on 2026-12-07, once a licensed title's recount no longer ran per snapshot:
 * 9.5–12.8 ms before), its storm time grown with the square of the fleet × 1.25 (a storm is every
 * agent at once: 14.7 s at 20,000 and 81.8 s at 50,000, ×5.6 for 2.5 times the agents), plus the
 * steady window (with the alert-latency attaches inside it) and 30 s of settling and teardown.
 */
export function tierEstimateSeconds(previous, agents, { steadySeconds, attaches, attachRate }) {
  const added = agents - previous.agents;
  const rampPerAgent = previous.connect.snapshotsCommittedSeconds / previous.added;
  const storm = (previous.storm.allBackMs / 1000) * (agents / previous.agents) ** 2;
  return 1.25 * rampPerAgent * added + 1.25 * storm + Math.max(steadySeconds, attaches / attachRate) + 30;
}

export async function benchFleet({
  tiers = [10_000, 20_000, 50_000],
  gatewayWorkers,
  heartbeatSeconds = 30,
  eventsPerAgentPerHour = 6,
  steadySeconds = 30,
  probeAgents: probeCount = 10,
  attaches = 150,
  attachRate = 10,
  seed = 'fleet-bench',
  cpuProf = false,
  cpuProfSimulator = false,
  profileDir,
  collectorArgs = [],
  collectorNodeArgs = [],
  progress = false,
  deadline,
  log = () => {},
} = {}) {
  if (!tiers.length || tiers.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= tiers[i - 1]))) throw new Error(`tiers must be growing positive whole numbers (got ${tiers.join(', ')})`);
  const largest = tiers.at(-1) + probeCount;
  const workers = gatewayWorkers ?? autoGatewayWorkers(largest);
  const cap = maxAgentsPerCollector();
  if (workers === 0 && largest > cap) {
    throw new Error(`${largest} agents do not fit in one collector process here: it may hold ${openFileLimit()} open files (ulimit -Hn), so at most about ${cap} agent sockets; use --gateway-workers`);
  }
  if (workers > 0 && largest / workers > cap) throw new Error(`${largest} agents over ${workers} gateway workers is more than ${cap} sockets in each`);

  const work = tempDir('fleet');
  const dataDir = path.join(work, 'data');
  fs.mkdirSync(dataDir);
  const profDir = profileDir ?? path.join(work, 'prof');
  const policyFile = path.join(work, 'policy.yaml');
  fs.writeFileSync(policyFile, fleetPolicyText(loadTemplates().templates));

  const args = ['--policy-file', policyFile, '--heartbeat-seconds', String(heartbeatSeconds), ...(workers > 0 ? ['--gateway-workers', String(workers)] : []), ...collectorArgs];
  const collector = await startCollector(dataDir, args, { nodeArgs: [...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), ...collectorNodeArgs] });
  const primary = collector.pid;
  const descendants = descendantsWatch(primary);
  const groups = () => ({
    collector: () => processTree(primary),
    collectorPrimary: () => [primary],
    collectorWorkers: () => processTree(primary).slice(1),
  });
  const marks = [];
  const mark = (name, fromUs, toUs) => marks.push({ name, fromUs, toUs });
  let sim;
  const result = {
    tiers: [],
    heartbeatSeconds,
    eventsPerAgentPerHour,
    steadySeconds,
    gatewayWorkers: workers,
    gatewayWorkersNote: workers > 0 ? `every tier ran with --gateway-workers ${workers}` : 'every agent socket in the collector main process (no gateway workers)',
    collectorArgs: args.slice(4),
    collectorNodeArgs,
    probeAgents: probeCount,
    attaches,
    attachRatePerSecond: attachRate,
    openFileLimit: openFileLimit(),
    maxAgentsPerCollectorProcess: cap,
    processes: 'collector (main process and gateway workers), simulator children (test/sim/shards.mjs) and this process (probe agents, feed, sampling) share the cores; nothing pinned',
  };
  const t0 = performance.now();
  try {
    await sleep(3000); // start-up work (policy load, first evaluation) out of the baseline
    const idlePids = processTree(primary);
    result.collectorIdle = { processes: idlePids.length, treeRssMiB: r1(rssOf(idlePids) / MiB), primaryRssMiB: r1(rssOf([primary]) / MiB), workersRssMiB: r1(rssOf(idlePids.slice(1)) / MiB) };
    const idleTreeRss = rssOf(idlePids);
    if (workers > 0 && idlePids.length < workers + 1) throw new Error(`the collector was started with --gateway-workers ${workers} but has ${idlePids.length - 1} child processes`);
    const probes = await probeAgents(collector.url, probeCount);

    for (const agents of tiers) {
      try {
        const before = sim?.agents ?? 0;
        const added = agents - before;
        const previous = result.tiers.at(-1);
        if (deadline !== undefined && previous?.storm) {
          const estimate = tierEstimateSeconds(previous, agents, { steadySeconds, attaches, attachRate });
          const leftSeconds = (deadline - performance.now()) / 1000;
          if (estimate > leftSeconds) {
            result.skipped = { tiers: tiers.filter((n) => n >= agents), after: previous.agents, estimatedSeconds: Math.round(estimate), leftSeconds: Math.round(leftSeconds) };
            log(`fleet tier ${agents.toLocaleString('en')}: not run: estimated ${Math.round(estimate)} s from the ${previous.agents.toLocaleString('en')} tier, ${Math.round(leftSeconds)} s left of the budget`);
            break;
          }
        }
        const tier = { agents, added };
        result.tiers.push(tier);
        log(`fleet tier ${agents.toLocaleString('en')}: adding ${added.toLocaleString('en')} agents`);

        // --- ramp: enrol, connect, snapshots committed
        const simPids = () => sim?.pids ?? [];
        const r0 = sim ? await sim.stats({ resetWindow: true }) : null;
        const ramp = sampler({ ...groups(), simulator: simPids });
        const tcp0 = tcpCounters();
        const rampFrom = monoUs();
        const tRamp = performance.now();
        const simOptions = { collectorUrl: collector.url, seed, enrolSecret: ENROL_SECRET, eventsPerAgentPerHour, stateFile: path.join(work, 'sim-state.json'), progress, progressSeconds: 10, execArgv: ['--expose-gc', ...(cpuProfSimulator ? ['--cpu-prof', '--cpu-prof-dir', path.join(profDir, 'simulator')] : [])] };
        let ready;
        if (!sim) {
          sim = startShardedSimulation({ ...simOptions, agents: added });
          ready = await Promise.race([sim.ready, sim.failed]);
        } else ready = await Promise.race([sim.grow(added), sim.failed]);
        const connectedMs = performance.now() - tRamp;
        // Until every snapshot is committed: failing if none is for 2 minutes, or after a bound.
        let st;
        for (let deadline = performance.now() + 300_000 + added * 250, lastN = -1, stalledAt = performance.now(); ; ) {
          st = await sim.stats();
          if (st.snapshotAckLatencyMs.n >= agents && st.messages.pending < agents / 100 + 10) break;
          if (st.snapshotAckLatencyMs.n !== lastN) [lastN, stalledAt] = [st.snapshotAckLatencyMs.n, performance.now()];
          if (performance.now() > deadline || performance.now() - stalledAt > 120_000) throw new Error(`tier ${agents}: snapshots not all acknowledged in time (${st.snapshotAckLatencyMs.n} of ${agents})`);
          await sleep(500);
        }
        mark(`${agents}: ramp (enrol, connect, snapshots)`, rampFrom, monoUs());
        tier.simulatorProcesses = sim.pids.length;
        tier.connect = {
          enrolledAllSeconds: ready.enrolledSeconds,
          connectedAllSeconds: r1(connectedMs / 1000),
          snapshotsCommittedSeconds: r1((performance.now() - tRamp) / 1000),
          enrolmentsPerSecond: ready.enrolledSeconds ? Math.round(added / ready.enrolledSeconds) : null,
          snapshotAckMs: st.windowSnapshotAckLatencyMs,
          reconnects: st.connections.reconnects - (r0?.connections.reconnects ?? 0),
          socketErrors: diff(r0?.connections.socketErrors ?? {}, st.connections.socketErrors),
          tcp: diff(tcp0, tcpCounters()),
          ...ramp(),
        };
        log(`fleet tier ${agents.toLocaleString('en')}: enrolled in ${ready.enrolledSeconds} s, connected in ${tier.connect.connectedAllSeconds} s, snapshots committed in ${tier.connect.snapshotsCommittedSeconds} s`);

        // --- steady window; the alert-latency probes plug their sticks in during it (at that load)
        await sleep(5000);
        const alerting = attaches > 0 && probeCount > 0 ? await probes.connect() : undefined;
        const steadyFrom = monoUs();
        const s0 = await sim.stats({ resetWindow: true });
        const steady = sampler({ ...groups(), simulator: simPids, bench: () => [process.pid] });
        const latencyRun = alerting
          ? measureAlertLatency({ probes: alerting.probes, feed: alerting.feed, count: attaches, rate: attachRate, timeoutMs: 120_000 + (attaches / attachRate) * 1000, serialPrefix: `FLEETBENCH${agents}X` }).then(
              (lat) => ({ lat }),
              (error) => ({ error }),
            )
          : undefined;
        await sleep(steadySeconds * 1000);
        // The attaches take attaches / rate seconds (15 s by default), inside the window; a slow
        // collector can stretch them past it, and the window then lasts until they are done.
        const alerted = latencyRun ? await latencyRun : undefined;
        const steadyOut = steady();
        mark(`${agents}: steady`, steadyFrom, monoUs());
        const s1 = await sim.stats({ gc: true, resetWindow: true });
        if (alerting) {
          alerting.close();
          if (alerted.error) throw alerted.error;
          const probeError = alerting.probes.find((p) => p.error)?.error;
          if (probeError) throw probeError;
          tier.alertLatency = { attaches, attachRatePerSecond: attachRate, probeAgents: probeCount, ...alerted.lat, duringSteadyWindow: true };
        }
        const pidsNow = processTree(primary);
        const treeRss = rssOf(pidsNow);
        const sent = (s) => Object.values(s.messages.sent).reduce((a, b) => a + b, 0);
        tier.steady = {
          ...steadyOut,
          connected: s1.connections.connected,
          framesPerSecond: r1((sent(s1) - sent(s0)) / steadyOut.seconds),
          ackedPerSecond: r1((s1.messages.acked - s0.messages.acked) / steadyOut.seconds),
          ackMs: s1.windowAckLatencyMs,
          collectorMetrics: await scrapeMetrics(collector.url),
        };
        tier.memory = {
          treeRssMiB: r1(treeRss / MiB),
          primaryRssMiB: r1(rssOf([primary]) / MiB),
          workersRssMiB: r1(rssOf(pidsNow.slice(1)) / MiB),
          bytesPerAgent: Math.round((treeRss - idleTreeRss) / agents),
        };
        tier.simulator = {
          processes: sim.pids.length,
          rssMiB: r1(s1.process.rssBytes / MiB),
          bytesPerAgent: s1.process.bytesPerAgent,
          cpuSeconds: s1.process.cpuSeconds,
          eventLoopDelayMs: s1.process.eventLoopDelayMs,
        };
        log(`fleet tier ${agents.toLocaleString('en')}: steady: collector CPU ${steadyOut.collector.cpuPercentOfOneCore} % of one core, ${tier.memory.bytesPerAgent} bytes per agent`);

        // --- reconnect storm
        await sleep(3000);
        const beforeStorm = await sim.stats();
        const storm = sampler({ ...groups(), simulator: simPids });
        const tcpStorm = tcpCounters();
        const stormFrom = monoUs();
        const stormResult = await Promise.race([sim.stormReconnect({ timeoutMs: 300_000 }), sim.failed]);
        mark(`${agents}: storm`, stormFrom, monoUs());
        const afterStorm = await sim.stats();
        tier.storm = { ...stormResult, tcp: diff(tcpStorm, tcpCounters()), ...storm(), refused: diff(beforeStorm.connections.refused, afterStorm.connections.refused), socketErrors: diff(beforeStorm.connections.socketErrors, afterStorm.connections.socketErrors) };
        log(`fleet tier ${agents.toLocaleString('en')}: storm: all ${stormResult.agents.toLocaleString('en')} back in ${r1(stormResult.allBackMs / 1000)} s`);
        await sleep(3000);
      } catch (err) {
        // What this tier measured so far stays in the results; larger tiers are not run.
        result.error = `tier ${agents.toLocaleString('en')}: ${err.message}`;
        log(`fleet: ${result.error}`);
        break;
      }
    }

    if (!result.error) {
      // Acks still flowing after the last storm: nothing lost, nothing rejected.
      await sleep(2000);
      const final = await sim.stop();
      sim = undefined;
      result.totals = { acked: final.messages.acked, rejected: final.messages.rejected, errorFrames: final.messages.errorFrames, resent: final.messages.resent, pending: final.messages.pending, sent: final.messages.sent };
    }
  } finally {
    if (sim) await sim.kill();
    const exited = new Promise((r) => collector.child.once('exit', r));
    collector.child.kill('SIGTERM');
    // A collector that does not stop within a minute is killed.
    const killer = setTimeout(() => collector.child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(killer);
    // Gateway workers outliving their parent would hold sockets and the port: none should.
    descendants.stop();
    const left = descendants.leftovers();
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (left.length) result.collectorChildrenLeftRunning = left.length;
    try {
      result.databaseMiB = r1(fs.readdirSync(dataDir).reduce((n, f) => n + fs.statSync(path.join(dataDir, f)).size, 0) / MiB);
    } catch {
      // no data dir
    }
    // The database (about 3.5 GB per 10,000 agents) goes, whether the run succeeded or not.
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(path.join(work, 'sim-state.json'), { force: true });
  }
  result.minutes = r1((performance.now() - t0) / 60_000);
  try {
    if (cpuProf) {
      const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile') && f.includes(`.${primary}.`));
      if (file) result.profile = { file: profileDir ? path.join(profDir, file) : undefined, phases: summariseCpuProfile(path.join(profDir, file), marks.filter((w) => w.fromUs && w.toUs)) };
    }
    const simDir = path.join(profDir, 'simulator');
    if (cpuProfSimulator && fs.existsSync(simDir)) {
      result.simulatorProfiles = fs
        .readdirSync(simDir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => ({ file: profileDir ? path.join(simDir, f) : undefined, phases: summariseCpuProfile(path.join(simDir, f), marks.filter((w) => w.fromUs && w.toUs)) }));
    }
  } finally {
    // A profile asked for lives in profileDir; the rest of the run's directory goes.
    fs.rmSync(work, { recursive: true, force: true });
  }
  return result;
}

/** A process's start time (clock ticks after boot): with the pid, says it is still the same process. */
function startTime(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return null;
  }
}

/**
 * Remembers the descendants of a process while it lives (an exited process's children are
 * re-parented, so they cannot be found from it afterwards); `leftovers()` lists those still alive.
 */
function descendantsWatch(pid) {
  const seen = new Map();
  const look = () => {
    for (const p of processTree(pid).slice(1)) if (!seen.has(p)) seen.set(p, startTime(p));
  };
  look();
  const timer = setInterval(look, 2000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
    leftovers: () => [...seen].filter(([p, t]) => t !== null && startTime(p) === t).map(([p]) => p),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const tierArg = args.find((a) => /^\d[\d,]*$/.test(a));
  const value = (prefix) => args.find((a) => a.startsWith(prefix))?.slice(prefix.length);
  const after = (prefix) => args.filter((a) => a.startsWith(prefix)).map((a) => a.slice(prefix.length));
  const o = {
    ...(tierArg ? { tiers: tierArg.split(',').map(Number) } : {}),
    ...(value('--gateway-workers=') !== undefined ? { gatewayWorkers: Number(value('--gateway-workers=')) } : {}),
    ...(value('--steady-seconds=') !== undefined ? { steadySeconds: Number(value('--steady-seconds=')) } : {}),
    cpuProf: args.includes('--cpu-prof'),
    cpuProfSimulator: args.includes('--cpu-prof-simulator'),
    profileDir: value('--profile-dir='),
    collectorArgs: after('--collector-arg='),
    collectorNodeArgs: after('--collector-node-arg='),
    progress: args.includes('--progress'),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  console.log(JSON.stringify(await benchFleet(o), null, 2));
}
