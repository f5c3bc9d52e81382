// The agent at rest: RSS and CPU time over a steady window, beside a bare Node process
// (`node -e 'setInterval(()=>{},1e9)'`) measured in the same run.
import { spawn } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { ADMIN_TOKEN, cpuSeconds, ENROL_SECRET, ROOT, rssBytes, startCollector, tempDir } from './lib.mjs';
import { buildSysfs } from './probes.mjs';
// The agent's node runs with the flags every installer gives it.
import { AGENT_NODE_FLAGS } from '../installers/dist/agent-tree.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function sampleWindow(pids, seconds) {
  const cpu0 = pids.map(cpuSeconds);
  const rss = pids.map(() => 0);
  for (let t = 0; t < seconds; t++) {
    await sleep(1000);
    pids.forEach((pid, i) => (rss[i] = Math.max(rss[i], rssBytes(pid))));
  }
  return pids.map((pid, i) => ({ cpuSeconds: +(cpuSeconds(pid) - cpu0[i]).toFixed(2), maxRssMiB: +(rss[i] / 2 ** 20).toFixed(1) }));
}

export async function benchAgentIdle({ warmupSeconds = 10, windowSeconds = 60 } = {}) {
  const dataDir = tempDir('idle');
  const stateDir = tempDir('idle-agent');
  const collector = await startCollector(dataDir);
  // Nine real devices (from test/fixtures/linux/usb) for the 1 s USB poll to look at: this machine has no USB bus.
  const sysfsRoot = buildSysfs();
  const agent = spawn(process.execPath, [...AGENT_NODE_FLAGS, path.join(ROOT, 'agent/bin/vigil-agent.js'), 'run', '--log-format', 'json'], {
    env: { PATH: process.env.PATH, VIGIL_COLLECTOR_URL: collector.url, VIGIL_ENROL_SECRET: ENROL_SECRET, VIGIL_STATE_DIR: stateDir, VIGIL_SYSFS_ROOT: sysfsRoot },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const bare = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], { stdio: 'ignore' });
  try {
    // At rest: after its start-up (enrolment, host facts, the full snapshot, stored by the collector),
    // then `warmupSeconds` more. A fixed warm-up from spawn let start-up work fall into the window
    // whenever start-up was slow (0.39 s of CPU in 60 s then, 0.1 s in 30 s with the window 25 s later).
    const t0 = performance.now();
    const api = async (p) => {
      const res = await fetch(`${collector.url}${p}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).catch(() => undefined);
      return res?.ok ? res.json() : undefined;
    };
    for (;;) {
      const id = (await api('/api/v1/hosts'))?.items?.[0]?.id;
      if (id && (await api(`/api/v1/hosts/${id}`))?.software?.status === 'known') break;
      if (performance.now() - t0 > 120_000) throw new Error('the agent never had its snapshot stored');
      await sleep(250);
    }
    const startupSeconds = +((performance.now() - t0) / 1000).toFixed(1);
    await sleep(warmupSeconds * 1000);
    const [a, b] = await sampleWindow([agent.pid, bare.pid], windowSeconds);
    return {
      windowSeconds,
      nodeFlags: AGENT_NODE_FLAGS,
      startupSeconds,
      agent: a,
      bareNode: b,
      extraRssMiB: +(a.maxRssMiB - b.maxRssMiB).toFixed(1),
      extraCpuSeconds: +(a.cpuSeconds - b.cpuSeconds).toFixed(2),
      extraCpuPercentOfOneCore: +((100 * (a.cpuSeconds - b.cpuSeconds)) / windowSeconds).toFixed(3),
    };
  } finally {
    for (const p of [agent, bare, collector.child]) p.kill('SIGTERM');
    await Promise.all([agent, bare, collector.child].map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)))));
    for (const dir of [sysfsRoot, dataDir, stateDir]) fs.rmSync(dir, { recursive: true, force: true });
  }
}
