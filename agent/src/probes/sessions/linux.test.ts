import { SessionState } from '@vigil/shared';
import { describe, expect, it } from 'vitest';
import { systemRunner } from '../command-runner.js';
import { linuxSessionState, parsePropertyBlocks, parseSessionList, readLinuxSessions } from './linux.js';
import { readSessions } from './read-sessions.js';
import { failed, fixture, notFound, ok, scriptedRunner, sourcesFor } from './test-support/fixture-runner.js';

const at = (iso: string): number => Date.parse(iso);
const block = (name: string): Map<string, string> => {
  const [first] = parsePropertyBlocks(fixture('linux', name));
  if (!first) throw new Error(`no properties in ${name}`);
  return first;
};

/** loginctl on systemd 252 talking to the dbusmock logind (see SOURCES.md). */
function dbusmockLoginctl(show: (args: readonly string[]) => string | undefined = () => undefined) {
  return scriptedRunner((file, args) => {
    if (file !== 'loginctl') return undefined;
    if (args[0] === 'list-sessions') return ok(fixture('linux', 'dbusmock/list-sessions-no-legend-o-json.txt'));
    const own = show(args);
    if (own !== undefined) return ok(own);
    if (args[0] === 'show-session' && args.slice(1, 5).join(' ') === '2 5 7 c1') return ok(fixture('linux', 'dbusmock/show-session-2-5-7-c1.txt'));
    return undefined;
  });
}

describe('loginctl list-sessions', () => {
  it.each([
    ['list-sessions-v252-el9.json', ['1']],
    ['list-sessions-v256-json-short.json', ['3']],
    ['list-sessions-v256-o-json-ignored.txt', ['1', '10', '9', 'c1']],
    ['list-sessions-v257-no-legend.txt', ['2', '3', '4', 'c2']],
    ['list-sessions-tty-idle.txt', ['248', '269', '4', '5']],
    ['list-sessions-v245-legacy.txt', ['2', 'c1']],
    ['dbusmock/list-sessions.txt', ['2', '5', '7', 'c1']],
    ['dbusmock/list-sessions-no-legend-o-json.txt', ['2', '5', '7', 'c1']],
  ])('reads the session ids of %s (JSON or table, header and footer or not)', (name, ids) => {
    expect(parseSessionList(fixture('linux', name))).toEqual(ids);
  });

  it('refuses JSON it cannot read instead of guessing', () => {
    expect(() => parseSessionList('[{"session":')).toThrow();
  });
});

describe('logind sessions', () => {
  const now = at('2026-01-06T09:20:00Z');

  it('reports user sessions with lock and idle state and leaves out the greeter', async () => {
    const { runner, calls } = dbusmockLoginctl();
    const sessions = await readLinuxSessions(sourcesFor('linux', runner), 900, now);
    expect(sessions).toEqual([
      // wayland, LockedHint=yes, IdleHint=yes since 09:00 — 20 minutes ≥ 15.
      { id: '2', user: 'alice', locked: true, idle: true, idleSince: '2026-01-06T09:00:00Z', remote: false, seat: 'seat0', type: 'wayland' },
      // x11 whose desktop maintains the hint (IdleSinceHint set) and says not idle.
      { id: '5', user: 'bob', locked: false, idle: false, remote: false, seat: 'seat0', type: 'x11' },
      // ssh tty without LockedHint (systemd < 230) and without a terminal time: the OS does not say.
      { id: '7', user: 'carol', locked: null, idle: null, remote: true, type: 'tty' },
    ]);
    for (const s of sessions as SessionState[]) expect(SessionState.parse(s)).toEqual(s);
    // One listing and one show-session for all of them.
    expect(calls.map((c) => c[1])).toEqual(['list-sessions', 'show-session']);
  });

  it('says not idle while idleness is below the threshold', async () => {
    const { runner } = dbusmockLoginctl();
    const sessions = (await readLinuxSessions(sourcesFor('linux', runner), 1800, now)) as SessionState[];
    expect(sessions.find((s) => s.id === '2')).toMatchObject({ idle: false });
    expect(sessions.find((s) => s.id === '2')).not.toHaveProperty('idleSince');
  });

  it('asks per session when one show-session call answers for the first session only (systemd < 233)', async () => {
    const first = fixture('linux', 'dbusmock/show-session-2.txt');
    const { runner, calls } = dbusmockLoginctl((args) => {
      if (args.slice(1, 5).join(' ') === '2 5 7 c1') return [first, first, first, first].join('\n');
      if (args[1] === '5' || args[1] === '7' || args[1] === 'c1') return fixture('linux', `dbusmock/show-session-${args[1]}.txt`);
      return undefined;
    });
    const sessions = (await readLinuxSessions(sourcesFor('linux', runner), 900, now)) as SessionState[];
    expect(sessions.map((s) => s.id)).toEqual(['2', '5', '7']);
    expect(calls).toHaveLength(5);
  });

  it('computes idleness of an ssh session from the terminal time logind reports', () => {
    // IdleSinceHint=1743502416000000 is 10:13:36Z, the pts's last input.
    const ssh = block('show-session-ssh-v257.txt');
    const nowSsh = at('2025-04-01T10:20:00Z');
    expect(linuxSessionState(ssh, 300, nowSsh)).toEqual({
      id: '21',
      user: 'meriel',
      locked: null,
      idle: true,
      idleSince: '2025-04-01T10:13:36Z',
      remote: true,
      type: 'tty',
    });
    expect(linuxSessionState(ssh, 900, nowSsh)).toMatchObject({ idle: false, remote: true });
  });

  it('reports idle as unknown for a desktop that never sets the idle hint', () => {
    const deepin = linuxSessionState(block('show-session-x11-deepin.txt'), 900, now);
    expect(deepin).toEqual({ id: '1', user: 'uos', locked: false, idle: null, remote: false, seat: 'seat0', type: 'x11' });
    expect(SessionState.parse(deepin)).toEqual(deepin);
  });

  it('leaves out greeter sessions', () => {
    expect(linuxSessionState(block('dbusmock/show-session-c1.txt'), 900, now)).toBeUndefined();
  });

  it('skips a session that ended between listing and showing', async () => {
    const { runner } = dbusmockLoginctl((args) => (args.slice(1, 5).join(' ') === '2 5 7 c1' ? fixture('linux', 'dbusmock/show-session-2.txt') : undefined));
    const sessions = (await readLinuxSessions(sourcesFor('linux', runner), 900, now)) as SessionState[];
    expect(sessions.map((s) => s.id)).toEqual(['2']);
  });

  it('is unknown, with the reason, when loginctl is missing', async () => {
    const { runner } = scriptedRunner(() => notFound);
    expect(await readLinuxSessions(sourcesFor('linux', runner), 900, now)).toEqual({
      status: 'unknown',
      reason: 'loginctl is not installed: there is no systemd-logind or elogind to ask',
    });
  });

  it('is unknown, saying logind is not running, on a machine not booted with systemd', async () => {
    const { runner } = scriptedRunner(() => failed(fixture('linux', 'no-systemd.stderr.txt')));
    const outcome = await readLinuxSessions(sourcesFor('linux', runner), 900, now);
    expect(outcome).toEqual({
      status: 'unknown',
      reason: expect.stringMatching(/^systemd-logind is not running \(loginctl: System has not been booted with systemd/),
    });
  });

  it('reads this machine through the real runner without throwing', async () => {
    const outcome = await readSessions(sourcesFor('linux', systemRunner), 900);
    if (Array.isArray(outcome)) for (const s of outcome) expect(SessionState.parse(s)).toEqual(s);
    else expect(outcome.reason).toMatch(/loginctl|logind/);
  });
});
