// Each probe's cost per run on this machine, with its real sources (wall time and this process's
// CPU time, median of N runs). The USB probe reads a sysfs tree built from the real captures in
// test/fixtures/linux/usb, since this machine has no USB bus.
import fs from 'node:fs';
import path from 'node:path';
import { collectHostFacts, localUsers, readScreenlock, readSessions, readSoftware, readUsbDevices, softwareChangeStamp, systemRunner } from '@vigil/agent';
import { ROOT, tempDir } from './lib.mjs';

const silent = { debug() {}, info() {}, warn() {} };

export function buildSysfs() {
  const root = tempDir('sysfs');
  fs.mkdirSync(path.join(root, 'bus/usb/devices'), { recursive: true });
  const dir = path.join(ROOT, 'test/fixtures/linux/usb');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    for (const d of JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).devices) {
      const devDir = path.join(root, d.path);
      fs.mkdirSync(devDir, { recursive: true });
      for (const [k, v] of Object.entries(d.attrs)) fs.writeFileSync(path.join(devDir, k), `${v}\n`);
      if (d.descriptors) fs.writeFileSync(path.join(devDir, 'descriptors'), Buffer.from(d.descriptors, 'hex'));
      for (const [name, attrs] of Object.entries(d.interfaces ?? {})) {
        fs.mkdirSync(path.join(devDir, name), { recursive: true });
        for (const [k, v] of Object.entries(attrs)) fs.writeFileSync(path.join(devDir, name, k), `${v}\n`);
        const link = path.join(root, 'bus/usb/devices', name);
        if (!fs.existsSync(link)) fs.symlinkSync(path.relative(path.dirname(link), path.join(devDir, name)), link);
      }
      const link = path.join(root, 'bus/usb/devices', path.basename(d.path));
      if (!fs.existsSync(link)) fs.symlinkSync(path.relative(path.dirname(link), devDir), link);
    }
  }
  return root;
}

async function measure(fn, runs) {
  const walls = [];
  const cpus = [];
  let result;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    result = await fn();
    walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const size = Array.isArray(result) ? `${result.length} items` : result?.status ? `unknown: ${String(result.reason).slice(0, 80)}` : typeof result;
  return { runs, medianWallMs: +median(walls).toFixed(2), medianCpuMs: +median(cpus).toFixed(2), result: size };
}

export async function benchProbes({ runs = 20 } = {}) {
  const sysfsRoot = buildSysfs();
  const src = { platform: process.platform, sysfsRoot, dpkgStatus: '/var/lib/dpkg/status', fsRoot: '/', runner: systemRunner, log: silent };
  const real = { ...src, sysfsRoot: '/sys' };
  const users = await localUsers(real).catch(() => []);
  try {
    return {
      usbFixtureTree: await measure(() => readUsbDevices(src), runs),
      softwareDpkg: await measure(() => readSoftware(real), runs),
      softwareChangeStamp: await measure(() => softwareChangeStamp(real), runs),
      sessions: await measure(() => readSessions(real, 900), runs),
      screenlock: await measure(() => readScreenlock(real, users), runs),
      hostFacts: await measure(() => collectHostFacts('0.1.0'), 5),
    };
  } finally {
    fs.rmSync(sysfsRoot, { recursive: true, force: true });
  }
}
