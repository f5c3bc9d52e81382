// `npm run bench [-- --quick | --growth]` (from the repository root; or `node bench/run.mjs …`).
//
//   (default)  every benchmark (under 15 minutes on the 2-core bench machine; the fleet grown to
//              10,000, 20,000 and 50,000 simulated agents is most of them): writes
//              bench/results/<date>.json and the `npm run bench` section of bench/RESULTS.md for today.
//   --quick    the same benchmarks with smaller counts and shorter windows (under 2 minutes; the
//              agent-at-rest window is 15 s instead of 60 s, the fleet 250 then 500 agents): writes
//              bench/results/<date>-quick.json only — never RESULTS.md, so a smoke run cannot
//              overwrite the day's full results.
//   --growth   only the growth bench (bench/growth.mjs): how the API and ingest figures change as
//              stored events grow (0, 1 M, 10 M); writes bench/results/<date>-growth.json and the
//              `--growth` section of RESULTS.md.
//
// Each prints its table at the end. The collector must be built (`npm run build`; a fresh
// `npm ci` builds it).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchAgentIdle } from './agent-idle.mjs';
import { benchAlertLatency } from './alert-latency.mjs';
import { benchFleet } from './fleet.mjs';
import { benchGrowth } from './growth.mjs';
import { benchIngest } from './ingest.mjs';
import { ROOT } from './lib.mjs';
import { benchOutbox } from './outbox.mjs';
import { benchProbes } from './probes.mjs';
import { benchSection, growthSection, updateResults } from './report.mjs';

const USAGE =
  'usage: npm run bench [-- --quick | --growth | --large]\n\n  (default)  every benchmark, under 15 min; the fleet grown 10,000 -> 20,000 -> 50,000 agents, a tier\n             started only if the tier before says it ends within the budget (else the table says why); records results\n  --large    the same, every tier whatever it takes (16.3 min on the 2-core bench machine, 2026-11-23); records results\n  --quick    smaller and shorter, under 2 min; prints, writes results/<date>-quick.json only\n  --growth   API and ingest figures as stored events grow (0, 1 M, 10 M); records results';
let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      growth: { type: 'boolean', default: false },
      large: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  console.error(`${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
if ([flags.quick, flags.growth, flags.large].filter(Boolean).length > 1) {
  console.error('--quick, --growth and --large are separate runs: choose one');
  process.exit(2);
}

/** What each benchmark is given in each kind of run. */
const PROFILES = {
  full: {
    ingest: { agents: 20, perAgent: 5000, window: 500, repeats: 3 },
    outbox: {},
    agentIdle: { warmupSeconds: 10, windowSeconds: 60 },
    probes: { runs: 20 },
    alertLatency: { attaches: 2000 },
    // Grown on one collector, measured at each tier; with gateway workers past one process's open-file limit.
    // Within the 15-minute budget: a tier is not started when the tier before says it would end past
    // it (bench/fleet.mjs, tierEstimateSeconds; runs to 50,000 took 16.3 min on 2026-11-23, 14.5 and 16.1 min on
    // 2026-12-07, when the 50,000-agent tier alone took 8–9.5 min; 5.8 min later that day, the fleet part
    // 9.8 min in all). --large runs every tier.
    fleet: { tiers: [10_000, 20_000, 50_000], steadySeconds: 30, attaches: 150, attachRate: 10, budgetMinutes: 14.7 },
  },
  quick: {
    ingest: { agents: 10, perAgent: 2000, window: 500, repeats: 1 },
    outbox: { single: 500, grouped: 5000 },
    agentIdle: { warmupSeconds: 5, windowSeconds: 15 },
    probes: { runs: 5 },
    alertLatency: { attaches: 500 },
    fleet: { tiers: [250, 500], steadySeconds: 5, attaches: 30, attachRate: 15 },
  },
};

const started = performance.now();
const log = (m) => console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}`);
const step = async (name, fn) => {
  log(`${name}…`);
  const t0 = performance.now();
  const r = await fn();
  log(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
};

const date = new Date().toISOString().slice(0, 10);
const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  loadAverage1mAtStart: +os.loadavg()[0].toFixed(2),
};
const git = (...args) => {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};
/** What was measured: the commit, and whether the collector or shared code differed from it. */
const build = { commit: git('rev-parse', '--short', 'HEAD'), uncommittedFiles: (git('status', '--porcelain', 'collector', 'shared') ?? '').split('\n').filter(Boolean).length };
PROFILES.large = { ...PROFILES.full, fleet: { ...PROFILES.full.fleet, budgetMinutes: undefined } };
const profile = flags.growth ? 'growth' : flags.quick ? 'quick' : flags.large ? 'large' : 'full';
const file = `${date}${profile === 'full' ? '' : `-${profile}`}.json`;
const results = { date, profile, file, machine, build };

if (profile === 'growth') {
  results.growth = await step('growth', () => benchGrowth({ log }));
} else {
  const p = PROFILES[profile];
  const ingestArgs = { ...p.ingest, log };
  results.ingest = await step('ingest (collector and baseline, session and mixed loads)', () => benchIngest(ingestArgs));
  results.outbox = await step('outbox', async () => benchOutbox(p.outbox));
  results.agentIdle = await step(`agent at rest (${p.agentIdle.windowSeconds} s window)`, () => benchAgentIdle(p.agentIdle));
  results.probes = await step('probes', () => benchProbes(p.probes));
  results.alertLatency = await step('alert latency', () => benchAlertLatency(p.alertLatency));
  // Fleet scale: the load simulator (test/sim) in a child process against the real collector.
  results.fleet = await step(`fleet (${p.fleet.tiers.map((n) => n.toLocaleString('en')).join(' → ')} simulated agents)`, () => benchFleet({ ...p.fleet, ...(p.fleet.budgetMinutes ? { deadline: started + p.fleet.budgetMinutes * 60_000 } : {}), log }));
}
results.minutes = +((performance.now() - started) / 60_000).toFixed(1);

const dir = path.join(ROOT, 'bench/results');
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, file), `${JSON.stringify(results, null, 2)}\n`);
const section = profile === 'growth' ? growthSection(results) : benchSection(results, profile === 'full' ? 'npm run bench' : `npm run bench -- --${profile}`);
if (profile !== 'quick') updateResults(section);
console.log(section);
log(`wrote bench/results/${file}${profile === 'quick' ? ' (quick: RESULTS.md left alone)' : ' and bench/RESULTS.md'}`);
