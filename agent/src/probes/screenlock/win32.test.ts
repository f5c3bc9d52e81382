import { afterEach, describe, expect, it } from 'vitest';
import type { CommandResult } from '../command-runner.js';
import { readScreenlock } from './index.js';
import { parseRegQuery, regNumber } from './reg-query.js';
import { profileNames } from './win32.js';
import { exit, expectValid, fakeRoot, fakeRunner, fixture, notFound, ok, removeFakeRoots, sources, timedOut } from './test-support/screenlock-fixtures.js';

/** Real `reg query` output from public sources (see test/fixtures/win32/screenlock/SOURCES.md). */
const W = 'win32/screenlock';
const SID = 'S-1-5-21-1304824241-3403877634-2989090281-1003'; // the user T2 in the ProfileList capture
const missing = () => exit(1, fixture(`${W}/not-found.stderr.txt`));

interface Machine {
  profiles?: CommandResult;
  inactivity?: CommandResult;
  grace?: CommandResult;
  desktop?: CommandResult;
  policy?: CommandResult;
}

function windows(m: Machine) {
  return fakeRunner((line) => {
    if (!line.startsWith('reg query ')) return undefined;
    if (line.includes('\\ProfileList /s /v ProfileImagePath')) return m.profiles ?? ok(fixture(`${W}/profilelist.txt`));
    if (line.endsWith('/v InactivityTimeoutSecs')) return m.inactivity ?? missing();
    if (line.endsWith('/v ScreenSaverGracePeriod')) return m.grace ?? missing();
    if (line === `reg query HKU\\${SID}\\Control Panel\\Desktop`) return m.desktop ?? ok(fixture(`${W}/desktop-default-user.txt`));
    if (line === `reg query HKU\\${SID}\\Software\\Policies\\Microsoft\\Windows\\Control Panel\\Desktop`) return m.policy ?? missing();
    return undefined;
  });
}

async function read(m: Machine, users = [] as { name: string; sid?: string }[]) {
  const runner = windows(m);
  const out = await readScreenlock(sources('win32', fakeRoot(), runner), users);
  expect(runner.unexpected).toEqual([]);
  expectValid(out);
  if (!Array.isArray(out)) throw new Error(`unexpected outcome ${JSON.stringify(out)}`);
  return { out, runner };
}

afterEach(removeFakeRoots);

describe('reg query parsing', () => {
  it('reads values, types, empty data and subkey lines of a real Control Panel\\Desktop dump', () => {
    const values = [...parseRegQuery(fixture(`${W}/desktop-default-user.txt`)).values()].flatMap((m) => [...m.values()]);
    expect(values).toHaveLength(46);
    expect(values.find((v) => v.name === 'ScreenSaveActive')).toEqual({ name: 'ScreenSaveActive', type: 'REG_SZ', data: '1' });
    expect(values.find((v) => v.name === 'WallPaper')).toEqual({ name: 'WallPaper', type: 'REG_SZ', data: '' });
    expect(regNumber(values.find((v) => v.name === 'ForegroundLockTimeout'))).toBe(200_000);
  });

  it('maps user SIDs to profile names, leaving out service accounts', () => {
    expect(profileNames(fixture(`${W}/profilelist.txt`))).toEqual(new Map([[SID, 'T2']]));
  });

  it('reads DWORD values printed without their key line', () => {
    const v = parseRegQuery(fixture(`${W}/inactivity-0x258.txt`)).get('')?.get('inactivitytimeoutsecs');
    expect(regNumber(v)).toBe(600);
  });
});

describe('readScreenlock on Windows', () => {
  it('reports a default user (no screen saver selected, no machine limit) as not locking', async () => {
    const { out } = await read({});
    expect(out).toEqual([
      {
        user: 'T2',
        enabled: { status: 'known', value: false, source: expect.stringContaining('SCRNSAVE.EXE not set: no screen saver selected') },
        idleTimeoutSeconds: { status: 'known', value: 0, source: 'never: no screen saver runs and no machine inactivity limit is set' },
        graceSeconds: { status: 'known', value: 5, source: 'default (ScreenSaverGracePeriod not set: Windows uses 5 s)' },
        passwordRequired: { status: 'known', value: false, source: expect.any(String) },
      },
    ]);
  });

  it('reports the machine inactivity limit, which locks at once', async () => {
    const { out } = await read({ inactivity: ok(fixture(`${W}/inactivity-0x258.txt`)) });
    expect(out[0]).toMatchObject({
      enabled: { status: 'known', value: true },
      idleTimeoutSeconds: { status: 'known', value: 600, source: expect.stringContaining('InactivityTimeoutSecs') },
      graceSeconds: { status: 'known', value: 0 },
      passwordRequired: { status: 'known', value: true },
    });
  });

  it('reports a password-protected screen saver, and Group Policy winning over the user', async () => {
    // The user key is constructed, not captured: no public capture holding SCRNSAVE.EXE was found.
    // Its lines follow the format of the real captures; the policy answers are real captures.
    const userKey = ok(`\r\nHKEY_USERS\\${SID}\\Control Panel\\Desktop\r\n    ScreenSaveActive    REG_SZ    1\r\n    SCRNSAVE.EXE    REG_SZ    C:\\Windows\\system32\\scrnsave.scr\r\n    ScreenSaveTimeOut    REG_SZ    900\r\n    ScreenSaverIsSecure    REG_SZ    1\r\n`);
    const mine = await read({ desktop: userKey });
    expect(mine.out[0]).toMatchObject({
      enabled: { status: 'known', value: true },
      idleTimeoutSeconds: { status: 'known', value: 900, source: `HKU\\${SID}\\Control Panel\\Desktop\\ScreenSaveTimeOut` },
      graceSeconds: { status: 'known', value: 5 },
      passwordRequired: { status: 'known', value: true },
    });
    // Policy sets a 300 s timeout; with a 600 s machine limit the screen saver still locks first.
    const policy = await read({ desktop: userKey, policy: ok(fixture(`${W}/hku-desktop-timeout-300.txt`)), inactivity: ok(fixture(`${W}/inactivity-0x258.txt`)) });
    expect(policy.out[0]).toMatchObject({ enabled: { value: true }, idleTimeoutSeconds: { value: 300, source: expect.stringContaining('(policy)') }, graceSeconds: { value: 5 } });
    // Policy turns password protection off: the screen saver still starts, but nothing locks.
    const unsecured = await read({ desktop: userKey, policy: ok(fixture(`${W}/desktop-issecure-0.txt`)) });
    expect(unsecured.out[0]).toMatchObject({ enabled: { value: false }, idleTimeoutSeconds: { value: 900 }, passwordRequired: { value: false } });
    // ... unless the machine limit locks anyway.
    const limited = await read({ desktop: userKey, policy: ok(fixture(`${W}/desktop-issecure-0.txt`)), inactivity: ok(fixture(`${W}/inactivity-0x12c.txt`)) });
    expect(limited.out[0]).toMatchObject({ enabled: { value: true }, idleTimeoutSeconds: { value: 300 }, graceSeconds: { value: 0 }, passwordRequired: { value: true } });
  });

  it('treats ScreenSaveTimeOut 0 as no screen saver', async () => {
    const { out } = await read({ policy: ok(fixture(`${W}/desktop-timeout-0.txt`)) });
    expect(out[0]?.idleTimeoutSeconds).toMatchObject({ status: 'known', value: 0 });
  });

  it('skips profiles whose hive is not loaded (nobody signed in)', async () => {
    const { out } = await read({ desktop: missing() });
    expect(out).toEqual([]);
  });

  it('reads only the SIDs the caller names, under the caller’s names', async () => {
    const { out, runner } = await read({}, [{ name: 'tina', sid: SID }]);
    expect(out.map((s) => s.user)).toEqual(['tina']);
    expect(runner.calls.some((c) => c.args.includes('HKU\\S-1-5-21-1304824241-3403877634-2989090281-1003\\Control Panel\\Desktop'))).toBe(true);
  });

  it('is unknown, not "off", when the machine limit cannot be read', async () => {
    const { out } = await read({ inactivity: exit(1, 'ERROR: Access is denied.\r\n') });
    expect(out[0]?.enabled).toEqual({ status: 'unknown', reason: 'reg query HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System /v InactivityTimeoutSecs: exited 1 (ERROR: Access is denied.)' });
    expect(out[0]?.idleTimeoutSeconds.status).toBe('unknown');
  });

  it('is unknown when a policy key cannot be read, since policy would win', async () => {
    const { out } = await read({ policy: timedOut() });
    expect(out[0]?.enabled.status === 'unknown' && out[0].enabled.reason).toMatch(/no answer within 10 s; Group Policy may override/);
  });

  it('rejects hostile values', async () => {
    const hostile = ok(`HKEY_USERS\\${SID}\\Control Panel\\Desktop\r\n    ScreenSaveActive    REG_SZ    yes\u001b[0m\r\n    SCRNSAVE.EXE    REG_SZ    evil.scr\r\n    ScreenSaveTimeOut    REG_SZ    -1\r\n`);
    const { out } = await read({ desktop: hostile, inactivity: ok('InactivityTimeoutSecs    REG_DWORD    0xffffffff\r\n') });
    expect(out[0]?.enabled.status).toBe('unknown');
    expect(JSON.stringify(out)).not.toContain('\\u001b');
  });

  it('is an unknown outcome when profiles cannot be listed at all', async () => {
    const runner = windows({ profiles: notFound() });
    expect(await readScreenlock(sources('win32', fakeRoot(), runner), [])).toEqual({
      status: 'unknown',
      reason: expect.stringContaining('reg query HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList: command not found'),
    });
  });
});
