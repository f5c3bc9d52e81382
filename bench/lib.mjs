// Helpers shared by the benchmarks: start the real collector (or the bare baseline) as a child
// process, enrol agents, drive their sockets, read a process's CPU and memory, summarise latencies.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { agentEnvelope, PROTOCOL_VERSION } from '@vigil/shared';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ENROL_SECRET = 'bench-enrol-secret-0123456789abcdef';
export const ADMIN_TOKEN = 'vgt_bench-admin-token-0123456789abcdef01';

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vigil-bench-${prefix}-`));
}

/** Resolves with the first match of `pattern` in a child's stdout (then lets the rest drain). */
function awaitStdout(child, pattern, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      buf += d;
      const m = pattern.exec(buf);
      if (m) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited ${code}`)));
  });
}

/** `nodeArgs`: flags for node itself, before the script (e.g. `--cpu-prof`, `--cpu-prof-dir`). */
export async function startCollector(dataDir, extraArgs = [], { nodeArgs = [] } = {}) {
  if (!fs.existsSync(path.join(ROOT, 'collector/dist/main.js'))) throw new Error('collector/dist is missing: build first (npm run build, or tsc -b)');
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'collector/bin/vigil-collector.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--log-format', 'json', ...extraArgs], {
    env: { PATH: process.env.PATH, VIGIL_ENROL_SECRET: ENROL_SECRET, VIGIL_ADMIN_TOKEN: ADMIN_TOKEN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await awaitStdout(child, /"url":"(http:\/\/[^"]+)","dataDir"/, 'collector');
  // The collector's log (JSON lines) is read and dropped, unless VIGIL_BENCH_COLLECTOR_LOG names a file for it.
  if (process.env.VIGIL_BENCH_COLLECTOR_LOG) child.stdout.pipe(fs.createWriteStream(process.env.VIGIL_BENCH_COLLECTOR_LOG, { flags: 'a' }));
  return { child, url, pid: child.pid, startMs: +(performance.now() - t0).toFixed(0) };
}

/**
 * The bare baseline (bench/baseline.mjs): `ws` + batched better-sqlite3 inserts, no Vigil code,
 * in its own process like the collector.
 */
export async function startBaseline(dataDir) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bench/baseline.mjs'), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await awaitStdout(child, /"url":"(http:\/\/[^"]+)"/, 'baseline');
  return { child, url, pid: child.pid };
}

/** SIGTERM a child we started and wait for it to exit. */
export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export async function enrol(url, hostname) {
  const res = await fetch(`${url}/api/v1/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      secret: ENROL_SECRET,
      host: { hostname, os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', arch: 'x64' }, agentVersion: '0.1.0' },
    }),
  });
  if (res.status !== 201) throw new Error(`enrol: ${res.status} ${await res.text()}`);
  return res.json();
}

/** An agent's WebSocket after `hello` (seq 0) and the collector's `config` answer: the next seq is 1. */
export function connectAgent(url, creds) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/agent/v1', { headers: { authorization: `Bearer ${creds.agentToken}` }, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify(agentEnvelope('hello', 0, { protocolVersion: PROTOCOL_VERSION, agentVersion: '0.1.0', agentId: creds.agentId })));
      ws.once('message', () => resolve(ws)); // config
    });
  });
}

/**
 * Sends one agent's pre-serialised frames (seqs `firstSeq`, `firstSeq + 1`, …) keeping at most
 * `window` unacknowledged, as the agent's link does; resolves when the last is acknowledged. Works
 * against the collector and the baseline alike (both answer `{type: 'ack', body: {upToSeq}}`).
 */
export function sendFrames(ws, frames, firstSeq, window) {
  return new Promise((resolve, reject) => {
    if (frames.length === 0) return resolve();
    const lastSeq = firstSeq + frames.length - 1;
    let next = 0;
    let acked = firstSeq - 1;
    const send = () => {
      while (next < frames.length && firstSeq + next - acked <= window) ws.send(frames[next++]);
    };
    const done = (err) => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onMessage = (d) => {
      const f = JSON.parse(String(d));
      if (f.type === 'error') return done(new Error(`error frame: ${JSON.stringify(f.body)}`));
      if (f.type !== 'ack') return; // config, commands
      if (f.body.rejected?.length) return done(new Error(`rejected: ${JSON.stringify(f.body.rejected.slice(0, 3))}`));
      acked = Math.max(acked, f.body.upToSeq);
      if (acked >= lastSeq) done();
      else send();
    };
    const onClose = (code) => done(new Error(`socket closed (${code}) at seq ${acked} of ${lastSeq}`));
    ws.on('message', onMessage);
    ws.on('close', onClose);
    send();
  });
}

/** Nearest-rank percentiles of latencies in ms. */
export function summarise(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p) => s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
  const r = (x) => +x.toFixed(2);
  return { n: s.length, min: r(s[0]), p50: r(at(50)), p95: r(at(95)), p99: r(at(99)), max: r(s.at(-1)), mean: r(s.reduce((a, b) => a + b, 0) / s.length) };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until a process has used less than `quietPercent` % of one core over `stepMs` (its
 * start-up work — a fleet-wide policy re-evaluation, the retention purge — is done); gives up
 * after `timeoutMs`. Returns the seconds waited.
 */
export async function waitQuiet(pid, { quietPercent = 3, stepMs = 1000, timeoutMs = 300_000 } = {}) {
  const t0 = performance.now();
  for (;;) {
    const c0 = cpuSeconds(pid);
    await sleep(stepMs);
    if (((cpuSeconds(pid) - c0) * 100_000) / stepMs < quietPercent || performance.now() - t0 > timeoutMs) break;
  }
  return +((performance.now() - t0) / 1000).toFixed(1);
}

/** CPU seconds (user+system) of a process from /proc. */
export function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

export function rssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

/** Direct children of a process (the `children` file of each of its tasks in /proc; a scan of every /proc/<pid>/stat where that is missing). */
export function childPids(pid) {
  try {
    const out = [];
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      const text = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
    return out;
  } catch (err) {
    if (err.code !== 'ENOENT' || !fs.existsSync(`/proc/${pid}`)) return [];
  }
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** A process and all its descendants, the process first. */
export function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childPids(out[i]));
  return out;
}

/** Sum of RSS over pids (those that have exited count 0). */
export function rssOf(pids) {
  let n = 0;
  for (const p of pids) {
    try {
      n += rssBytes(p);
    } catch {
      // exited
    }
  }
  return n;
}
