// A fleet spread over several simulator processes (child.mjs under `fork`), each running a
// contiguous range of fleet indices. Every agent is derived from the seed and its fleet index, so
// the fleet and its events are the same whatever the split. This process keeps the state file
// (the children send it their credentials), merges the children's summaries into one, and stops
// every child when it stops or fails. One process may hold at most `ulimit -n` sockets, so a
// fleet of 50,000 needs several.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultStateFile, loadState, saveState } from './state-file.mjs';
import { loopbackUrl } from './simulation.mjs';
import { LatencyHistogram } from './stats.mjs';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.mjs');

/** Agents one simulator process holds at most when the number of processes is automatic. */
export const AGENTS_PER_PROCESS = 15_000;
/** The most simulator processes one run starts. */
export const MAX_PROCESSES = 64;

/** Processes for `agents` when none is asked for: each holds at most AGENTS_PER_PROCESS. */
export const autoProcesses = (agents) => Math.max(1, Math.ceil(agents / AGENTS_PER_PROCESS));

/** Splits fleet indices firstIndex … firstIndex + agents − 1 into `processes` contiguous ranges of near-equal size. */
export function splitFleet(agents, processes, firstIndex = 0) {
  const k = Math.min(processes, agents);
  const out = [];
  let next = firstIndex;
  for (let i = 0; i < k; i++) {
    const n = Math.floor(agents / k) + (i < agents % k ? 1 : 0);
    out.push({ firstIndex: next, agents: n });
    next += n;
  }
  return out;
}

/** One simulator child process and its request/answer calls. */
function forkShard({ firstIndex, agents, execArgv = [], onFatal, onPersist, onExit }) {
  const child = fork(CHILD, [], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiting = new Map();
  let next = 0;
  let fatal;
  const failAll = (err) => {
    fatal ??= err;
    for (const w of waiting.values()) w.reject(fatal);
    waiting.clear();
  };
  child.on('message', (m) => {
    if (m.persist) return onPersist?.(m.persist);
    if (m.fatal) {
      const err = new Error(`simulator (agents ${firstIndex}…${firstIndex + agents - 1}): ${m.fatal}`);
      failAll(err);
      return onFatal?.(err);
    }
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.resolve(m.result);
    else w?.reject(new Error(`simulator (agents ${firstIndex}…${firstIndex + agents - 1}): ${m.error}`));
  });
  let exitedCleanly = false;
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      if (!exitedCleanly) {
        const err = new Error(`simulator process ${child.pid} (agents ${firstIndex}…${firstIndex + agents - 1}) exited (${signal ?? code})`);
        failAll(err);
        onExit?.(err);
      }
      resolve({ code, signal });
    }),
  );
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
      if (cmd === 'stop' || cmd === 'describe') exitedCleanly = true; // the child exits after answering
      child.send({ id, cmd, ...extra });
    });
  const kill = async () => {
    exitedCleanly = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return { child, pid: child.pid, firstIndex, agents, call, exited, kill, startedAt: performance.now() };
}

const sumOf = (xs) => xs.reduce((a, b) => a + (b ?? 0), 0);
const sumObjects = (objs) => {
  const out = {};
  for (const o of objs) for (const [k, v] of Object.entries(o ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
};
const maxOrNull = (xs) => (xs.some((x) => x === null || x === undefined) ? null : +Math.max(...xs).toFixed(2));
const mergedHistogram = (parts, name) => parts.reduce((h, p) => h.merge(p.histograms[name]), new LatencyHistogram()).summary();

/**
 * One summary from the shards' `stats({raw: true})`, in the shape of a single process's (times in
 * seconds from `t0`, this process's clock; `offsets`: each shard's start after t0, in seconds).
 */
export function mergeStats(parts, { stateFile, offsets = parts.map(() => 0), pids = [] } = {}) {
  const first = parts[0];
  const shifted = (xs) => maxOrNull(xs.map((x, i) => (x === null ? null : x + offsets[i])));
  const m = (k) => parts.map((p) => p.messages[k]);
  const c = (k) => parts.map((p) => p.connections[k]);
  const e = (k) => parts.map((p) => p.enrolment[k]);
  const out = {
    seed: first.seed,
    agents: sumOf(parts.map((p) => p.agents)),
    processes: parts.length,
    collectorUrl: first.collectorUrl,
    stateFile,
    profile: first.profile,
    eventsPerAgentPerHour: first.eventsPerAgentPerHour,
    elapsedSeconds: shifted(parts.map((p) => p.elapsedSeconds)),
    templates: sumObjects(parts.map((p) => p.templates)),
    enrolment: { enrolled: sumOf(e('enrolled')), reused: sumOf(e('reused')), failed: sumOf(e('failed')), reEnrolled: sumOf(e('reEnrolled')), allEnrolledSeconds: shifted(e('allEnrolledSeconds')) },
    connections: {
      connected: sumOf(c('connected')),
      everConnected: sumOf(c('everConnected')),
      allConnectedSeconds: shifted(c('allConnectedSeconds')),
      connects: sumOf(c('connects')),
      reconnects: sumOf(c('reconnects')),
      disconnects: sumOf(c('disconnects')),
      closeCodes: sumObjects(c('closeCodes')),
      refused: sumObjects(c('refused')),
      socketErrors: sumObjects(c('socketErrors')),
      sourceAddresses: first.connections.sourceAddresses,
    },
    messages: {
      produced: sumObjects(m('produced')),
      sent: sumObjects(m('sent')),
      resent: sumOf(m('resent')),
      acked: sumOf(m('acked')),
      rejected: sumOf(m('rejected')),
      rejectedByCode: sumObjects(m('rejectedByCode')),
      errorFrames: sumObjects(m('errorFrames')),
      dropped: sumOf(m('dropped')),
      pending: sumOf(m('pending')),
      commands: sumOf(m('commands')),
      eventsWhileDisconnected: sumOf(m('eventsWhileDisconnected')),
    },
    ackLatencyMs: mergedHistogram(parts, 'ackLatencyMs'),
    windowAckLatencyMs: mergedHistogram(parts, 'windowAckLatencyMs'),
    snapshotAckLatencyMs: mergedHistogram(parts, 'snapshotAckLatencyMs'),
    windowSnapshotAckLatencyMs: mergedHistogram(parts, 'windowSnapshotAckLatencyMs'),
  };
  if (first.selfCheck) {
    out.selfCheck = { checked: sumOf(parts.map((p) => p.selfCheck.checked)), failed: sumOf(parts.map((p) => p.selfCheck.failed)), failures: parts.flatMap((p) => p.selfCheck.failures).slice(0, 10) };
  }
  const pr = parts.map((p) => p.process);
  out.process = {
    rssBytes: sumOf(pr.map((p) => p.rssBytes)),
    heapUsedBytes: sumOf(pr.map((p) => p.heapUsedBytes)),
    bytesPerAgent: Math.round(sumOf(pr.map((p) => p.rssBytes - p.rssWithTemplatesBytes)) / out.agents),
    cpuSeconds: { user: +sumOf(pr.map((p) => p.cpuSeconds.user)).toFixed(2), system: +sumOf(pr.map((p) => p.cpuSeconds.system)).toFixed(2) },
    eventLoopDelayMs: { p99: Math.max(...pr.map((p) => p.eventLoopDelayMs.p99)), max: Math.max(...pr.map((p) => p.eventLoopDelayMs.max)) },
    perProcess: parts.map((p, i) => ({ pid: pids[i], firstIndex: p.firstIndex ?? 0, agents: p.agents, rssBytes: p.process.rssBytes, cpuSeconds: p.process.cpuSeconds })),
  };
  return out;
}

/** One storm result from the shards' `stormReconnect({raw: true})`. */
function mergeStorms(parts) {
  const lat = parts.flatMap((p) => p.latenciesMs).sort((a, b) => a - b);
  const at = (p) => +lat[Math.max(0, Math.ceil((p / 100) * lat.length) - 1)].toFixed(1);
  return {
    agents: sumOf(parts.map((p) => p.agents)),
    allBackMs: Math.max(...parts.map((p) => p.allBackMs)),
    perAgentMs: lat.length ? { p50: at(50), p95: at(95), p99: at(99), max: +lat.at(-1).toFixed(1) } : null,
    connectionAttempts: sumOf(parts.map((p) => p.connectionAttempts)),
  };
}

/**
 * `describeFleet` computed by `processes` children, each for its range, and merged: must equal
 * the single-process description (the test of the split).
 */
export async function describeSharded(o, processes) {
  const shards = splitFleet(o.agents, processes).map((r) => forkShard(r));
  try {
    const parts = await Promise.all(shards.map((s) => s.call('describe', { options: { ...o, firstIndex: s.firstIndex, agents: s.agents, exactTimes: true } })));
    const schedule = parts
      .flatMap((p) => p.schedule)
      .sort((a, b) => a.at - b.at || a.host - b.host)
      .slice(0, o.events ?? 100)
      .map(({ at: _at, ...rest }) => rest);
    return { ...parts[0], hosts: parts.flatMap((p) => p.hosts), schedule };
  } finally {
    await Promise.all(shards.map((s) => s.kill()));
  }
}

/**
 * Starts `o.agents` agents over `o.processes` children (default: one per AGENTS_PER_PROCESS) with
 * the options of `startSimulation`; `grow(n)` adds n more agents (the next fleet indices) in new
 * children. Resolves at once; `ready` settles when every agent started so far has connected once.
 *
 * @param {object} o startSimulation's options, and:
 * @param {number} [o.processes]
 * @param {string[]} [o.execArgv] node flags for the children (e.g. `--expose-gc`)
 * @param {boolean} [o.progress] children print progress lines on stderr every `progressSeconds`
 */
export function startShardedSimulation(o) {
  const collectorUrl = loopbackUrl(o.collectorUrl);
  const stateFile = o.stateFile ?? defaultStateFile(o.seed, collectorUrl);
  const saved = loadState(stateFile, { seed: o.seed, collectorUrl });
  const t0 = performance.now();
  /** @type {ReturnType<typeof forkShard>[]} */
  const shards = [];
  let failure;
  let rejectFailed;
  const failed = new Promise((_, rej) => (rejectFailed = rej));
  failed.catch(() => {});
  let stopping = false;
  const fail = (err) => {
    if (failure || stopping) return;
    failure = err;
    rejectFailed(err);
  };

  let saveTimer = null;
  const save = () => {
    clearTimeout(saveTimer);
    saveTimer = null;
    saveState(stateFile, { seed: o.seed, collectorUrl }, saved);
  };
  const onPersist = (entries) => {
    for (const [i, a] of entries) saved.set(i, a);
    saveTimer ??= setTimeout(save, 1000);
  };

  const { processes, execArgv, progress, stateFile: _stateFile, ...simOptions } = o;
  let size = 0;

  /** Starts agents size … size + n − 1 in `k` new children; resolves with their merged ready summary. */
  function grow(n, k = autoProcesses(n)) {
    const ranges = splitFleet(n, k, size);
    size += n;
    const added = ranges.map((r) =>
      forkShard({
        ...r,
        execArgv,
        onPersist,
        onFatal: fail,
        onExit: fail,
      }),
    );
    shards.push(...added);
    const tGrow = performance.now();
    // A bound, not an expectation: a collector busy ingesting snapshots on a shared 2-core machine
    // has taken 30 s per 1,000 agents to connect them.
    return Promise.all(
      added.map((s, i) => {
        const sharedState = [...saved].filter(([idx]) => idx >= s.firstIndex && idx < s.firstIndex + s.agents);
        return s.call('start', { options: { ...simOptions, firstIndex: s.firstIndex, agents: s.agents, sharedState, progress, progressLabel: `${shards.length - added.length + i + 1}/${shards.length}` } }, 60_000 + s.agents * 250);
      }),
    ).then((parts) => ({
      agents: n,
      processes: added.length,
      // Each child's times are from its own start, a few ms after tGrow.
      enrolledSeconds: maxOrNull(parts.map((p, i) => (p.enrolledSeconds === null ? null : p.enrolledSeconds + (added[i].startedAt - tGrow) / 1000))),
      connectedSeconds: maxOrNull(parts.map((p, i) => (p.connectedSeconds === null ? null : p.connectedSeconds + (added[i].startedAt - tGrow) / 1000))),
      connected: sumOf(parts.map((p) => p.connected)),
      enrolFailed: sumOf(parts.map((p) => p.enrolFailed)),
    }));
  }

  const merged = (parts) => mergeStats(parts, { stateFile, offsets: shards.map((s) => (s.startedAt - t0) / 1000), pids: shards.map((s) => s.pid) });

  const ready = grow(o.agents, processes ?? autoProcesses(o.agents));
  ready.catch(fail);

  return {
    ready,
    failed,
    grow,
    get agents() {
      return size;
    },
    get pids() {
      return shards.map((s) => s.pid);
    },
    get failure() {
      return failure;
    },
    stateFile,
    /** The merged summary so far (`resetWindow`, `gc` as in child.mjs). */
    async stats({ resetWindow = false, gc = false } = {}) {
      return merged(await Promise.all(shards.map((s) => s.call('stats', { resetWindow, gc, raw: true }))));
    },
    /** Every shard drops all its connections at the same moment; resolves when every agent is back. */
    async stormReconnect({ timeoutMs = 300_000 } = {}) {
      return mergeStorms(await Promise.all(shards.map((s) => s.call('storm', { timeoutMs, raw: true }, timeoutMs + 20_000))));
    },
    /** Goodbye from every shard, the merged final summary, the state file written, every child gone. */
    async stop() {
      let final = null;
      try {
        const parts = await Promise.all(shards.map((s) => s.call('stop', {}, 120_000)));
        stopping = true;
        // Each exits once it has answered: let it (a child under --cpu-prof writes its profile then), for 10 s at most.
        await Promise.race([Promise.all(shards.map((s) => s.exited)), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
        // A shard that never started (no collector) has no summary.
        final = parts.every(Boolean) ? merged(parts) : null;
      } finally {
        stopping = true;
        await Promise.all(shards.map((s) => s.kill()));
        if (saveTimer || saved.size) save();
      }
      return final;
    },
    /** Ends every child at once (on a failure or a signal), keeping the credentials received so far. */
    async kill() {
      stopping = true;
      await Promise.all(shards.map((s) => s.kill()));
      if (saveTimer) save();
    },
  };
}
