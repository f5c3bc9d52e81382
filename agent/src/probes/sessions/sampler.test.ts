import type { SessionState } from '@vigil/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommandResult } from '../command-runner.js';
import type { ProbeOutcome } from '../probe.js';
import { readSessions, SessionSampler } from './index.js';
import { fixture, notFound, ok, scriptedRunner, sourcesFor } from './test-support/fixture-runner.js';

const MINUTE = 60_000;

/** A Windows machine whose quser output the test switches between two real captures. */
function windowsMachine(initial: string) {
  const state = { quser: fixture('win32', initial) };
  const { runner, calls } = scriptedRunner((file) => (file === 'quser' ? ok(state.quser) : undefined));
  return { src: sourcesFor('win32', runner), calls, show: (name: string) => (state.quser = fixture('win32', name)) };
}

/** The dbusmock Linux machine: session 2 has been idle (IdleHint=yes) since 09:00Z. */
function linuxMachine() {
  const { runner } = scriptedRunner((file, args) => {
    if (file !== 'loginctl') return undefined;
    if (args[0] === 'list-sessions') return ok(fixture('linux', 'dbusmock/list-sessions-no-legend-o-json.txt'));
    return ok(fixture('linux', 'dbusmock/show-session-2-5-7-c1.txt'));
  });
  return sourcesFor('linux', runner);
}

const idleOf = (o: ProbeOutcome<SessionState> | undefined, id: string) => (Array.isArray(o) ? o.find((s) => s.id === id) : undefined);

describe('SessionSampler', () => {
  let reports: ProbeOutcome<SessionState>[];
  const onChange = (o: ProbeOutcome<SessionState>): void => void reports.push(o);

  beforeEach(() => {
    reports = [];
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => vi.useRealTimers());

  it('reports the first sample, then nothing while the same state is sampled 10 times', async () => {
    vi.setSystemTime(Date.parse('2026-01-06T09:05:00Z'));
    const sampler = new SessionSampler(linuxMachine(), { intervalMs: 10_000, idleThresholdSeconds: 900, onChange });
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(10 * 10_000);
    sampler.stop();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toEqual(await readSessions(linuxMachine(), 900, Date.parse('2026-01-06T09:05:00Z')));
  });

  it('reports idle crossing the threshold once, with the moment idleness began', async () => {
    vi.setSystemTime(Date.parse('2026-01-06T09:10:00Z'));
    const sampler = new SessionSampler(linuxMachine(), { intervalMs: MINUTE, idleThresholdSeconds: 900, onChange });
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(idleOf(reports[0], '2')).toMatchObject({ idle: false });
    await vi.advanceTimersByTimeAsync(4 * MINUTE); // 09:14: still below 15 minutes
    expect(reports).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(MINUTE); // 09:15: crossed
    await vi.advanceTimersByTimeAsync(30 * MINUTE); // and stays idle
    sampler.stop();
    expect(reports).toHaveLength(2);
    expect(idleOf(reports[1], '2')).toMatchObject({ idle: true, idleSince: '2026-01-06T09:00:00Z' });
  });

  it('keeps idleSince fixed while idle even when the OS only says "idle for N minutes", and clears it on return', async () => {
    vi.setSystemTime(Date.parse('2020-11-17T12:30:00Z'));
    const machine = windowsMachine('quser-2008r2-remote.txt'); // user3 (55) idle 8 minutes
    const sampler = new SessionSampler(machine.src, { intervalMs: MINUTE, idleThresholdSeconds: 600, onChange });
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(idleOf(reports[0], '55')).toMatchObject({ idle: false });
    machine.show('quser-2019-remote.txt'); // user3 now idle 14 minutes
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(reports).toHaveLength(2);
    const since = idleOf(reports[1], '55')?.idleSince;
    expect(idleOf(reports[1], '55')).toMatchObject({ idle: true, idleSince: '2020-11-17T12:17:00Z' });
    // quser keeps saying 14 while the clock moves: the derived start would move, the report does not.
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(reports).toHaveLength(2);
    machine.show('quser-2008r2-remote.txt'); // back below the threshold
    await vi.advanceTimersByTimeAsync(MINUTE);
    sampler.stop();
    expect(reports).toHaveLength(3);
    expect(idleOf(reports[2], '55')).toEqual({ id: '55', user: 'user3', locked: null, idle: false, remote: true, type: 'rdp' });
    expect(since).toBeDefined();
  });

  it('applies a new idle threshold from the next sample', async () => {
    vi.setSystemTime(Date.parse('2020-11-17T12:30:00Z'));
    const machine = windowsMachine('quser-2019-remote.txt'); // user3 idle 14 minutes
    const sampler = new SessionSampler(machine.src, { intervalMs: MINUTE, idleThresholdSeconds: 1200, onChange });
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(idleOf(reports[0], '55')).toMatchObject({ idle: false });
    sampler.setIdleThreshold(600);
    await vi.advanceTimersByTimeAsync(MINUTE);
    sampler.stop();
    expect(reports).toHaveLength(2);
    expect(idleOf(reports[1], '55')).toMatchObject({ idle: true });
  });

  it('reports an unreadable state once, with its reason', async () => {
    const { runner } = scriptedRunner(() => notFound);
    const sampler = new SessionSampler(sourcesFor('linux', runner), { intervalMs: 1000, idleThresholdSeconds: 900, onChange });
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(10_000);
    sampler.stop();
    expect(reports).toEqual([{ status: 'unknown', reason: 'loginctl is not installed: there is no systemd-logind or elogind to ask' }]);
  });

  it('stop() clears its timer and drops a sample still being read', async () => {
    const pending: ((r: CommandResult) => void)[] = [];
    const runner = { run: () => new Promise<CommandResult>((resolve) => pending.push(resolve)) };
    const machine = windowsMachine('quser-2019-remote.txt');
    const sampler = new SessionSampler(machine.src, { intervalMs: 1000, idleThresholdSeconds: 600, onChange });
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(reports).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(1);
    sampler.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(machine.calls).toHaveLength(1);

    const slow = new SessionSampler(sourcesFor('win32', runner), { intervalMs: 1000, idleThresholdSeconds: 600, onChange });
    slow.start();
    slow.stop();
    pending.forEach((resolve) => resolve(ok(fixture('win32', 'quser-2019-remote.txt'))));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reports).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports the first sample again after a restart', async () => {
    const machine = windowsMachine('quser-2019-remote.txt');
    const sampler = new SessionSampler(machine.src, { intervalMs: 1000, idleThresholdSeconds: 600, onChange });
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    sampler.stop();
    sampler.start();
    await vi.advanceTimersByTimeAsync(0);
    sampler.stop();
    expect(reports).toHaveLength(2);
    expect(reports[1]).toEqual(reports[0]);
  });

  it('reports only changes from a state already sent, when started with it', async () => {
    vi.setSystemTime(Date.parse('2020-11-17T12:30:00Z'));
    const machine = windowsMachine('quser-2019-remote.txt');
    const sent = await readSessions(machine.src, 600, Date.now());
    const sampler = new SessionSampler(machine.src, { intervalMs: MINUTE, idleThresholdSeconds: 600, onChange });
    sampler.start(sent);
    await vi.advanceTimersByTimeAsync(5 * MINUTE);
    expect(reports).toEqual([]);
    machine.show('quser-2008r2-remote.txt');
    await vi.advanceTimersByTimeAsync(MINUTE);
    sampler.stop();
    expect(reports).toHaveLength(1);
  });

  it('refuses intervals and thresholds that make no sense', () => {
    const src = windowsMachine('quser-2019-remote.txt').src;
    expect(() => new SessionSampler(src, { intervalMs: 0, idleThresholdSeconds: 600, onChange })).toThrow(RangeError);
    expect(() => new SessionSampler(src, { intervalMs: 1000, idleThresholdSeconds: -1, onChange })).toThrow(RangeError);
  });
});
