import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Host, listEnvelope } from '@vigil/shared';
import { api, ENROL_SECRET, freePort, ROOT, startCollector, startProcess, tempDir, type Proc } from './support/processes.js';

const SIM = path.join(ROOT, 'test/sim/main.mjs');

const procs: Proc[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});

interface Described {
  hosts: { index: number; hostname: string; template: string; users: string[]; softwareItems: number; softwareDigest: string; usb: string[] }[];
  templates: { id: string; os: { platform: string } }[];
  schedule: { atMs: number; host: number; type: string; what: string; digest: string }[];
}

interface Summary {
  enrolment: { enrolled: number; reused: number; failed: number };
  connections: { everConnected: number; reconnects: number; refused: Record<string, number> };
  messages: { sent: Record<string, number>; acked: number; rejected: number; pending: number; errorFrames: Record<string, number>; resent: number };
  selfCheck: { checked: number; failed: number; failures: unknown[] };
  ackLatencyMs: { n: number; p50: number | null };
}

/** Runs the simulator to the end; resolves with its exit status and stdout. */
async function runSim(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startProcess(SIM, args, env);
  procs.push(p);
  const { code } = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

async function describeFleet(seed: string, agents = 50, events = 200, processes = 1): Promise<Described> {
  const r = await runSim(['--describe', '--agents', String(agents), '--seed', seed, '--describe-events', String(events), '--processes', String(processes)]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Described;
}

describe('the load simulator', () => {
  it('makes the same fleet and the same event schedule from the same seed, and another from another seed', async () => {
    const [a, b, other] = await Promise.all([describeFleet('1234'), describeFleet('1234'), describeFleet('4321')]);
    expect(b).toEqual(a);
    expect(a.hosts).toHaveLength(50);
    expect(a.schedule).toHaveLength(200);
    expect(other.hosts.map((h) => h.softwareDigest)).not.toEqual(a.hosts.map((h) => h.softwareDigest));
    expect(other.schedule).not.toEqual(a.schedule);

    // A mixed fleet: several OS templates, desktops with Debian-sized inventories, every kind of event.
    expect(new Set(a.hosts.map((h) => h.template)).size).toBeGreaterThanOrEqual(3);
    expect(Math.max(...a.hosts.map((h) => h.softwareItems))).toBeGreaterThan(1000);
    expect(new Set(a.schedule.map((e) => e.type))).toEqual(new Set(['usb.attached', 'usb.detached', 'software.changed', 'session.state', 'screenlock.state']));
    // The schedule is in time order.
    expect(a.schedule.map((e) => e.atMs)).toEqual([...a.schedule.map((e) => e.atMs)].sort((x, y) => x - y));
  });

  it('makes the same fleet and schedule whether it runs in one process or is split over several', async () => {
    const [one, two, three] = await Promise.all([describeFleet('split', 40, 300, 1), describeFleet('split', 40, 300, 2), describeFleet('split', 40, 300, 3)]);
    expect(one.hosts.map((h) => h.index)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(two).toEqual(one);
    expect(three).toEqual(one);
    // The schedule interleaves hosts of every part of the split.
    expect(new Set(one.schedule.map((e) => Math.floor(e.host / 14)))).toEqual(new Set([0, 1, 2]));
  });

  it('refuses a collector that is not on loopback, and bad options, with a clear message', async () => {
    const remote = await runSim(['--agents', '5', '--collector-url', 'http://192.0.2.10:8470', '--enrol-secret', 'x']);
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('only talks to a collector on loopback');
    const bad = await runSim(['--agents', '0', '--duration', '999999', '--collector-url', 'http://127.0.0.1:1', '--enrol-secret', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--agents: must be a whole number from 1 to 100000');
    expect(bad.stderr).toContain('--duration: must be more than 0 and at most 86400');
  });

  it('runs 50 agents against a real collector: hosts appear, every message is acknowledged and stored, none rejected', async () => {
    const work = tempDir('sim');
    const policy = path.join(work, 'policy.yaml');
    expect((await runSim(['--write-policy', policy])).code).toBe(0);
    const collector = await startCollector({ dataDir: path.join(work, 'data'), port: await freePort(), args: ['--policy-file', policy, '--heartbeat-seconds', '1'] });
    procs.push(collector);
    const seed = `e2e${Date.now() % 100_000}`;
    const stateFile = path.join(work, 'sim-state.json');
    const args = ['--agents', '50', '--collector-url', collector.url, '--seed', seed, '--state-file', stateFile, '--progress-seconds', '0'];

    const run = await runSim([...args, '--duration', '10', '--stop-grace-seconds', '20', '--events-per-agent-per-hour', '1800', '--self-check'], { VIGIL_ENROL_SECRET: ENROL_SECRET });
    expect(run.code, run.stderr).toBe(0);
    const s = JSON.parse(run.stdout) as Summary;
    expect(s.enrolment).toMatchObject({ enrolled: 50, reused: 0, failed: 0 });
    expect(s.connections.everConnected).toBe(50);
    expect(s.connections.refused).toEqual({});
    // Every frame built and received passed the shared schemas.
    expect(s.selfCheck.failures).toEqual([]);
    expect(s.selfCheck.checked).toBeGreaterThan(50 * 3);
    expect(s.messages).toMatchObject({ rejected: 0, pending: 0, errorFrames: {} });
    const sent = s.messages.sent;
    const total = Object.values(sent).reduce((x, y) => x + y, 0);
    expect(s.messages.acked).toBe(total);
    expect(sent.snapshot).toBe(50);
    expect(sent.goodbye).toBe(50);
    expect(sent.heartbeat).toBeGreaterThanOrEqual(50);
    expect((sent['usb.attached'] ?? 0) + (sent['software.changed'] ?? 0) + (sent['session.state'] ?? 0)).toBeGreaterThan(20);
    expect(s.ackLatencyMs.n).toBeGreaterThan(0);

    // The collector has the fleet the seed describes, and stored every acknowledged message once.
    const fleet = await describeFleet(seed, 50, 0);
    const { body } = await api(collector.url, `/api/v1/hosts?limit=500&q=${encodeURIComponent(`-s${seed}-`)}`);
    const hosts = listEnvelope(Host).parse(body).items;
    expect(hosts.map((h) => h.hostname).sort()).toEqual(fleet.hosts.map((h) => h.hostname).sort());
    const platformOf = new Map(fleet.templates.map((t) => [t.id, t.os.platform]));
    for (const h of hosts) {
      const d = fleet.hosts.find((x) => x.hostname === h.hostname);
      expect(h.os.platform).toBe(platformOf.get(d?.template ?? ''));
      expect(h).toMatchObject({ status: 'offline', lastGoodbye: 'stop' });
      expect(h.agent.messagesRejected).toBe(0);
      expect(h.agent.counters?.produced).toBeGreaterThan(0);
    }
    const stored = hosts.reduce((n, h) => n + h.agent.messagesStored, 0);
    expect(stored).toBe(total - sent.heartbeat!);

    // A second run with the same seed reuses the enrolled hosts (and its credentials file is private).
    expect(fs.statSync(stateFile).mode & 0o777).toBe(0o600);
    const again = await runSim([...args, '--duration', '2', '--profile', 'quiet', '--enrol-secret', ENROL_SECRET]);
    expect(again.code, again.stderr).toBe(0);
    const s2 = JSON.parse(again.stdout) as Summary;
    expect(s2.enrolment).toMatchObject({ enrolled: 0, reused: 50 });
    expect(s2.messages.rejected).toBe(0);
    const after = listEnvelope(Host).parse((await api(collector.url, `/api/v1/hosts?limit=500&q=${encodeURIComponent(`-s${seed}-`)}`)).body).items;
    expect(after).toHaveLength(50);
  });

  it('spreads a fleet over several processes: one merged summary, the hosts the seed describes, credentials kept for a run with another split', async () => {
    const work = tempDir('sim-split');
    const collector = await startCollector({ dataDir: path.join(work, 'data'), port: await freePort(), args: ['--heartbeat-seconds', '1'] });
    procs.push(collector);
    const seed = `split${Date.now() % 100_000}`;
    const stateFile = path.join(work, 'sim-state.json');
    const args = ['--agents', '30', '--collector-url', collector.url, '--seed', seed, '--state-file', stateFile, '--progress-seconds', '0', '--enrol-secret', ENROL_SECRET];

    // Long enough for three processes to start, enrol and connect on a loaded machine.
    const run = await runSim([...args, '--processes', '3', '--duration', '12', '--stop-grace-seconds', '20', '--events-per-agent-per-hour', '1800']);
    expect(run.code, run.stderr).toBe(0);
    const s = JSON.parse(run.stdout) as Summary & { processes: number; process: { perProcess: { firstIndex: number; agents: number }[] } };
    expect(s.processes).toBe(3);
    expect(s.process.perProcess.map((p) => [p.firstIndex, p.agents])).toEqual([[0, 10], [10, 10], [20, 10]]);
    expect(s.enrolment).toMatchObject({ enrolled: 30, reused: 0, failed: 0 });
    expect(s.connections.everConnected).toBe(30);
    expect(s.messages).toMatchObject({ rejected: 0, pending: 0 });
    expect(s.messages.sent.snapshot).toBe(30);
    expect(s.messages.sent.goodbye).toBe(30);
    expect(s.messages.acked).toBe(Object.values(s.messages.sent).reduce((x, y) => x + y, 0));
    expect(s.ackLatencyMs.n).toBeGreaterThan(30);

    const fleet = await describeFleet(seed, 30, 0);
    const hosts = listEnvelope(Host).parse((await api(collector.url, `/api/v1/hosts?limit=500&q=${encodeURIComponent(`-s${seed}-`)}`)).body).items;
    expect(hosts.map((h) => h.hostname).sort()).toEqual(fleet.hosts.map((h) => h.hostname).sort());
    const saved = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { agents: Record<string, { hostId: string }> };
    expect(Object.keys(saved.agents).map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(fs.statSync(stateFile).mode & 0o777).toBe(0o600);

    // The same fleet in one process takes up every host where the three left it.
    const again = await runSim([...args, '--processes', '1', '--duration', '2', '--profile', 'quiet']);
    expect(again.code, again.stderr).toBe(0);
    const s2 = JSON.parse(again.stdout) as Summary;
    expect(s2.enrolment).toMatchObject({ enrolled: 0, reused: 30 });
    expect(s2.connections.refused).toEqual({});
    expect(s2.messages.rejected).toBe(0);
    const after = listEnvelope(Host).parse((await api(collector.url, `/api/v1/hosts?limit=500&q=${encodeURIComponent(`-s${seed}-`)}`)).body).items;
    expect(after).toHaveLength(30);
  });
});
