import { afterEach, describe, expect, it } from 'vitest';
import type { CommandResult } from '../command-runner.js';
import { readGnome } from './linux-gnome.js';
import { exit, expectValid, fakeRoot, fakeRunner, fixture, notFound, ok, removeFakeRoots, sources, timedOut } from './test-support/screenlock-fixtures.js';

/** Real `gsettings get` output captured on Debian 12 (see test/fixtures/linux/screenlock/SOURCES.md). */
const G = 'linux/screenlock/gsettings';
const alice = { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' };

/** Answer each key from a capture folder, with per-key overrides. */
function gsettings(folder: string, override: Partial<Record<string, CommandResult>> = {}) {
  return fakeRunner((line) => {
    const key = line.split(' ').pop() ?? '';
    if (!line.startsWith('gsettings get ')) return undefined;
    return override[key] ?? ok(fixture(`${G}/${folder}/${key}.stdout`));
  });
}

afterEach(removeFakeRoots);

describe('GNOME screen lock from gsettings', () => {
  it('reads the defaults of a user who never changed anything', async () => {
    const runner = gsettings('defaults');
    const s = await readGnome(sources('linux', fakeRoot(), runner), alice);
    expect(s).toMatchObject({
      user: 'alice',
      desktop: 'gnome',
      enabled: { status: 'known', value: true },
      idleTimeoutSeconds: { status: 'known', value: 300, source: 'gsettings org.gnome.desktop.session idle-delay' },
      graceSeconds: { status: 'known', value: 0, source: 'gsettings org.gnome.desktop.screensaver lock-delay' },
      passwordRequired: { status: 'known', value: true },
    });
    expectValid([s]);
    expect(runner.unexpected).toEqual([]);
    expect(runner.calls.map((c) => c.args.join(' ')).sort()).toEqual([
      'get org.gnome.desktop.lockdown disable-lock-screen',
      'get org.gnome.desktop.screensaver lock-delay',
      'get org.gnome.desktop.screensaver lock-enabled',
      'get org.gnome.desktop.session idle-delay',
    ]);
  });

  it('runs gsettings as the user, with no session bus when /run/user/<uid> is absent', async () => {
    const runner = gsettings('defaults');
    await readGnome(sources('linux', fakeRoot(), runner), alice);
    for (const c of runner.calls) {
      expect(c.opts).toMatchObject({ uid: 1000, gid: 1000 });
      expect(c.opts?.env).toEqual({ HOME: '/home/alice', USER: 'alice', LOGNAME: 'alice', LANG: 'C.UTF-8', GSETTINGS_BACKEND: 'dconf' });
    }
  });

  it("passes the user's runtime dir and session bus when they exist", async () => {
    const runner = gsettings('defaults');
    await readGnome(sources('linux', fakeRoot({ 'run/user/1000/bus': '' }), runner), alice);
    expect(runner.calls[0]?.opts?.env).toMatchObject({ XDG_RUNTIME_DIR: '/run/user/1000', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' });
  });

  it('reads values a user set (read back without a session bus)', async () => {
    const s = await readGnome(sources('linux', fakeRoot(), gsettings('configured')), alice);
    expect(s.enabled).toEqual({ status: 'known', value: false, source: 'gsettings org.gnome.desktop.lockdown disable-lock-screen' });
    expect(s.idleTimeoutSeconds).toMatchObject({ status: 'known', value: 900 });
    expect(s.graceSeconds).toMatchObject({ status: 'known', value: 30 });
    expect(s.passwordRequired).toMatchObject({ status: 'known', value: false });
    expectValid([s]);
  });

  it('lock-enabled false alone turns the lock off', async () => {
    const runner = gsettings('defaults', { 'lock-enabled': ok(fixture(`${G}/configured/lock-enabled.stdout`)) });
    const s = await readGnome(sources('linux', fakeRoot(), runner), alice);
    expect(s.enabled).toEqual({ status: 'known', value: false, source: 'gsettings org.gnome.desktop.screensaver lock-enabled' });
  });

  it('is unknown, field by field, when gsettings is not installed', async () => {
    const s = await readGnome(sources('linux', fakeRoot(), fakeRunner(() => notFound())), alice);
    for (const f of [s.enabled, s.idleTimeoutSeconds, s.graceSeconds, s.passwordRequired]) {
      expect(f).toMatchObject({ status: 'unknown' });
      expect(f.status === 'unknown' && f.reason).toMatch(/gsettings get .*: command not found/);
    }
    expectValid([s]);
  });

  it('is unknown when the GNOME schemas are not installed', async () => {
    const noSchema = exit(1, fixture(`${G}/errors/no-such-schema.stderr`));
    const s = await readGnome(sources('linux', fakeRoot(), fakeRunner(() => noSchema)), alice);
    expect(s.idleTimeoutSeconds.status === 'unknown' && s.idleTimeoutSeconds.reason).toMatch(/exited 1 \(No such schema/);
    const none = exit(1, fixture(`${G}/errors/no-schemas-installed.stderr`));
    const t = await readGnome(sources('linux', fakeRoot(), fakeRunner(() => none)), alice);
    expect(t.enabled.status === 'unknown' && t.enabled.reason).toMatch(/No schemas installed/);
  });

  it("does not trust the value printed when dconf could not read the user's database", async () => {
    // gsettings printed the schema default (300) with exit 0; the user had set 900.
    const unreadable = ok(fixture(`${G}/errors/unreadable-user-db.stdout`), fixture(`${G}/errors/unreadable-user-db.stderr`));
    const s = await readGnome(sources('linux', fakeRoot(), gsettings('configured', { 'idle-delay': unreadable })), alice);
    expect(s.idleTimeoutSeconds.status).toBe('unknown');
    expect(s.idleTimeoutSeconds.status === 'unknown' && s.idleTimeoutSeconds.reason).toMatch(/dconf could not read .*dconf-CRITICAL/);
    expect(s.graceSeconds).toMatchObject({ status: 'known', value: 30 });
  });

  it('does not trust the in-memory fallback when the dconf module is missing', async () => {
    const noDconf = ok(fixture(`${G}/errors/no-dconf-module.stdout`), fixture(`${G}/errors/no-dconf-module.stderr`));
    const s = await readGnome(sources('linux', fakeRoot(), gsettings('defaults', { 'idle-delay': noDconf })), alice);
    expect(s.idleTimeoutSeconds.status === 'unknown' && s.idleTimeoutSeconds.reason).toMatch(/GLib-GIO-WARNING/);
  });

  it('is unknown when gsettings hangs', async () => {
    const s = await readGnome(sources('linux', fakeRoot(), gsettings('defaults', { 'idle-delay': timedOut() })), alice);
    expect(s.idleTimeoutSeconds).toEqual({ status: 'unknown', reason: 'gsettings get org.gnome.desktop.session idle-delay: no answer within 5 s' });
  });

  it('rejects garbage and hostile values instead of guessing', async () => {
    for (const [key, text] of [
      ['idle-delay', 'uint32 -1\n'],
      ['idle-delay', 'uint32 99999999999\n'],
      ['idle-delay', "'300'\n"],
      ['lock-delay', 'uint32 5\nuint32 6\n'],
      ['lock-enabled', 'True\n'],
      ['lock-enabled', '\u001b[31mtrue\u0007\n'],
    ] as const) {
      const s = await readGnome(sources('linux', fakeRoot(), gsettings('defaults', { [key]: ok(text) })), alice);
      const f = key === 'idle-delay' ? s.idleTimeoutSeconds : key === 'lock-delay' ? s.graceSeconds : s.enabled;
      expect(f.status).toBe('unknown');
      // eslint-disable-next-line no-control-regex
      expect(f.status === 'unknown' && f.reason).not.toMatch(/[\u0000-\u001f]/);
      expectValid([s]);
    }
  });

  it('settles the lock as off when lock-enabled is false even if the lockdown key is unreadable', async () => {
    const runner = gsettings('configured', { 'disable-lock-screen': notFound() });
    const s = await readGnome(sources('linux', fakeRoot(), runner), alice);
    expect(s.enabled).toMatchObject({ status: 'known', value: false });
    const on = await readGnome(sources('linux', fakeRoot(), gsettings('defaults', { 'disable-lock-screen': notFound() })), alice);
    expect(on.enabled.status).toBe('unknown');
  });
});
