import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parseKConfig } from './kconfig.js';
import { readKde } from './linux-kde.js';
import { expectValid, fakeRoot, fakeRunner, fixture, removeFakeRoots, sources } from './test-support/screenlock-fixtures.js';

/** Real kscreenlockerrc files from public repositories (see test/fixtures/linux/screenlock/SOURCES.md). */
const K = 'linux/screenlock/kde';
const bob = { name: 'bob', home: '/home/bob' };
const USER_RC = 'home/bob/.config/kscreenlockerrc';
const SYSTEM_RC = 'etc/xdg/kscreenlockerrc';

async function read(files: Record<string, string>) {
  const runner = fakeRunner(() => undefined);
  const s = await readKde(sources('linux', fakeRoot(files), runner), bob);
  expect(runner.calls).toEqual([]); // KDE is read from files only
  expectValid([s]);
  return s;
}

afterEach(removeFakeRoots);

describe('KDE Plasma screen lock from kscreenlockerrc', () => {
  it('applies the kscreenlocker defaults when there is no file, saying so', async () => {
    const s = await read({});
    expect(s).toEqual({
      user: 'bob',
      desktop: 'kde',
      enabled: { status: 'known', value: true, source: 'default (kscreenlocker Autolock=true)' },
      idleTimeoutSeconds: { status: 'known', value: 300, source: 'default (kscreenlocker Timeout=5) (minutes)' },
      graceSeconds: { status: 'known', value: 5, source: 'default (kscreenlocker LockGrace=5)' },
      passwordRequired: { status: 'known', value: true, source: 'default (kscreenlocker RequirePassword=true); default (kscreenlocker Lock=true)' },
    });
  });

  it('applies the defaults for a file without a [Daemon] group', async () => {
    const s = await read({ [USER_RC]: fixture(`${K}/user/9999years-no-daemon-group.kscreenlockerrc`) });
    expect(s.idleTimeoutSeconds).toMatchObject({ value: 300, source: expect.stringMatching(/^default/) });
  });

  it.each([
    ['chasinglogic-autolock-false', { enabled: false, idle: 300, grace: 5 }],
    ['RichGuk-lockgrace-45', { enabled: true, idle: 300, grace: 45 }],
    ['TomJo2000-timeout-15', { enabled: true, idle: 900, grace: 5 }],
    ['Omar-Elrefaei-timeout-10-grace-0', { enabled: true, idle: 600, grace: 0 }],
    ['ElectricR-autolock-false-timeout-27', { enabled: false, idle: 1620, grace: 5 }],
  ])('reads the user file %s', async (name, want) => {
    const s = await read({ [USER_RC]: fixture(`${K}/user/${name}.kscreenlockerrc`) });
    expect(s.enabled).toMatchObject({ status: 'known', value: want.enabled });
    expect(s.idleTimeoutSeconds).toMatchObject({ status: 'known', value: want.idle });
    expect(s.graceSeconds).toMatchObject({ status: 'known', value: want.grace });
    expect(s.passwordRequired).toMatchObject({ status: 'known', value: true });
  });

  it('names the file a value came from', async () => {
    const s = await read({ [USER_RC]: fixture(`${K}/user/TomJo2000-timeout-15.kscreenlockerrc`) });
    expect(s.idleTimeoutSeconds).toEqual({ status: 'known', value: 900, source: '/home/bob/.config/kscreenlockerrc [Daemon] Timeout (minutes)' });
  });

  it('takes system defaults from /etc/xdg, and lets the user override them', async () => {
    const system = fixture(`${K}/system/AOSC-autolock-timeout-15.kscreenlockerrc`);
    const only = await read({ [SYSTEM_RC]: system });
    expect(only.idleTimeoutSeconds).toEqual({ status: 'known', value: 900, source: '/etc/xdg/kscreenlockerrc [Daemon] Timeout (minutes)' });
    const both = await read({ [SYSTEM_RC]: system, [USER_RC]: fixture(`${K}/user/Omar-Elrefaei-timeout-10-grace-0.kscreenlockerrc`) });
    expect(both.idleTimeoutSeconds).toMatchObject({ value: 600, source: expect.stringContaining('/home/bob/') });
    const off = await read({ [SYSTEM_RC]: fixture(`${K}/system/KDE-bigscreen-autolock-false.kscreenlockerrc`) });
    expect(off.enabled).toEqual({ status: 'known', value: false, source: '/etc/xdg/kscreenlockerrc [Daemon] Autolock' });
  });

  it('ignores user values in a group the administrator made immutable ([$i])', async () => {
    const kiosk = fixture(`${K}/system/nixos-kiosk-immutable.kscreenlockerrc`);
    const s = await read({ [SYSTEM_RC]: kiosk, [USER_RC]: fixture(`${K}/user/ElectricR-autolock-false-timeout-27.kscreenlockerrc`) });
    expect(s.enabled).toEqual({ status: 'known', value: true, source: '/etc/xdg/kscreenlockerrc [Daemon] Autolock (immutable)' });
    expect(s.idleTimeoutSeconds).toMatchObject({ value: 300 });
    expect(s.graceSeconds).toMatchObject({ value: 0 });
    // Keys the locked group does not set still come from the defaults, not from the user.
    const nolock = await read({ [SYSTEM_RC]: fixture(`${K}/system/nixos-kiosk-nolock-immutable.kscreenlockerrc`), [USER_RC]: fixture(`${K}/user/TomJo2000-timeout-15.kscreenlockerrc`) });
    expect(nolock.enabled).toMatchObject({ value: false });
    expect(nolock.idleTimeoutSeconds).toMatchObject({ value: 300, source: expect.stringMatching(/^default/) });
  });

  it('honours a key-level or file-level immutable marker', async () => {
    const keyLocked = await read({ [SYSTEM_RC]: '[Daemon]\nTimeout[$i]=2\n', [USER_RC]: fixture(`${K}/user/TomJo2000-timeout-15.kscreenlockerrc`) });
    expect(keyLocked.idleTimeoutSeconds).toMatchObject({ value: 120, source: expect.stringContaining('(immutable)') });
    const fileLocked = await read({ [SYSTEM_RC]: '[$i]\n[Daemon]\nLockGrace=1\n', [USER_RC]: fixture(`${K}/user/RichGuk-lockgrace-45.kscreenlockerrc`) });
    expect(fileLocked.graceSeconds).toMatchObject({ value: 1 });
  });

  it('reports no password when the locker is told not to ask for one', async () => {
    expect((await read({ [USER_RC]: '[Daemon]\nLock=false\n' })).passwordRequired).toMatchObject({ status: 'known', value: false });
    expect((await read({ [USER_RC]: '[Daemon]\nRequirePassword=false\n' })).passwordRequired).toMatchObject({ status: 'known', value: false });
  });

  it('rejects garbage and hostile values field by field', async () => {
    const s = await read({ [USER_RC]: '[Daemon]\nAutolock=maybe\nTimeout=-5\nLockGrace=1e9\nRequirePassword=\u001b[2Jyes\n' });
    expect(s.enabled.status === 'unknown' && s.enabled.reason).toMatch(/unexpected Autolock value .*"maybe"/);
    expect(s.idleTimeoutSeconds.status).toBe('unknown');
    expect(s.graceSeconds.status).toBe('unknown');
    expect(s.passwordRequired.status).toBe('unknown');
    expect(JSON.stringify(s)).not.toMatch(/\\u001b/);
    const huge = await read({ [USER_RC]: `[Daemon]\nTimeout=99999999\n` });
    expect(huge.idleTimeoutSeconds.status).toBe('unknown');
  });

  it('is unknown when a file cannot be read, rather than falling back to defaults', async () => {
    const root = fakeRoot({ 'home/bob/.config/placeholder': '' });
    fs.mkdirSync(path.join(root, SYSTEM_RC), { recursive: true }); // a directory where the file should be
    const s = await readKde(sources('linux', root, fakeRunner(() => undefined)), bob);
    expect(s.enabled.status === 'unknown' && s.enabled.reason).toMatch(/kscreenlockerrc is not a regular file; it may set or lock Autolock/);
    expectValid([s]);
  });

  it('does not follow a symlink or block on a FIFO planted in the home directory', async () => {
    const root = fakeRoot({ 'etc/secret': '[Daemon]\nTimeout=1\n', 'home/bob/.config/x': '' });
    fs.symlinkSync(path.join(root, 'etc/secret'), path.join(root, USER_RC));
    const linked = await readKde(sources('linux', root, fakeRunner(() => undefined)), bob);
    expect(linked.idleTimeoutSeconds.status === 'unknown' && linked.idleTimeoutSeconds.reason).toMatch(/symbolic link/);
    fs.rmSync(path.join(root, USER_RC));
    execFileSync('mkfifo', [path.join(root, USER_RC)]);
    const fifo = await readKde(sources('linux', root, fakeRunner(() => undefined)), bob);
    expect(fifo.idleTimeoutSeconds.status === 'unknown' && fifo.idleTimeoutSeconds.reason).toMatch(/not a regular file/);
  });

  it('refuses an oversized file', async () => {
    const s = await read({ [USER_RC]: `[Daemon]\nTimeout=5\n${'#'.repeat(300 * 1024)}\n` });
    expect(s.idleTimeoutSeconds.status === 'unknown' && s.idleTimeoutSeconds.reason).toMatch(/larger than/);
  });
});

describe('KConfig parsing', () => {
  it('reads groups, kiosk markers, and skips comments and localised keys', () => {
    const f = parseKConfig('[$i]\n# comment\n[Daemon][$i]\n Timeout = 7 \nName[de]=x\nLockGrace[$i]=3\n[Greeter][Wallpaper][org.kde.image][General]\nImage=a\n');
    expect(f.immutable).toBe(true);
    const d = f.groups.get('Daemon');
    expect(d?.immutable).toBe(true);
    expect(d?.entries.get('Timeout')).toEqual({ value: '7', immutable: false });
    expect(d?.entries.get('LockGrace')).toEqual({ value: '3', immutable: true });
    expect(d?.entries.has('Name')).toBe(false);
    expect(f.groups.get('Greeter/Wallpaper/org.kde.image/General')?.entries.get('Image')?.value).toBe('a');
  });

  it('keeps the first value of a key marked immutable within the same file', () => {
    expect(parseKConfig('[Daemon]\nTimeout[$i]=1\nTimeout=9\n').groups.get('Daemon')?.entries.get('Timeout')?.value).toBe('1');
  });
});
