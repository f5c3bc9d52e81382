// Markdown for bench/RESULTS.md and the terminal: one section per kind of run, and the update of
// RESULTS.md (newest first; a section replaces only the section with the same heading).
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib.mjs';

const HEADER = `# Benchmark results

Newest first. \`npm run bench\` writes the \`npm run bench\` section of its day and \`npm run bench -- --growth\`
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

/** The fleet-scale table (bench/fleet.mjs): N simulated agents in a child process against one collector. */
function fleetSection(f) {
  if (!f) return '';
  const c = f.connect;
  const st = f.steady;
  const lat = f.alertLatency;
  const storm = f.storm;
  const errors = (o) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);
  const pct = (x) => (x > 0 ? `${x} %` : 'under 0.1 %');
  const overflows = storm.tcp?.ListenOverflows;
  return `
### Fleet scale: ${n(f.agents)} simulated agents against one collector

The load simulator (\`test/sim\`, in a child process) enrols ${n(f.agents)} agents, connects them, sends each one's
snapshot, then heartbeats every ${f.heartbeatSeconds} s with ${f.eventsPerAgentPerHour} background events per agent per hour, against the real
collector (a child process too). After a ${Math.round(st.seconds)} s steady window, ${lat.probeAgents} more agents in the bench process plug in
${n(lat.attaches)} unapproved sticks at ${lat.attachRatePerSecond}/s (\`usb.attached\` → \`opened\` on \`/api/v1/alerts/stream\`), then every fleet connection is
dropped at once (the reconnect storm). Alone: \`node bench/fleet.mjs [agents]\`.

| measure | value |
|---|---|
| agents | ${n(f.agents)} simulated + ${lat.probeAgents} probe agents |
| time to enrol / connect / all snapshots committed | ${c.enrolledAllSeconds} s / ${c.connectedAllSeconds} s / **${c.snapshotsCommittedSeconds} s** (snapshot ack p50 / p99 ${pcts(c.snapshotAckMs)}; ${n(c.reconnects)} reconnects, ${n(errors(c.socketErrors))} socket errors) |
| collector during that ramp | CPU ${c.collector.cpuPercentOfOneCore} % of one core over ${c.seconds} s, RSS up to ${c.collector.rssMiB.max} MiB |
| collector RSS idle → steady | ${f.collectorIdleRssMiB} MiB → ${st.collector.rssMiB.min}–${st.collector.rssMiB.max} MiB over the steady window (mean ${st.collector.rssMiB.mean} MiB; it rises and falls with garbage collection) |
| memory per connected agent | **${kib(f.collectorBytesPerAgent)}** (${n(f.collectorBytesPerAgent)} bytes: RSS at the end of the steady window − idle RSS, ÷ ${n(f.agents)}; target ≤ 50 KB) |
| collector CPU over the steady window | **${st.collector.cpuPercentOfOneCore} % of one core** (${st.collector.cpuSeconds} s over ${st.seconds} s)${st.collector.writtenMiBPerSecond !== undefined ? `, writing ${st.collector.writtenMiBPerSecond} MiB/s` : ''} |
| steady ack latency p50 / p99 | ${pcts(st.ackMs)} (${n(st.framesPerSecond)} frames/s sent, ${n(st.ackedPerSecond)}/s acked) |
| alert latency at that load, p50 / p95 / p99 / max | ${pcts(lat.latencyMs, ['p50', 'p95'])} / **${ms(lat.latencyMs.p99)}** / ${ms(lat.latencyMs.max)} (target p99 ≤ 250 ms at 10,000 agents; collector CPU ${lat.collector.cpuPercentOfOneCore} % meanwhile) |
| reconnect storm: every agent back (connected, \`config\` received) | **${sec(storm.allBackMs)}** for ${n(storm.agents)} agents (per agent p50 / p99 ${pcts(storm.perAgentMs)}; ${n(storm.connectionAttempts)} connection attempts, ${n(errors(storm.socketErrors))} socket errors${overflows !== undefined ? `, ${n(overflows)} kernel listen-queue overflows` : ''}; collector CPU ${storm.collector.cpuPercentOfOneCore} %) |
| database size at the end | ${n(f.databaseMiB)} MiB |
| simulator | RSS ${f.simulator.rssMiB} MiB, ${kib(f.simulator.bytesPerAgent)} per agent; CPU ${c.simulator.cpuPercentOfOneCore} % of one core during the ramp, ${st.simulator.cpuPercentOfOneCore} % steady; event-loop delay p99 ${ms(f.simulator.eventLoopDelayMs.p99)} |
| messages | ${n(f.totals.acked)} acked, ${n(f.totals.rejected)} rejected, ${n(errors(f.totals.errorFrames))} error frames, ${n(f.totals.pending)} pending at the end |

**How the 2 cores are shared.** Nothing is pinned; three processes share them: the collector (one Node process, at most
about one core: ${st.collector.cpuPercentOfOneCore} % steady), the simulator child process (every fleet agent on one event loop:
${c.simulator.cpuPercentOfOneCore} % of one core during the ramp, ${st.simulator.cpuPercentOfOneCore} % steady) and the bench process (the probe agents, the
alert feed and the /proc sampling: ${pct(st.bench.cpuPercentOfOneCore)} steady), where the alert-latency timestamps are taken.

20,000 and 50,000 agents are not measured: one process here may hold at most ${n(f.openFileLimit)} open files (\`ulimit -Hn\`),
so one collector at most about ${n(f.maxAgentsPerCollector)} agent sockets, and the collector does not yet spread connections over
several gateway processes; the bench refuses N above that limit.
`;
}

/** The section of a default or quick run (`title`: the command that made it). */
export function benchSection(results, title) {
  const { date, machine, ingest: i, outbox: o, agentIdle: a, probes, alertLatency: l, fleet } = results;
  const latencyRow = (label, p) =>
    `| ${label} | ${ms(p.latencyMs.p50)} | ${ms(p.latencyMs.p95)} | ${ms(p.latencyMs.p99)} | ${ms(p.latencyMs.max)} | ${p.collectorCpuSeconds} s | ${p.benchProcessCpuSeconds} s | ${p.benchMainLoopDelayMs.p99} ms |`;
  const quickNote = results.profile === 'quick' ? `\n**Quick run** (smaller counts and windows than the default run; the agent-at-rest window is ${a.windowSeconds} s, not 60 s${fleet ? `; the fleet ${n(fleet.agents)} agents, not 10,000` : ''}): a smoke test, not a result to compare.\n` : '';
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
primary key, indexes and pragmas), one transaction per batch with the collector's batching trigger (setImmediate or
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
| agent at rest, ${a.windowSeconds} s window after warm-up, connected, polling a sysfs tree of 9 real devices every second | RSS ${a.agent.maxRssMiB} MiB vs bare node ${a.bareNode.maxRssMiB} MiB (**+${a.extraRssMiB} MiB**; target ≤ +40); CPU ${a.agent.cpuSeconds} s vs ${a.bareNode.cpuSeconds} s (**+${a.extraCpuSeconds} s = ${a.extraCpuPercentOfOneCore} % of one core**; target ≤ 0.3 s per 60 s) |

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
