// The agent at rest: RSS and CPU time over a steady window, beside a bare Node process
// (`node -e 'setInterval(()=>{},1e9)'`) measured in the same run.
import { spawn } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { cpuSeconds, ENROL_SECRET, ROOT, rssBytes, startCollector, tempDir } from './lib.mjs';
import { buildSysfs } from './probes.mjs';

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
  const agent = spawn(process.execPath, [path.join(ROOT, 'agent/bin/vigil-agent.js'), 'run', '--log-format', 'json'], {
    env: { PATH: process.env.PATH, VIGIL_COLLECTOR_URL: collector.url, VIGIL_ENROL_SECRET: ENROL_SECRET, VIGIL_STATE_DIR: stateDir, VIGIL_SYSFS_ROOT: sysfsRoot },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const bare = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], { stdio: 'ignore' });
  try {
    await sleep(warmupSeconds * 1000);
    const [a, b] = await sampleWindow([agent.pid, bare.pid], windowSeconds);
    return {
      windowSeconds,
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
