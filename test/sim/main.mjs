#!/usr/bin/env node
// `npm run sim -- --agents N --collector-url URL --seed S [--duration s] [--profile …]`: see
// --help and README.md in this folder.
import fs from 'node:fs';
import { describeFleet } from './describe.mjs';
import { fleetPolicyText } from './fleet-policy.mjs';
import { parseSimOptions, USAGE } from './options.mjs';
import { autoProcesses, describeSharded, startShardedSimulation } from './shards.mjs';
import { loopbackUrl, PROFILES, startSimulation } from './simulation.mjs';
import { loadTemplates } from './templates.mjs';

/** The soft limit on open files: each agent holds one socket. */
function openFileLimit() {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
  } catch {
    return Infinity;
  }
}

function die(message, status = 1) {
  process.stderr.write(`vigil-sim: ${message}\n`);
  process.exit(status);
}

const { options: o, errors } = parseSimOptions(process.argv.slice(2), process.env);
if (o.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (errors.length) die(`${errors.join('\n  ')}\n(see --help)`, 2);

const processes = o.processes ?? autoProcesses(o.agents);
if (o.describe) {
  const d = { seed: o.seed, agents: o.agents, templates: o.templates, dpkgStatus: o.dpkgStatus, events: o.describeEvents, eventsPerAgentPerHour: o.eventsPerAgentPerHour ?? PROFILES[o.profile].eventsPerAgentPerHour };
  const described = processes > 1 ? await describeSharded(d, processes) : describeFleet(d);
  process.stdout.write(`${JSON.stringify(described, null, 2)}\n`);
  process.exit(0);
}
if (o.writePolicy) {
  const { templates } = loadTemplates(o.dpkgStatus ? { dpkgStatus: o.dpkgStatus } : {});
  fs.writeFileSync(o.writePolicy, fleetPolicyText(templates));
  process.stderr.write(`vigil-sim: wrote the fleet policy to ${o.writePolicy}\n`);
  process.exit(0);
}

try {
  loopbackUrl(o.collectorUrl);
} catch (err) {
  die(err.message, 2);
}
const limit = openFileLimit();
const perProcess = Math.ceil(o.agents / processes);
if (perProcess + 64 > limit) die(`--agents ${o.agents} over ${processes} process${processes > 1 ? 'es' : ''} needs ${perProcess + 64} open files in each but a process may open ${limit} (ulimit -n); use more --processes, raise the limit or run fewer agents`);

let sim;
try {
  if (processes > 1) {
    // Children that outlive a failure here would keep thousands of sockets open: end them on any exit.
    sim = startShardedSimulation({ ...o, processes, progress: o.progressSeconds > 0 });
    process.once('exit', () => {
      for (const pid of sim.pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  } else {
    sim = await startSimulation({ ...o, onProgress: o.progressSeconds > 0 ? (line) => process.stderr.write(`${line}\n`) : undefined });
  }
} catch (err) {
  die(err.message);
}

let stopping = false;
async function finish(reason) {
  if (stopping) return;
  stopping = true;
  clearTimeout(timer);
  if (reason) process.stderr.write(`vigil-sim: ${reason}: saying goodbye\n`);
  let summary;
  try {
    summary = await sim.stop();
  } catch (err) {
    die(sim.failure ? sim.failure.message : `stopping: ${err.message}`);
  }
  if (summary) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (sim.failure) die(sim.failure.message);
  process.exit(0);
}
const timer = setTimeout(() => void finish(), o.durationSeconds * 1000);
process.once('SIGINT', () => void finish('interrupted'));
process.once('SIGTERM', () => void finish('terminated'));
sim.failed.catch(() => finish('stopping after a fatal error'));
sim.ready.then(
  (r) => process.stderr.write(`vigil-sim: all ${r.agents} agents connected${processes > 1 ? ` (${processes} processes)` : ''} (enrolled in ${r.enrolledSeconds} s, connected in ${r.connectedSeconds} s)\n`),
  () => {},
);
