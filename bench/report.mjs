// Markdown for bench/RESULTS.md and the terminal: one section per kind of run, and the update of
// RESULTS.md (newest first; a section replaces only the section with the same heading).
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib.mjs';

const HEADER = `# Benchmark results

Newest first. \`npm run bench\` writes the \`npm run bench\` section of its day, \`npm run bench -- --large\` the \`--large\` section and \`npm run bench -- --growth\`
the \`--growth\` section (see \`bench/run.mjs\`); \`npm run bench -- --quick\` is a smoke run: it prints its table
and writes \`bench/results/<date>-quick.json\`, never this file.
`;

const n = (x) => x.toLocaleString('en');
const ms = (x) => `${n(x)} ms`;

export function machineLine(machine, build) {
  const code = build?.commit ? ` Code: commit ${build.commit}${build.uncommittedFiles ? ` with ${build.uncommittedFiles} uncommitted changes under collector/ and shared/` : ''}.` : '';
  return `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}; 1-minute load average ${machine.loadAverage1mAtStart} as the run started.${code}`;
}

function ingestRows(i) {
  const row = (label, r) =>
    `| ${label} | **${n(r.vigil.eventsPerSecond)}** (${r.vigil.runs.map(n).join(', ')}) | ${n(r.baseline.eventsPerSecond)} (${r.baseline.runs.map(n).join(', ')}) | **${r.ratio}** | ${r.vigil.serverCpuMicrosecondsPerEvent} / ${r.baseline.serverCpuMicrosecondsPerEvent} µs | ${r.vigil.serverCpuPercentOfOneCore} % / ${r.vigil.benchCpuPercentOfOneCore} % | ${r.baseline.serverCpuPercentOfOneCore} % / ${r.baseline.benchCpuPercentOfOneCore} % | ${r.vigil.serverRssMiB} MiB |`;
  const rows = [];
  if (i.session) rows.push(row(`\`session\`: only \`session.state\` (${i.session.events.averageFrameBytes} B/frame)`, i.session));
  if (i.mixed) {
    const e = i.mixed.events;
    rows.push(
      row(
        `\`mixed\`: ${n(e['session.state'] ?? 0)} session, ${n((e['usb.attached'] ?? 0) + (e['usb.detached'] ?? 0))} USB, ${n(e['software.changed'] ?? 0)} software (${e.averageFrameBytes} B/frame)`,
        i.mixed,
      ),
    );
  }
  return rows.join('\n');
}

function alertsLine(a) {
  if (!a) return '';
  const parts = Object.entries(a.byRule).map(([rule, s]) => `${rule} ${Object.entries(s).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  return `${n(a.total)} alerts (${parts.join('; ')})`;
}

function byPartLine(parts) {
  if (!parts) return '';
  const label = { session: '`session.state`', usb: 'USB attach/detach', software: '`software.changed`' };
  return `\nWhere the collector's time goes — each part of the \`mixed\` load alone through the collector (once; same frames and order, after the same snapshots): ${Object.entries(parts)
    .map(([p, r]) => `${label[p] ?? p} ${n(r.eventsPerSecond)} events/s (${n(r.serverCpuMicrosecondsPerEvent)} µs of collector CPU each)`)
    .join(', ')}.\n`;
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const sec = (msValue) => `${(msValue / 1000).toFixed(1)} s`;
const pcts = (p, keys = ['p50', 'p99']) => keys.map((k) => ms(p[k])).join(' / ');

/** The fleet-scale table (bench/fleet.mjs): a simulated fleet grown tier by tier against one collector. */
function fleetSection(f) {
  if (!f?.tiers?.length) return '';
  const tiers = f.tiers;
  const errors = (o) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
  /** A tier that failed part-way has only what it measured: the rest of its column is '—'. */
  const cellOf = (cell, t) => {
    try {
      return cell(t) ?? '—';
    } catch {
      return '—';
    }
  };
  const row = (label, cell) => `| ${label} | ${tiers.map((t) => cellOf(cell, t)).join(' | ')} |`;
  const workers = f.gatewayWorkers > 0;
  const cpuRss = (g) => (g ? `${g.cpuPercentOfOneCore} % CPU, RSS ${g.rssMiB.end} MiB` : '—');
  const idle = f.collectorIdle;
  const last = tiers.at(-1);
  return `
### Fleet scale: ${tiers.map((t) => n(t.agents)).join(' → ')} simulated agents against one collector

The load simulator (\`test/sim\`, in child processes of at most 15,000 agents each) grows one fleet tier by tier
against the real collector (a child process too): each tier enrols and connects the agents it adds and sends each
one's snapshot (hundreds to thousands of packages), then the whole fleet heartbeats every ${f.heartbeatSeconds} s with ${f.eventsPerAgentPerHour} background
events per agent per hour through a ${f.steadySeconds} s steady window, during which ${f.probeAgents} more agents in the bench process plug in
${n(f.attaches)} unapproved sticks at ${f.attachRatePerSecond}/s (\`usb.attached\` → \`opened\` on \`/api/v1/alerts/stream\`); then every fleet connection
is dropped at once (the reconnect storm: each agent reconnects after its backoff, 0–500 ms for a first try, through one of 1,024 handshake slots per simulator process, since one thread cannot send thousands of request heads at once as thousands of machines would). ${workers ? `The collector ran with **\`--gateway-workers ${f.gatewayWorkers}\`** for every tier (one process here may hold ${n(f.openFileLimit)} open files, so one process at most about ${n(f.maxAgentsPerCollectorProcess)} agent sockets): the gateway child processes accept the connections on the socket the main process binds and hold the agents' sockets, the main process checks each agent's token (asked over a pipe), serves the API the workers pass on, and is the only writer to SQLite; collector CPU and RSS are summed over the process tree, and given for the main process and the workers apart.` : `Every agent socket was held by the collector's main process (no gateway workers; one process here may hold ${n(f.openFileLimit)} open files, so about ${n(f.maxAgentsPerCollectorProcess)} agent sockets).`} Alone: \`node bench/fleet.mjs [tiers]\`.

| measure | ${tiers.map((t) => `${n(t.agents)} agents`).join(' | ')} |
|---|${tiers.map(() => '---').join('|')}|
${row('agents added (simulator processes in all)', (t) => `${n(t.added)} (${t.simulatorProcesses})`)}
${row('ramp of the added agents: all enrolled / all connected / **all snapshots committed**', (t) => `${t.connect.enrolledAllSeconds} s / ${t.connect.connectedAllSeconds} s / **${t.connect.snapshotsCommittedSeconds} s**`)}
${row('enrolments per second during the ramp', (t) => (t.connect.enrolmentsPerSecond ? n(t.connect.enrolmentsPerSecond) : null))}
${row('snapshot ack p50 / p99; reconnects, socket errors during the ramp', (t) => `${pcts(t.connect.snapshotAckMs)}; ${n(t.connect.reconnects)}, ${n(errors(t.connect.socketErrors))}`)}
${row('collector during the ramp (CPU % of one core, RSS max)', (t) => `${t.connect.collector.cpuPercentOfOneCore} %, ${t.connect.collector.rssMiB.max} MiB`)}
${row('**collector CPU, steady window** (whole tree)', (t) => `**${t.steady.collector.cpuPercentOfOneCore} %** (${t.steady.collector.cpuSeconds} s over ${t.steady.seconds} s)${t.steady.collector.writtenMiBPerSecond !== undefined ? `, writing ${t.steady.collector.writtenMiBPerSecond} MiB/s` : ''}`)}
${workers ? `${row('… main process / gateway workers', (t) => `${cpuRss(t.steady.collectorPrimary)} / ${cpuRss(t.steady.collectorWorkers)} (${t.steady.collectorWorkers.processes} processes)`)}\n` : ''}${row('collector RSS over the steady window, min–max (whole tree)', (t) => `${t.steady.collector.rssMiB.min}–${t.steady.collector.rssMiB.max} MiB`)}
${row(`**memory per connected agent** (tree RSS at the end of the window − idle ${idle.treeRssMiB} MiB, ÷ agents; target ≤ 50 KB)`, (t) => `**${kib(t.memory.bytesPerAgent)}** (${n(t.memory.bytesPerAgent)} B; tree ${t.memory.treeRssMiB} MiB${workers ? `: main ${t.memory.primaryRssMiB}, workers ${t.memory.workersRssMiB}` : ''})`)}
${row('steady ack latency p50 / p99 (frames sent per second)', (t) => `${pcts(t.steady.ackMs)} (${n(t.steady.framesPerSecond)}/s)`)}
${row('alert latency at that load p50 / p95 / **p99** / max', (t) => (t.alertLatency ? `${pcts(t.alertLatency.latencyMs, ['p50', 'p95'])} / **${ms(t.alertLatency.latencyMs.p99)}** / ${ms(t.alertLatency.latencyMs.max)}` : null))}
${row('**reconnect storm: every agent back** (connected, `config` received)', (t) => `**${sec(t.storm.allBackMs)}** (per agent p50 / p99 ${pcts(t.storm.perAgentMs)})`)}
${row('… connection attempts, socket errors, kernel listen-queue overflows; collector CPU', (t) => `${n(t.storm.connectionAttempts)}, ${n(errors(t.storm.socketErrors))}, ${n(t.storm.tcp?.ListenOverflows ?? 0)}; ${t.storm.collector.cpuPercentOfOneCore} %`)}
${row('simulator: RSS, per agent; CPU ramp / steady (% of one core, all its processes)', (t) => `${t.simulator.rssMiB} MiB, ${kib(t.simulator.bytesPerAgent)}; ${t.connect.simulator.cpuPercentOfOneCore} % / ${t.steady.simulator.cpuPercentOfOneCore} %`)}

${f.error ? `**The run stopped at ${f.error}** — the columns show what was measured until then.\n\n` : ''}${f.skipped ? `**Not run within the 15-minute budget: ${f.skipped.tiers.map((t) => n(t)).join(', ')} agents.** From the ${n(f.skipped.after)}-agent tier, the next was estimated at ${f.skipped.estimatedSeconds} s (its ramp per added agent and its storm grown with the square of the fleet, each × 1.25, plus the windows) with ${f.skipped.leftSeconds} s left; \`npm run bench -- --large\` runs every tier whatever it takes.\n\n` : ''}Idle collector before the first tier: ${idle.treeRssMiB} MiB${workers ? ` over ${idle.processes} processes (main ${idle.primaryRssMiB} MiB, workers ${idle.workersRssMiB} MiB)` : ''}. Alert-latency target: p99 ≤ 250 ms at 10,000 agents.
${f.totals ? `Messages over the whole run: ${n(f.totals.acked)} acked, ${n(f.totals.rejected)} rejected, ${n(errors(f.totals.errorFrames))} error frames, ${n(f.totals.pending)} pending at the end. ` : ''}Database at the end: ${n(f.databaseMiB)} MiB. The fleet part took ${f.minutes} min, ${n(last.agents)} agents at the end.

**How the 2 cores are shared.** Nothing is pinned: the collector${workers ? ' (main process and workers)' : ''}, the simulator children (every agent of
one on its event loop) and the bench process (the probe agents, the alert feed and the /proc sampling, where the
alert-latency timestamps are taken). A tier's ramp is bound by the collector's main process, which ingests every
snapshot (milliseconds of CPU each) and ${workers ? 'checks every agent\'s token (the gateway workers accept the connections)' : 'also accepts and authenticates every connection'}${
    tiers.some((t) => errors(t.connect?.socketErrors) > 0)
      ? `: where the ramp shows socket errors (${tiers
          .filter((t) => errors(t.connect?.socketErrors) > 0)
          .map((t) => `${n(t.agents)}: ${Object.entries(t.connect.socketErrors).map(([k, v]) => `${n(v)} × ${k}`).join(', ')}`)
          .join('; ')}) it did not keep up with the connections, and agents retried with backoff`
      : ''
  }.${f.totals && errors(f.totals.errorFrames) > 0 ? ` Error frames from the collector: ${Object.entries(f.totals.errorFrames).map(([k, v]) => `${n(v)} × \`${k}\``).join(', ')}.` : ''}
`;
}

/** The section of a default or quick run (`title`: the command that made it). */
export function benchSection(results, title) {
  const { date, machine, ingest: i, outbox: o, agentIdle: a, probes, alertLatency: l, fleet } = results;
  const latencyRow = (label, p) =>
    `| ${label} | ${ms(p.latencyMs.p50)} | ${ms(p.latencyMs.p95)} | ${ms(p.latencyMs.p99)} | ${ms(p.latencyMs.max)} | ${p.collectorCpuSeconds} s | ${p.benchProcessCpuSeconds} s | ${p.benchMainLoopDelayMs.p99} ms |`;
  const quickNote = results.profile === 'quick' ? `\n**Quick run** (smaller counts and windows than the default run; the agent-at-rest window is ${a.windowSeconds} s, not 60 s${fleet?.tiers ? `; the fleet ${fleet.tiers.map((t) => n(t.agents)).join(' → ')} agents, not 10,000 → 20,000 (→ 50,000 with \`--large\`)` : ''}): a smoke test, not a result to compare.\n` : '';
  return `## ${date} — \`${title}\`
${quickNote}
${machineLine(machine, results.build)}

**How the 2 cores are shared.** Nothing is pinned. The server under test (the collector, or the bare baseline) is one
process and, being Node + synchronous better-sqlite3, uses at most about one core; this bench process (every simulated
agent, on one thread) is another. The CPU columns say what each used over the timed window, as % of one core.

### Ingest: events/s through the real path, beside a bare \`ws\` + better-sqlite3 baseline

${i.agents} agents × ${n(i.perAgent)} events, ${i.window} in flight per agent at most; each (load, server) pair ran ${i.repeats}× on a fresh
data dir, collector and baseline alternating; the median run is shown with every run in brackets. The collector's
path: WebSocket → zod schema → per-agent sequence and host bookkeeping → the host's current state → the policy
engine's judgement (alerts, audit entries) → one SQLite commit per batch → ack. The baseline (\`bench/baseline.mjs\`,
no Vigil code): the same frames → \`JSON.parse\` → one row each in a table shaped like \`messages\` (same columns,
unique id index and other indexes, pragmas; since migration 11 a rowid table in arrival order), one transaction per batch with the collector's batching trigger (setImmediate or
2,000 queued) → ack after commit. Target: ≥ 50,000 events/s and ratio ≥ 0.35.

| load | collector events/s | baseline events/s | ratio | server CPU per event, collector / baseline | collector / bench CPU | baseline / bench CPU | collector RSS |
|---|---|---|---|---|---|---|---|
${ingestRows(i)}

The \`session\` load is the one every earlier run used: no snapshot first, so each host's current state holds its
sessions only. The \`mixed\` load (\`bench/event-mix.mjs\`; an *event* is one agent message carrying one fact change): after one \`snapshot\`
per host (4 allowed USB devices, ${i.mix.inventorySize} Debian packages, compliant screen lock, its session; not timed), a seeded
sequence of ${Math.round(i.mix.session * 100)} % \`session.state\` (the local session cycles active → idle → locked), ${Math.round(i.mix.usb * 100)} % USB
(\`usb.attached\`/\`usb.detached\` in turn; 85 % of attaches are hubs and internal devices the default policy allows,
15 % unapproved sticks or a phone, mostly from a pool of 3 per host so re-plugging bumps the open alert) and
${Math.round(i.mix.software * 100)} % \`software.changed\` (60 % upgrades of 1–3 packages, 20 % an install — half of them third-party and
unapproved — 20 % a removal). ${i.mixed?.vigil.alerts ? `In the median collector run it raised ${alertsLine(i.mixed.vigil.alerts)}.` : ''}
${byPartLine(i.mixed?.collectorByPart)}

### Agent

| measure | value |
|---|---|
| agent outbox, one fsynced append at a time | ${n(o.singleAppendsPerSecond)} appends/s |
| agent outbox, groups of ${o.groupSize} (one fsync each) | ${n(o.groupedAppendsPerSecond)} appends/s |
| agent at rest, ${a.windowSeconds} s window ${a.startupSeconds !== undefined ? `starting 10 s after its snapshot was stored (start-up took ${a.startupSeconds} s)` : 'after warm-up'}, connected, polling a sysfs tree of 9 real devices every second${a.nodeFlags?.length ? `, node started as the installers start it (\`${a.nodeFlags.join(' ')}\`)` : ''} | RSS ${a.agent.maxRssMiB} MiB vs bare node ${a.bareNode.maxRssMiB} MiB (**+${a.extraRssMiB} MiB**; target ≤ +40); CPU ${a.agent.cpuSeconds} s vs ${a.bareNode.cpuSeconds} s (**+${a.extraCpuSeconds} s = ${a.extraCpuPercentOfOneCore} % of one core**; target ≤ 0.3 s per 60 s) |

Each probe's cost per run (median; real sources on this machine, USB on a sysfs tree built from the real captures in \`test/fixtures/linux/usb\`):

| probe | wall ms | CPU ms | result |
|---|---|---|---|
${Object.entries(probes)
  .map(([k, v]) => `| ${k} | ${v.medianWallMs} | ${v.medianCpuMs} | ${v.result} |`)
  .join('\n')}

### End-to-end alert latency

An agent sends \`usb.attached\` for an unapproved stick → the \`opened\` frame arrives on a live-feed subscriber (\`/api/v1/alerts/stream\`). ${n(l.attaches)} attaches per phase, round-robin over ${l.agents} agents at ${l.attachRatePerSecond}/s, each a new device key (a new alert), each unplugged once its alert has arrived. The collector is one process; the bench process holds the ${l.agents} attaching agents and the feed subscriber on its main thread (where both timestamps are taken) and, under load, ${l.underLoad.load.agents} agents pushing \`session.state\` from a worker thread. CPU columns: seconds of CPU over each ${l.quiet.seconds} s phase. Alone: \`node bench/alert-latency.mjs\`.

| phase | p50 | p95 | p99 | max | collector CPU | bench process CPU | bench main-thread loop delay p99 |
|---|---|---|---|---|---|---|---|
${latencyRow('quiet: only the attaches', l.quiet)}
${latencyRow(`under load: + ${n(l.underLoad.load.committedPerSecond)} \`session.state\`/s committed (target ${n(l.underLoad.load.targetPerSecond)}/s, ${l.underLoad.load.window} in flight per agent at most)`, l.underLoad)}
${fleetSection(fleet)}
Took ${results.minutes} min. Raw numbers: \`bench/results/${results.file}\`.
`;
}

/** Replaces the section with this heading in RESULTS.md (or adds it on top). */
export function updateResults(section) {
  const file = path.join(ROOT, 'bench/RESULTS.md');
  const heading = section.slice(0, section.indexOf('\n'));
  let body = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const first = body.indexOf('\n## ');
  body = first >= 0 ? body.slice(first + 1) : '';
  const escaped = heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  body = body.replace(new RegExp(`${escaped}\\n[\\s\\S]*?(?=\\n## |$)`), '').trimStart();
  fs.writeFileSync(file, `${HEADER}\n${section}\n${body}`.trimEnd() + '\n');
}

/** What is not flat, and what the plans say about why (only what this run's numbers show). */
function growthFindings(g, base, last, names) {
  if (base === last) return '';
  const ratio = (name) => (base.api[name]?.p50 && last.api[name]?.p50 ? last.api[name].p50 / base.api[name].p50 : 1);
  const notFlat = names.filter((name) => ratio(name) >= 1.5);
  const out = [
    notFlat.length
      ? `**Not flat** (p50 ×1.5 or more from ${n(base.events)} to ${n(last.events)} events): ${notFlat.map((name) => `\`${name}\` ×${ratio(name).toFixed(1)}`).join(', ')}.`
      : `**Flat**: no request's p50 grew ×1.5 or more from ${n(base.events)} to ${n(last.events)} events.`,
  ];
  const usb = last.queries['host detail: USB history'];
  const busy = last.queries['host detail: USB history, busy kiosk'];
  if (notFlat.some((name) => name.startsWith('GET /api/v1/hosts/:id')) && usb?.plan.some((l) => l.includes('messages_by_host'))) {
    out.push(
      `Host detail's USB history (\`collector/src/alerts/host-detail.ts\`) reads the host's messages newest first through \`messages_by_host (host_id, received_at)\`, which does not hold the type: it visits every message of the host until it has found 100 USB events, each one a lookup of a row stored among everyone's (rows are in id, that is time, order). So its cost follows the host's whole history, not its USB events: ${n(usb.medianMs)} ms for a host with ${n(usb.hostMessages)} messages (${n(usb.hostUsbMessages)} USB), ${n(busy?.medianMs ?? 0)} ms for the busy kiosk's ${n(busy?.hostMessages ?? 0)} (${n(busy?.hostUsbMessages ?? 0)} USB), on a warm connection.`,
    );
  }
  const tick = last.queries['engine tick (every 10 s): idle sessions'];
  if (tick?.medianMs > 50) {
    out.push(
      `Flat in events but not in hosts: every 10 s the policy engine's tick runs \`SELECT host_id FROM host_state WHERE sessions LIKE '%"idle":true%'\`, a scan of every host's row in which \`sessions\` is stored after the ~100 KB \`software\` column, so SQLite walks each row's overflow pages to reach it: ${n(tick.medianMs)} ms at ${n(g.hosts)} hosts, on the collector's only thread, so every request and ingest batch that arrives meanwhile waits up to that long, once every 10 s.`,
    );
  }
  return out.join('\n\n');
}

/** The section of a `--growth` run. */
export function growthSection(results) {
  const { date, machine, growth: g } = results;
  const tiers = g.tiers;
  const head = (label) => `| ${label} | ${tiers.map((t) => `${n(t.events)} events`).join(' | ')} |\n|---|${tiers.map(() => '---').join('|')}|`;
  const names = [...new Set([...tiers].reverse().flatMap((t) => Object.keys(t.api)))];
  const first = tiers[0];
  const last = tiers.at(-1);
  /** What the last tier is compared with: the first that stores events (an empty table is trivially fast). */
  const base = tiers.find((t) => t.events > 0 && t !== last) ?? first;
  const growthOf = (a, b) => (a && b ? ` (×${(b / a).toFixed(1)})` : '');
  const apiRows = names
    .map((name) => {
      const note = tiers.map((t) => t.api[name]?.note).find(Boolean);
      const cells = tiers.map((t) => (t.api[name] ? `${t.api[name].p50} / ${t.api[name].p99}` : '—'));
      const a = base.api[name]?.p50;
      const b = last.api[name]?.p50;
      return `| \`${name}\`${note ? ` (${note})` : ''} | ${cells.join(' | ')} | ${a && b && base !== last ? `×${(b / a).toFixed(1)}` : '—'} |`;
    })
    .join('\n');
  const queryNames = Object.keys(last.queries);
  const queryRows = queryNames
    .map((q) => `| ${q} | ${tiers.map((t) => `${t.queries[q]?.medianMs ?? '—'}`).join(' | ')} |`)
    .join('\n');
  const plansText = queryNames.map((q) => `${q}:\n${last.queries[q].plan.map((l) => `    ${l}`).join('\n')}`).join('\n');
  const usb = last.queries['host detail: USB history'];
  const busy = last.queries['host detail: USB history, busy kiosk'];
  return `## ${date} — \`npm run bench -- --growth\`

${machineLine(machine, results.build)}

How the figures change as stored events grow. Each tier is a fresh data dir: the collector's migrations create
the schema, then \`bench/growth.mjs\` fills it directly (${n(g.hosts)} hosts with one agent and their current state — 4
allowed USB devices, 700 packages, screen lock, a session; one snapshot per host then the ingest bench's mixed events
over the last 170 days — one host, a busy kiosk, gets 1 % of them, nearly all session changes; one alert per
${Math.round(1 / g.alertsPerEvent)} events with its history, 92 % closed) and the
collector is started on it. Requests are sequential, ${g.requests} per row after a warm-up, with the admin token; the
collector and this process share the 2 cores, nothing else runs from the bench meanwhile.
${g.notes.length ? `\n**Scaled down:** ${g.notes.join('; ')}.\n` : ''}
| p50 / p99, ms | ${tiers.map((t) => `${n(t.events)} events`).join(' | ')} | p50, ${n(last.events)} ÷ ${n(base.events)} |
|---|${tiers.map(() => '---').join('|')}|---|
${apiRows}

${head('collector')}
| stored: events / alerts / alert changes | ${tiers.map((t) => `${n(t.filled.events)} / ${n(t.filled.alerts)} / ${n(t.filled.alertEvents)}`).join(' | ')} |
| database on disk | ${tiers.map((t) => `${t.databaseGiB} GiB`).join(' | ')} |
| start (spawn → listening, incl. migrations check and retention purge) | ${tiers.map((t) => `${n(t.collectorStartMs)} ms`).join(' | ')} |
| quiet after start (fleet re-evaluation of ${n(g.hosts)} hosts) | ${tiers.map((t) => `${t.settleSeconds} s`).join(' | ')} |
| ingest, \`session\` load, ${g.ingest.agents} agents × ${n(g.ingest.perAgent)} | ${tiers.map((t) => `${n(t.ingest.session.eventsPerSecond)} events/s (${t.ingest.session.collectorCpuMicrosecondsPerEvent} µs CPU each)`).join(' | ')} |
| ingest, \`mixed\` load, ${g.ingest.agents} agents × ${n(g.ingest.perAgent)} | ${tiers.map((t) => `${n(t.ingest.mixed.eventsPerSecond)} events/s (${t.ingest.mixed.collectorCpuMicrosecondsPerEvent} µs CPU each)`).join(' | ')} |
| RSS after the run | ${tiers.map((t) => `${t.collectorRssMiB} MiB`).join(' | ')} |

The SQL behind those requests (copied from \`collector/src/db/*-repository.ts\` and \`collector/src/alerts/host-detail.ts\`),
timed on a read-only connection to the same file (median of 15, ms):

${head('query')}
${queryRows}

Host detail's USB history at ${n(last.events)} events: the first sampled host has ${n(usb.hostMessages ?? 0)} messages, ${n(usb.hostUsbMessages ?? 0)} of them USB; the busy kiosk ${n(busy?.hostMessages ?? 0)}, ${n(busy?.hostUsbMessages ?? 0)} of them USB.
GET /api/v1/hosts/:id p50 went from ${first.api['GET /api/v1/hosts/:id']?.p50} ms to ${last.api['GET /api/v1/hosts/:id']?.p50} ms${growthOf(first.api['GET /api/v1/hosts/:id']?.p50, last.api['GET /api/v1/hosts/:id']?.p50)}, for the busy kiosk from ${first.api['GET /api/v1/hosts/:id (busy kiosk)']?.p50} ms to ${last.api['GET /api/v1/hosts/:id (busy kiosk)']?.p50} ms${growthOf(first.api['GET /api/v1/hosts/:id (busy kiosk)']?.p50, last.api['GET /api/v1/hosts/:id (busy kiosk)']?.p50)}; ingest (\`mixed\`) from ${n(first.ingest.mixed.eventsPerSecond)} to ${n(last.ingest.mixed.eventsPerSecond)} events/s.

${growthFindings(g, base, last, names)}

Query plans at ${n(last.events)} events:

\`\`\`
${plansText}
\`\`\`

Took ${results.minutes} min. Raw numbers: \`bench/results/${results.file}\`.
`;
}
