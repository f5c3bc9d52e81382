import { afterEach, describe, expect, it } from 'vitest';
import { localUsers, readScreenlock } from './index.js';
import { expectValid, fakeRoot, fakeRunner, fixture, ok, removeFakeRoots, sources } from './test-support/screenlock-fixtures.js';

/** The real /etc/passwd and /etc/shells of this project's Debian 12 development machine. */
const passwd = fixture('linux/screenlock/passwd/passwd');
const shells = fixture('linux/screenlock/passwd/shells');

/** gsettings answering with the real default-settings capture. */
const gnomeDefaults = () =>
  fakeRunner((line) => (line.startsWith('gsettings get ') ? ok(fixture(`linux/screenlock/gsettings/defaults/${line.split(' ').pop()}.stdout`)) : undefined));

afterEach(removeFakeRoots);

describe('localUsers', () => {
  it('lists accounts that can log in to a desktop, from /etc/passwd', async () => {
    const root = fakeRoot({ 'etc/passwd': passwd, 'etc/shells': shells });
    expect(await localUsers(sources('linux', root, fakeRunner(() => undefined)))).toEqual([{ name: 'cloudsdk', uid: 1000, gid: 1000, home: '/home/cloudsdk' }]);
  });

  it('falls back to "not nologin/false" when /etc/shells is missing', async () => {
    const root = fakeRoot({ 'etc/passwd': `${passwd}guest:x:1001:1001::/home/guest:/usr/sbin/nologin\nodd:x:1002:1002::relative:/bin/sh\n` });
    expect((await localUsers(sources('linux', root, fakeRunner(() => undefined)))).map((u) => u.name)).toEqual(['cloudsdk']);
  });

  it('throws when /etc/passwd cannot be read', async () => {
    await expect(localUsers(sources('linux', fakeRoot(), fakeRunner(() => undefined)))).rejects.toThrow(/\/etc\/passwd does not exist/);
  });
});

describe('readScreenlock on Linux', () => {
  const alice = { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' };

  it('reports nothing when nobody is logged in', async () => {
    const runner = fakeRunner(() => undefined);
    expect(await readScreenlock(sources('linux', fakeRoot(), runner), [])).toEqual([]);
    expect(runner.calls).toEqual([]);
  });

  it('says so when neither GNOME nor KDE is found', async () => {
    const out = await readScreenlock(sources('linux', fakeRoot(), fakeRunner(() => undefined)), [alice]);
    expectValid(out);
    expect(out).toHaveLength(1);
    expect(out).toMatchObject([{ user: 'alice', enabled: { status: 'unknown', reason: expect.stringMatching(/no GNOME .* or KDE Plasma .* found/) } }]);
  });

  it('reads GNOME when gnome-shell is installed', async () => {
    const runner = gnomeDefaults();
    const out = await readScreenlock(sources('linux', fakeRoot({ 'usr/bin/gnome-shell': '' }), runner), [alice]);
    expectValid(out);
    expect(out).toMatchObject([{ desktop: 'gnome', idleTimeoutSeconds: { value: 300 } }]);
    expect(runner.unexpected).toEqual([]);
  });

  it('reads KDE when Plasma is installed or the user has a kscreenlockerrc', async () => {
    const installed = await readScreenlock(sources('linux', fakeRoot({ 'usr/bin/plasmashell': '' }), fakeRunner(() => undefined)), [alice]);
    expect(installed).toMatchObject([{ desktop: 'kde', idleTimeoutSeconds: { value: 300 } }]);
    const rc = fixture('linux/screenlock/kde/user/TomJo2000-timeout-15.kscreenlockerrc');
    const byFile = await readScreenlock(sources('linux', fakeRoot({ 'home/alice/.config/kscreenlockerrc': rc }), fakeRunner(() => undefined)), [alice]);
    expect(byFile).toMatchObject([{ desktop: 'kde', idleTimeoutSeconds: { value: 900 } }]);
  });

  it('reports both desktops when both are installed and the session is not known', async () => {
    const out = await readScreenlock(sources('linux', fakeRoot({ 'usr/bin/gnome-shell': '', 'usr/bin/plasmashell': '' }), gnomeDefaults()), [alice]);
    expectValid(out);
    expect(Array.isArray(out) && out.map((s) => s.desktop)).toEqual(['gnome', 'kde']);
  });

  it("follows the session's desktop when the caller knows it", async () => {
    const root = fakeRoot({ 'usr/bin/gnome-shell': '', 'usr/bin/plasmashell': '' });
    const kde = await readScreenlock(sources('linux', root, fakeRunner(() => undefined)), [{ ...alice, desktop: 'KDE' }]);
    expect(Array.isArray(kde) && kde.map((s) => s.desktop)).toEqual(['kde']);
    const ubuntu = await readScreenlock(sources('linux', root, gnomeDefaults()), [{ ...alice, desktop: 'ubuntu' }]);
    expect(Array.isArray(ubuntu) && ubuntu.map((s) => s.desktop)).toEqual(['gnome']);
    const xfce = await readScreenlock(sources('linux', root, fakeRunner(() => undefined)), [{ ...alice, desktop: 'xfce' }]);
    expectValid(xfce);
    expect(xfce).toMatchObject([{ desktop: 'xfce', enabled: { status: 'unknown', reason: expect.stringContaining('not read by this probe') } }]);
  });

  it('completes uid, gid and home from /etc/passwd, and says when a user is not there', async () => {
    const root = fakeRoot({ 'etc/passwd': passwd, 'usr/bin/gnome-shell': '' });
    const runner = gnomeDefaults();
    const out = await readScreenlock(sources('linux', root, runner), [{ name: 'cloudsdk' }, { name: 'ghost' }]);
    expectValid(out);
    expect(runner.calls[0]?.opts).toMatchObject({ uid: 1000, gid: 1000, env: { HOME: '/home/cloudsdk' } });
    expect(out).toMatchObject([{ user: 'cloudsdk', desktop: 'gnome' }, { user: 'ghost', enabled: { status: 'unknown', reason: expect.stringContaining('not in /etc/passwd') } }]);
  });

  it('caps hostile user names to what the schema accepts', async () => {
    const out = await readScreenlock(sources('linux', fakeRoot(), fakeRunner(() => undefined)), [{ ...alice, name: `${'x'.repeat(500)}\u0000\n` }]);
    expectValid(out);
  });

  it('is unknown on a platform it does not read', async () => {
    expect(await readScreenlock(sources('freebsd', fakeRoot(), fakeRunner(() => undefined)), [alice])).toEqual({
      status: 'unknown',
      reason: 'screen-lock settings are not read on freebsd',
    });
  });
});
