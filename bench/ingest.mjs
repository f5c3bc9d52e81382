// Ingest throughput through the real path: WebSocket → schema → host state + policy engine →
// SQLite commit → ack, with K agents each keeping a window of messages in flight, as the agent's
// link does — and beside it, in the same run and with the very same frames, the bare baseline
// (bench/baseline.mjs: `ws` + batched better-sqlite3 inserts, no Vigil code). Two loads (see
// bench/event-mix.mjs): `session` (only `session.state`, as every earlier run) and `mixed` (70 %
// session changes, 20 % USB attach/detach, 10 % software diffs). Each (load, server) pair runs
// `repeats` times on a fresh data dir, alternating collector and baseline; the median run is reported.
// Then each part of the mixed load (session, USB, software) runs alone through the collector once,
// to show where its time goes.
//
// Nothing is pinned: the server process and this process (all K agents, one thread) share the 2
// cores; each run reports the CPU seconds both used over the timed window.
//
// Run alone: `node bench/ingest.mjs [--quick]` (prints JSON). The collector alone on one load or
// one part of the mixed load, N times (collector CPU per event of each run):
// `node bench/ingest.mjs --collector-only --load=mixed [--part=software] [--repeats=3] [--cpu-prof-dir=DIR]`
// (a profile written there is read with `node bench/cpuprofile-summary.mjs FILE`).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildFrames, INVENTORY_SIZE, MIX, splitByPart } from './event-mix.mjs';
import { ADMIN_TOKEN, connectAgent, cpuSeconds, enrol, rssBytes, sendFrames, sleep, startBaseline, startCollector, stopChild, tempDir } from './lib.mjs';

/** Every alert through the API, counted by rule and status. */
async function countAlerts(url) {
  const byRule = {};
  let cursor = null;
  let total = 0;
  do {
    const res = await fetch(`${url}/api/v1/alerts?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if (!res.ok) throw new Error(`GET /api/v1/alerts: ${res.status}`);
    const page = await res.json();
    for (const a of page.items) {
      byRule[a.rule] ??= {};
      byRule[a.rule][a.status] = (byRule[a.rule][a.status] ?? 0) + 1;
      total++;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return { total, byRule };
}

/**
 * On a running server (`vigil`: the collector, agents enrolled through its API; `baseline`): K
 * agents connected, their setup frames acknowledged, then the timed frames, measured.
 */
export async function measureIngest(target, server, frames, window, { namePrefix = 'bench', countAlerts: count = server === 'vigil' } = {}) {
  const creds = [];
  for (let i = 0; i < frames.length; i++) {
    creds.push(server === 'vigil' ? await enrol(target.url, `${namePrefix}-${i}`) : { agentToken: 'unused', agentId: randomUUID() });
  }
  const sockets = await Promise.all(creds.map((c) => connectAgent(target.url, c)));
  await Promise.all(sockets.map((ws, i) => sendFrames(ws, frames[i].setup, 1, window)));
  await sleep(300);
  const cpu0 = cpuSeconds(target.pid);
  const own0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(sockets.map((ws, i) => sendFrames(ws, frames[i].timed, frames[i].firstTimedSeq, window)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(target.pid) - cpu0;
  const own = process.cpuUsage(own0);
  const ownCpu = (own.user + own.system) / 1e6;
  const rss = rssBytes(target.pid);
  const events = frames.reduce((n, f) => n + f.timed.length, 0);
  const alerts = count ? await countAlerts(target.url) : undefined;
  for (const ws of sockets) ws.close();
  return {
    events,
    seconds: +seconds.toFixed(3),
    eventsPerSecond: Math.round(events / seconds),
    serverCpuSeconds: +cpu.toFixed(2),
    serverCpuPercentOfOneCore: Math.round((100 * cpu) / seconds),
    /** Server CPU per event: less sensitive than events/s to other work on a shared machine. */
    serverCpuMicrosecondsPerEvent: Math.round((1e6 * cpu) / events),
    benchCpuSeconds: +ownCpu.toFixed(2),
    benchCpuPercentOfOneCore: Math.round((100 * ownCpu) / seconds),
    serverRssMiB: +(rss / 2 ** 20).toFixed(1),
    ...(alerts ? { alerts } : {}),
  };
}

/** One run on a fresh server and data dir. */
async function runOnce(server, frames, window, countAlerts = server === 'vigil') {
  const dir = tempDir(`ingest-${server}`);
  const target = server === 'vigil' ? await startCollector(dir) : await startBaseline(dir);
  try {
    return await measureIngest(target, server, frames, window, { countAlerts });
  } finally {
    await stopChild(target.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const medianRun = (runs) => [...runs].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond)[Math.floor((runs.length - 1) / 2)];

export async function benchIngest({ agents = 20, perAgent = 5000, window = 500, repeats = 3, loads = ['session', 'mixed'], byPart = true, log = () => {} } = {}) {
  const out = { agents, perAgent, window, repeats, mix: { ...MIX, inventorySize: INVENTORY_SIZE } };
  for (const load of loads) {
    const frames = Array.from({ length: agents }, (_, i) => buildFrames(load, i, perAgent));
    const counts = {};
    for (const f of frames) for (const [t, n] of Object.entries(f.counts)) counts[t] = (counts[t] ?? 0) + n;
    const runs = { vigil: [], baseline: [] };
    for (let r = 0; r < repeats; r++) {
      // Alternate which goes first, so a drift in the machine's load does not favour one.
      for (const server of r % 2 === 0 ? ['vigil', 'baseline'] : ['baseline', 'vigil']) {
        const run = await runOnce(server, frames, window);
        log(`ingest ${load} ${server} #${r + 1}: ${run.eventsPerSecond.toLocaleString('en')} events/s (server ${run.serverCpuPercentOfOneCore} % of a core, bench ${run.benchCpuPercentOfOneCore} %)`);
        runs[server].push(run);
      }
    }
    const vigil = medianRun(runs.vigil);
    const baseline = medianRun(runs.baseline);
    out[load] = {
      events: { ...counts, averageFrameBytes: Math.round(frames.reduce((n, f) => n + f.bytes, 0) / (agents * perAgent)) },
      setupFramesPerAgent: frames[0].setup.length,
      vigil: { ...vigil, runs: runs.vigil.map((x) => x.eventsPerSecond) },
      baseline: { ...baseline, runs: runs.baseline.map((x) => x.eventsPerSecond) },
      ratio: +(vigil.eventsPerSecond / baseline.eventsPerSecond).toFixed(3),
    };
    if (load === 'mixed' && byPart) {
      // Where the collector's time goes: each part of the mix alone (same frames, same order), once.
      const split = frames.map(splitByPart);
      out.mixed.collectorByPart = {};
      for (const part of Object.keys(split[0])) {
        const run = await runOnce('vigil', split.map((s) => s[part]), window, false);
        log(`ingest mixed, ${part} part alone, vigil: ${run.eventsPerSecond.toLocaleString('en')} events/s`);
        out.mixed.collectorByPart[part] = { events: run.events, eventsPerSecond: run.eventsPerSecond, serverCpuMicrosecondsPerEvent: run.serverCpuMicrosecondsPerEvent, serverCpuPercentOfOneCore: run.serverCpuPercentOfOneCore };
      }
    }
  }
  return out;
}

/**
 * One load (or one part of the mixed load) through the collector alone, `repeats` times on a fresh
 * data dir each: the collector CPU per event of every run (to compare changes on a busy machine).
 */
export async function benchCollectorOnly({ load = 'mixed', part, agents = 20, perAgent = 5000, window = 500, repeats = 3, nodeArgs = [], collectorArgs = [], log = () => {} } = {}) {
  let frames = Array.from({ length: agents }, (_, i) => buildFrames(load, i, perAgent));
  if (part) frames = frames.map(splitByPart).map((s) => s[part]);
  const runs = [];
  for (let r = 0; r < repeats; r++) {
    const dir = tempDir('ingest-vigil');
    const target = await startCollector(dir, collectorArgs, { nodeArgs });
    try {
      const run = await measureIngest(target, 'vigil', frames, window, { countAlerts: r === 0 });
      const us = +((1e6 * run.serverCpuSeconds) / run.events).toFixed(1);
      log(`ingest ${load}${part ? ` (${part} part alone)` : ''} vigil #${r + 1}: ${run.eventsPerSecond.toLocaleString('en')} events/s, ${us} us of collector CPU per event (load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`);
      runs.push({ ...run, serverCpuMicrosecondsPerEvent: us });
    } finally {
      await stopChild(target.child);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  return {
    load,
    ...(part ? { part } : {}),
    events: runs[0].events,
    alerts: runs[0].alerts,
    eventsPerSecond: runs.map((r) => r.eventsPerSecond),
    medianEventsPerSecond: median(runs.map((r) => r.eventsPerSecond)),
    serverCpuMicrosecondsPerEvent: runs.map((r) => r.serverCpuMicrosecondsPerEvent),
    medianServerCpuMicrosecondsPerEvent: median(runs.map((r) => r.serverCpuMicrosecondsPerEvent)),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const log = (m) => console.error(m);
  if (args.includes('--collector-only')) {
    // `node bench/ingest.mjs --collector-only [--load=mixed|session] [--part=session|usb|software] [--repeats=3] [--cpu-prof-dir=DIR]`
    const profDir = opt('cpu-prof-dir');
    console.log(
      JSON.stringify(
        await benchCollectorOnly({
          load: opt('load') ?? 'mixed',
          part: opt('part'),
          repeats: Number(opt('repeats') ?? 3),
          nodeArgs: profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [],
          log,
        }),
        null,
        2,
      ),
    );
  } else {
    const quick = args.includes('--quick');
    console.log(JSON.stringify(await benchIngest({ ...(quick ? { agents: 10, perAgent: 2000, repeats: 1 } : {}), log }), null, 2));
  }
}
