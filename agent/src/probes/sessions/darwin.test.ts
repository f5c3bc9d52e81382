import { SessionState } from '@vigil/shared';
import { describe, expect, it } from 'vitest';
import { macGuiSessions, parseConsoleUsers, parseHidIdleNanos, parseWhoRemote, readMacSessions } from './darwin.js';
import { ioregPropertyText, parseIoregValue } from './ioreg-text.js';
import { failed, fixture, notFound, ok, scriptedRunner, sourcesFor } from './test-support/fixture-runner.js';

const now = Date.parse('2025-01-10T12:00:00.500Z');

describe('ioreg text values', () => {
  it('reads dictionaries, quoted strings with spaces and punctuation, numbers and data', () => {
    const hid = fixture('darwin', 'ioreg-hid.txt');
    expect(parseIoregValue(ioregPropertyText(hid, 'CursorState') ?? '')).toEqual({
      'LastMoveCursor (Seconds ago)': '1278.737873',
      'LastShowCursor (Seconds ago)': '1278.737868',
      'LastHideCursor (Seconds ago)': '1278.737872',
    });
    const root = fixture('darwin', 'ioreg-root-unlocked.txt');
    expect(parseIoregValue(ioregPropertyText(root, 'IONDRVFramebufferGeneration') ?? '')).toBe('<0100000001000000>');
    expect(parseIoregValue(ioregPropertyText(root, 'OSKernelCPUType') ?? '')).toBe(16777223);
    expect(() => parseIoregValue('({"kCGSSessionOnConsoleKey"=Yes')).toThrow();
  });
});

describe('macOS GUI sessions', () => {
  it('reads the console user, unlocked, from Root (IOConsoleLocked = No, no lock key)', () => {
    const users = parseConsoleUsers(fixture('darwin', 'ioreg-root-unlocked.txt'));
    expect(users.consoleLocked).toBe(false);
    expect(macGuiSessions(users, undefined, 900, now)).toEqual([
      { id: '257', user: 'nicolasholecek', locked: false, idle: null, remote: false, seat: 'console', type: 'gui' },
    ]);
  });

  it('reads a locked console session from CGSSessionScreenIsLocked', () => {
    const users = parseConsoleUsers(fixture('darwin', 'ioreg-root-locked.txt'));
    expect(users.consoleLocked).toBeUndefined();
    const sessions = macGuiSessions(users, undefined, 900, now);
    expect(sessions).toEqual([{ id: '257', user: 'hanguyen', locked: true, idle: null, remote: false, seat: 'console', type: 'gui' }]);
    for (const s of sessions) expect(SessionState.parse(s)).toEqual(s);
  });

  it('takes the console idle time from HIDIdleTime, in nanoseconds', () => {
    const hidNanos = parseHidIdleNanos(fixture('darwin', 'ioreg-hid.txt'));
    expect(hidNanos).toBe(317321627);
    const users = parseConsoleUsers(fixture('darwin', 'ioreg-root-unlocked.txt'));
    // 0.32 s without input: below a 1 s threshold, beyond a 0 s one.
    expect(macGuiSessions(users, hidNanos, 1, now)[0]).toMatchObject({ idle: false });
    const idle = macGuiSessions(users, hidNanos, 0, now)[0];
    expect(idle).toMatchObject({ idle: true, idleSince: '2025-01-10T12:00:00Z' });
    expect(SessionState.parse(idle)).toEqual(idle);
  });

  it('finds remote logins in who output, and none in local terminals', () => {
    expect(parseWhoRemote(fixture('darwin', 'who-console.txt'))).toEqual([]);
    expect(parseWhoRemote(fixture('darwin', 'who-remote.txt'))).toEqual([{ user: 'the5fire', tty: 'ttys018' }]);
  });
});

describe('reading a Mac', () => {
  const answers = (root: string) =>
    scriptedRunner((file, args) => {
      if (file === 'ioreg' && args.includes('Root')) return ok(root);
      if (file === 'ioreg' && args.includes('IOHIDSystem')) return ok(fixture('darwin', 'ioreg-hid.txt'));
      if (file === 'who') return ok(fixture('darwin', 'who-remote.txt'));
      return undefined;
    });

  it('reports the GUI session and the ssh login', async () => {
    const { runner, calls } = answers(fixture('darwin', 'ioreg-root-unlocked.txt'));
    const sessions = (await readMacSessions(sourcesFor('darwin', runner), 900, now)) as SessionState[];
    expect(sessions).toEqual([
      { id: '257', user: 'nicolasholecek', locked: false, idle: false, remote: false, seat: 'console', type: 'gui' },
      { id: 'ttys018', user: 'the5fire', locked: null, idle: null, remote: true, type: 'tty' },
    ]);
    expect(calls).toEqual([
      ['ioreg', '-n', 'Root', '-d', '1', '-w', '0'],
      ['ioreg', '-c', 'IOHIDSystem', '-d', '4', '-r', '-k', 'HIDIdleTime', '-w', '0'],
      ['who'],
    ]);
  });

  it('still reports the sessions when HIDIdleTime cannot be read, with idle unknown', async () => {
    const { runner } = scriptedRunner((file, args) => {
      if (file === 'ioreg' && args.includes('Root')) return ok(fixture('darwin', 'ioreg-root-locked.txt'));
      if (file === 'who') return ok(fixture('darwin', 'who-console.txt'));
      return failed('ioreg: timed out');
    });
    expect(await readMacSessions(sourcesFor('darwin', runner), 900, now)).toEqual([
      { id: '257', user: 'hanguyen', locked: true, idle: null, remote: false, seat: 'console', type: 'gui' },
    ]);
  });

  it('is unknown, with the reason, when ioreg is missing or prints nothing readable', async () => {
    const missing = scriptedRunner(() => notFound).runner;
    expect(await readMacSessions(sourcesFor('darwin', missing), 900, now)).toEqual({ status: 'unknown', reason: 'ioreg -n Root is not installed' });
    const garbage = answers('ioreg: no such entry').runner;
    expect(await readMacSessions(sourcesFor('darwin', garbage), 900, now)).toEqual({
      status: 'unknown',
      reason: 'ioreg -n Root printed nothing readable: no Root entry in ioreg output',
    });
  });
});
