// The simulator's command line: every flag, its environment variable where it has one, and one
// error listing every bad setting.
import { formatOptionsHelp, parseOptions } from '@vigil/shared';
import { AGENTS_PER_PROCESS, MAX_PROCESSES } from './shards.mjs';
import { LIMITS, PROFILES } from './simulation.mjs';

export const OPTIONS = {
  agents: { flag: 'agents', type: 'number', description: `simulated agents, each enrolled as its own host (1…${LIMITS.agents})`, defaultText: '100' },
  processes: { flag: 'processes', type: 'number', description: `simulator processes the agents are spread over (1…${MAX_PROCESSES}; each agent holds a socket, and one process may hold only ulimit -n files); the fleet is the same whatever the number`, defaultText: `one per ${AGENTS_PER_PROCESS.toLocaleString('en')} agents` },
  collectorUrl: { flag: 'collector-url', env: 'VIGIL_COLLECTOR_URL', type: 'string', description: 'the collector, on loopback only (http://127.0.0.1:8470)' },
  seed: { flag: 'seed', type: 'string', description: 'decides the fleet and its event schedule: the same seed gives the same hosts doing the same things', defaultText: '1' },
  duration: { flag: 'duration', type: 'number', description: `seconds to run before saying goodbye and exiting (at most ${LIMITS.durationSeconds})`, defaultText: '60' },
  profile: { flag: 'profile', type: 'string', description: `behaviour preset: ${Object.entries(PROFILES).map(([k, v]) => `${k} (${v.eventsPerAgentPerHour} events/agent/h)`).join(', ')}`, defaultText: 'office' },
  eventsPerAgentPerHour: { flag: 'events-per-agent-per-hour', type: 'number', description: 'USB, software, session and screen-lock events per agent per hour (overrides the profile)' },
  enrolSecret: { flag: 'enrol-secret', env: 'VIGIL_ENROL_SECRET', type: 'string', description: "the collector's enrolment secret" },
  stateFile: { flag: 'state-file', type: 'string', description: 'where enrolment credentials are kept so later runs reuse the same hosts', defaultText: '<tmp>/vigil-sim/state-<hash of seed and URL>.json' },
  sourceAddresses: { flag: 'source-addresses', type: 'number', description: 'spread connections over 127.0.0.2… (this many addresses; 0: let the OS choose)', defaultText: '8' },
  window: { flag: 'window', type: 'number', description: 'unacknowledged messages per agent, at most', defaultText: '100' },
  enrolConcurrency: { flag: 'enrol-concurrency', type: 'number', description: 'enrolment requests in flight, at most (per simulator process)', defaultText: '64' },
  connectConcurrency: { flag: 'connect-concurrency', type: 'number', description: "handshakes in flight, at most, per simulator process (first connections, and reconnects once their agent's backoff is up): many agents on one thread cannot send every request head at once as many machines would", defaultText: '1024' },
  maxSnapshotsInFlight: { flag: 'max-snapshots-in-flight', type: 'number', description: 'unacknowledged snapshots across all the agents of one simulator process, at most (bounds its memory; real agents each hold their own)', defaultText: '128' },
  reconnectMaxSeconds: { flag: 'reconnect-max-seconds', type: 'number', description: 'longest wait between reconnect attempts', defaultText: '30' },
  stopGraceSeconds: { flag: 'stop-grace-seconds', type: 'number', description: 'on stopping, how long to wait for the last acknowledgements before leaving what is unacknowledged as pending', defaultText: '5' },
  templates: { flag: 'templates', type: 'string', description: 'only these OS templates, comma-separated (see --describe)', defaultText: 'all' },
  dpkgStatus: { flag: 'dpkg-status', type: 'string', description: 'dpkg status file the Debian/Ubuntu inventories are drawn from', defaultText: '/var/lib/dpkg/status' },
  selfCheck: { flag: 'self-check', type: 'boolean', description: 'validate every frame sent and received against the shared schemas (slow; for tests)' },
  progressSeconds: { flag: 'progress-seconds', type: 'number', description: 'seconds between progress lines on stderr (0: none)', defaultText: '5' },
  describe: { flag: 'describe', type: 'boolean', description: 'print the fleet the seed makes and its first scheduled events as JSON, and exit (no collector needed)' },
  describeEvents: { flag: 'describe-events', type: 'number', description: 'scheduled events --describe prints', defaultText: '100' },
  writePolicy: { flag: 'write-policy', type: 'string', description: "write the fleet's policy (YAML) to this file, for the collector's --policy-file, and exit" },
};

export const USAGE = `Usage: npm run sim -- --agents N --collector-url URL --seed S [options]
       node test/sim/main.mjs --describe --agents N --seed S

Simulates N Vigil agents against a collector on loopback: each enrols as its own host
(Debian/Ubuntu desktops, Windows and Mac laptops), sends its snapshot, heartbeats and events from a
seeded schedule, and reconnects like the real agent. Up to ${AGENTS_PER_PROCESS.toLocaleString('en')} agents run in this process;
more are spread over child processes (--processes), each running a range of the fleet: every
agent comes from the seed and its index, so the fleet and its events do not depend on the split.
Progress on stderr; one JSON summary on stdout at the end. Exit status 0, 1 on a fatal error, 2
on bad options.

Options:
${formatOptionsHelp(OPTIONS)}
  --help                          this text`;

const int = (v, name, min, max, errors) => {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < min || v > max) errors.push(`--${name}: must be a whole number from ${min} to ${max} (got ${v})`);
  return v;
};

/** Parses argv and the environment; `errors` lists every problem. */
export function parseSimOptions(argv, env) {
  const p = parseOptions(OPTIONS, argv, env);
  const errors = [...p.errors];
  if (p.positionals.length) errors.push(`unexpected argument ${JSON.stringify(p.positionals[0])}`);
  const v = p.values;
  const o = {
    help: p.help,
    describe: v.describe === true,
    describeEvents: int(v.describeEvents, 'describe-events', 0, 100_000, errors) ?? 100,
    writePolicy: v.writePolicy,
    agents: int(v.agents, 'agents', 1, LIMITS.agents, errors) ?? 100,
    processes: int(v.processes, 'processes', 1, MAX_PROCESSES, errors),
    collectorUrl: v.collectorUrl,
    seed: v.seed ?? '1',
    durationSeconds: v.duration ?? 60,
    profile: v.profile ?? 'office',
    eventsPerAgentPerHour: v.eventsPerAgentPerHour,
    enrolSecret: v.enrolSecret,
    stateFile: v.stateFile,
    sourceAddresses: int(v.sourceAddresses, 'source-addresses', 0, 250, errors) ?? 8,
    window: int(v.window, 'window', 1, 10_000, errors) ?? 100,
    enrolConcurrency: int(v.enrolConcurrency, 'enrol-concurrency', 1, 256, errors) ?? 64,
    connectConcurrency: int(v.connectConcurrency, 'connect-concurrency', 1, 10_000, errors) ?? 1024,
    maxSnapshotsInFlight: int(v.maxSnapshotsInFlight, 'max-snapshots-in-flight', 1, 100_000, errors) ?? 128,
    reconnectMaxSeconds: v.reconnectMaxSeconds ?? 30,
    stopGraceSeconds: v.stopGraceSeconds ?? 5,
    templates: v.templates ? String(v.templates).split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    dpkgStatus: v.dpkgStatus,
    selfCheck: v.selfCheck === true,
    progressSeconds: v.progressSeconds ?? 5,
  };
  if (!(o.durationSeconds > 0 && o.durationSeconds <= LIMITS.durationSeconds)) errors.push(`--duration: must be more than 0 and at most ${LIMITS.durationSeconds} seconds (got ${o.durationSeconds})`);
  if (!Object.hasOwn(PROFILES, o.profile)) errors.push(`--profile: one of ${Object.keys(PROFILES).join(', ')} (got ${o.profile})`);
  if (o.eventsPerAgentPerHour !== undefined && !(o.eventsPerAgentPerHour >= 0 && o.eventsPerAgentPerHour <= 36_000)) errors.push('--events-per-agent-per-hour: from 0 to 36000');
  if (!(o.reconnectMaxSeconds >= 1 && o.reconnectMaxSeconds <= 3600)) errors.push('--reconnect-max-seconds: from 1 to 3600');
  if (!(o.stopGraceSeconds >= 0 && o.stopGraceSeconds <= 600)) errors.push('--stop-grace-seconds: from 0 to 600');
  if (!(o.progressSeconds >= 0 && o.progressSeconds <= 3600)) errors.push('--progress-seconds: from 0 to 3600');
  if (!o.help && !o.describe && !o.writePolicy) {
    if (!o.collectorUrl) errors.push('--collector-url (VIGIL_COLLECTOR_URL) is required');
    if (!o.enrolSecret) errors.push('--enrol-secret (VIGIL_ENROL_SECRET) is required');
  }
  return { options: o, errors };
}
