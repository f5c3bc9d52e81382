import { SessionState } from '@vigil/shared';
import { describe, expect, it } from 'vitest';
import { failed, fixture, notFound, ok, scriptedRunner, sourcesFor } from './test-support/fixture-runner.js';
import { parseQuserRows, quserIdleMinutes, readWindowsSessions, windowsSessions } from './win32.js';

const now = Date.parse('2017-07-21T06:00:30Z');

describe('quser rows', () => {
  it('reads every row, with and without a session name, and the current-session marker', () => {
    expect(parseQuserRows(fixture('win32', 'quser-four-users.txt'))).toEqual([
      { user: 'admin.xxxxxxxx', sessionName: '', id: '2', state: 'Disc', idleTime: '15+15:12' },
      { user: 'admin.xxxxx', sessionName: 'rdp-tcp#54', id: '3', state: 'Active', idleTime: '1:39' },
      { user: 'xxxxxxxx', sessionName: '', id: '4', state: 'Disc', idleTime: '6+04:10' },
      { user: 'vertigoray', sessionName: 'console', id: '5', state: 'Active', idleTime: '.' },
    ]);
  });

  it('reads localised output by its shape, not its header', () => {
    expect(parseQuserRows(fixture('win32', 'quser-es-ec.txt'))).toEqual([
      { user: 'mabe-b3', sessionName: 'console', id: '1', state: 'Activo', idleTime: 'ninguno' },
      { user: 'otro00', sessionName: '', id: '2', state: 'Desc', idleTime: '2' },
    ]);
  });

  it.each([
    ['.', 0],
    ['5', 5],
    ['1:02', 62],
    ['2+03:04', 2 * 1440 + 3 * 60 + 4],
    ['none', null],
    ['ninguno', null],
    ['24692+13:29', null],
  ])('reads IDLE TIME %s as %s minutes', (text, minutes) => {
    expect(quserIdleMinutes(text)).toBe(minutes);
  });
});

describe('Windows sessions', () => {
  it('reports connected sessions, idle from IDLE TIME, remote from the session name, lock unknown', () => {
    const sessions = windowsSessions(fixture('win32', 'quser-four-users.txt'), 60, now);
    expect(sessions).toEqual([
      // 1:39 idle: last input in the minute starting 04:21.
      { id: '3', user: 'admin.xxxxx', locked: null, idle: true, idleSince: '2017-07-21T04:21:00Z', remote: true, type: 'rdp' },
      { id: '5', user: 'vertigoray', locked: null, idle: false, remote: false, seat: 'console', type: 'console' },
    ]);
    for (const s of sessions) expect(SessionState.parse(s)).toEqual(s);
  });

  it('says not idle below the threshold', () => {
    const sessions = windowsSessions(fixture('win32', 'quser-four-users.txt'), 100 * 60, now);
    expect(sessions.find((s) => s.id === '3')).toEqual({ id: '3', user: 'admin.xxxxx', locked: null, idle: false, remote: true, type: 'rdp' });
  });

  it('reports idle as unknown where quser prints none for the console', () => {
    expect(windowsSessions(fixture('win32', 'quser-console-none.txt'), 60, now)).toEqual([
      { id: '1', user: 'vertigoray', locked: null, idle: null, remote: false, seat: 'console', type: 'console' },
    ]);
    expect(windowsSessions(fixture('win32', 'quser-es-ec.txt'), 60, now)).toEqual([
      { id: '1', user: 'mabe-b3', locked: null, idle: null, remote: false, seat: 'console', type: 'console' },
    ]);
  });

  it('distrusts the impossible idle times of Windows Server 2008 R2', () => {
    const sessions = windowsSessions(fixture('win32', 'quser-2008r2-remote.txt'), 300, now);
    expect(sessions.map((s) => [s.id, s.idle])).toEqual([
      ['30', false],
      ['42', null],
      ['55', true],
    ]);
  });

  it('runs quser and reads its rows', async () => {
    const { runner, calls } = scriptedRunner((file) => (file === 'quser' ? ok(fixture('win32', 'quser-2019-remote.txt')) : undefined));
    const sessions = (await readWindowsSessions(sourcesFor('win32', runner), 600, now)) as SessionState[];
    expect(sessions.map((s) => [s.id, s.user, s.idle, s.remote])).toEqual([
      ['30', 'user1', false, true],
      ['42', 'user2', false, true],
      ['55', 'user3', true, true],
    ]);
    expect(calls).toEqual([['quser']]);
  });

  it('reports no sessions when nobody is signed in', async () => {
    const { runner } = scriptedRunner(() => failed(fixture('win32', 'quser-no-user.stderr.txt')));
    expect(await readWindowsSessions(sourcesFor('win32', runner), 600, now)).toEqual([]);
  });

  it('is unknown, with the reason, when quser is missing or fails', async () => {
    const missing = scriptedRunner(() => notFound).runner;
    expect(await readWindowsSessions(sourcesFor('win32', missing), 600, now)).toEqual({
      status: 'unknown',
      reason: 'quser.exe is not available (Windows Home editions do not include it)',
    });
    const broken = scriptedRunner(() => failed('Error 5 getting sessionnames', 1)).runner;
    expect(await readWindowsSessions(sourcesFor('win32', broken), 600, now)).toEqual({
      status: 'unknown',
      reason: 'quser failed (exit 1): Error 5 getting sessionnames',
    });
  });
});
