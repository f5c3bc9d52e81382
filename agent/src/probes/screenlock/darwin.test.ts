import { afterEach, describe, expect, it } from 'vitest';
import type { CommandResult } from '../command-runner.js';
import { parseSysadminctl } from './darwin.js';
import { readScreenlock } from './index.js';
import { exit, expectValid, fakeRoot, fakeRunner, fixture, notFound, ok, removeFakeRoots, sources } from './test-support/screenlock-fixtures.js';

/** Real macOS output (see test/fixtures/darwin/screenlock/SOURCES.md); sysadminctl answers on stderr. */
const D = 'darwin/screenlock';
const status = (name: string) => ok('', fixture(`${D}/sysadminctl-${name}.stderr`));
const unset = () => exit(1, fixture(`${D}/defaults-idletime-unset.stderr`));
const carol = { name: 'carol', uid: 501, gid: 20, home: '/Users/carol' };

interface Mac {
  sysadminctl?: CommandResult;
  idle?: CommandResult;
  ask?: CommandResult;
  delay?: CommandResult;
  managed?: Record<string, CommandResult>;
}

function mac(m: Mac) {
  return fakeRunner((line) => {
    if (line === 'sysadminctl -screenLock status') return m.sysadminctl ?? status('immediate');
    if (line === 'defaults -currentHost read com.apple.screensaver idleTime') return m.idle ?? ok(fixture(`${D}/defaults-idletime-600.stdout`));
    if (line === 'defaults read com.apple.screensaver askForPassword') return m.ask ?? unset();
    if (line === 'defaults read com.apple.screensaver askForPasswordDelay') return m.delay ?? unset();
    const managed = /^defaults read (.*Managed Preferences.*) (\w+)$/.exec(line);
    if (managed) return m.managed?.[`${managed[1]?.replace(/^.*Managed Preferences/, '')} ${managed[2]}`] ?? unset();
    return undefined;
  });
}

async function read(m: Mac, files: Record<string, string> = {}) {
  const runner = mac(m);
  const out = await readScreenlock(sources('darwin', fakeRoot(files), runner), [carol]);
  expect(runner.unexpected).toEqual([]);
  expectValid(out);
  if (!Array.isArray(out) || !out[0]) throw new Error(`unexpected outcome ${JSON.stringify(out)}`);
  return { s: out[0], runner };
}

afterEach(removeFakeRoots);

describe('sysadminctl -screenLock status', () => {
  it.each([
    ['immediate', true, 0],
    ['delay-5', true, 5],
    ['delay-300', true, 300],
    ['delay-28800', true, 28800],
  ])('reads %s', (name, password, grace) => {
    const r = parseSysadminctl(status(name));
    expect(r.password).toMatchObject({ status: 'known', value: password });
    expect(r.grace).toMatchObject({ status: 'known', value: grace });
  });

  it('reads "off" as no password, with no grace to report', () => {
    const r = parseSysadminctl(status('off'));
    expect(r.password).toMatchObject({ status: 'known', value: false });
    expect(r.grace.status).toBe('unknown');
  });

  it('does not guess from other sysadminctl messages', () => {
    expect(parseSysadminctl(status('unknown-state')).password.status).toBe('unknown');
    expect(parseSysadminctl(ok('', 'screenLock delay is -1.000000 seconds')).password.status).toBe('unknown');
  });
});

describe('readScreenlock on macOS', () => {
  it('reads sysadminctl and idleTime as the user', async () => {
    const { s, runner } = await read({});
    expect(s).toEqual({
      user: 'carol',
      enabled: { status: 'known', value: true, source: 'sysadminctl -screenLock status' },
      idleTimeoutSeconds: { status: 'known', value: 600, source: 'defaults -currentHost com.apple.screensaver idleTime' },
      graceSeconds: { status: 'known', value: 0, source: 'sysadminctl -screenLock status' },
      passwordRequired: { status: 'known', value: true, source: 'sysadminctl -screenLock status' },
    });
    for (const c of runner.calls) expect(c.opts).toMatchObject({ uid: 501, gid: 20, env: { HOME: '/Users/carol' } });
    expect(runner.calls.some((c) => c.args.includes('askForPassword'))).toBe(false); // only read when sysadminctl cannot answer
  });

  it('reports the lock off', async () => {
    const { s } = await read({ sysadminctl: status('off') });
    expect(s.enabled).toMatchObject({ status: 'known', value: false });
    expect(s.passwordRequired).toMatchObject({ status: 'known', value: false });
    expect(s.graceSeconds).toEqual({ status: 'unknown', reason: 'screen lock is off: no grace period applies' });
  });

  it('does not guess the idle time when the user never set it', async () => {
    const { s } = await read({ idle: unset() });
    expect(s.idleTimeoutSeconds).toEqual({
      status: 'unknown',
      reason: 'com.apple.screensaver idleTime not set for this user: macOS applies its built-in default, which is not assumed here',
    });
  });

  it('lets a configuration profile win over the user', async () => {
    const files = { 'Library/Managed Preferences/carol/com.apple.screensaver.plist': '' };
    const { s, runner } = await read({ sysadminctl: status('delay-300'), idle: unset(), managed: { '/carol/com.apple.screensaver idleTime': ok(fixture(`${D}/defaults-idletime-600.stdout`)) } }, files);
    expect(s.idleTimeoutSeconds).toEqual({ status: 'known', value: 600, source: 'managed profile /Library/Managed Preferences/carol/com.apple.screensaver.plist idleTime' });
    expect(s.graceSeconds).toMatchObject({ value: 300, source: 'sysadminctl -screenLock status' });
    const managedCall = runner.calls.find((c) => c.args.at(-1) === 'idleTime' && c.args[1]?.includes('Managed Preferences'));
    expect(managedCall?.opts).toEqual({ timeoutMs: 5000 }); // a system file: read as the agent
  });

  it('is unknown, not "on", when a profile value is garbage', async () => {
    const files = { 'Library/Managed Preferences/com.apple.screensaver.plist': '' };
    const { s } = await read({ managed: { '/com.apple.screensaver askForPassword': ok(fixture(`${D}/defaults-idletime-600.stdout`)) } }, files);
    expect(s.passwordRequired.status === 'unknown' && s.passwordRequired.reason).toMatch(/askForPassword: unexpected value 600/);
  });

  it('falls back to the pre-10.13 keys when sysadminctl is missing, and says why when they are unset', async () => {
    const { s, runner } = await read({ sysadminctl: notFound() });
    expect(runner.calls.some((c) => c.args.includes('askForPassword'))).toBe(true);
    expect(s.passwordRequired).toEqual({ status: 'unknown', reason: 'sysadminctl -screenLock status: command not found; com.apple.screensaver askForPassword not set either' });
    expect(s.idleTimeoutSeconds).toMatchObject({ status: 'known', value: 600 });
  });

  it('never falls back to the per-user keys when sysadminctl exists but answers something else', async () => {
    const { s, runner } = await read({ sysadminctl: status('unknown-state') });
    expect(runner.calls.some((c) => c.args.includes('askForPassword'))).toBe(false);
    expect(s.passwordRequired.status === 'unknown' && s.passwordRequired.reason).toMatch(/unrecognised answer .*Unknown state for screenLock/);
  });

  it('rejects garbage from defaults', async () => {
    const { s } = await read({ idle: ok('\u001b]0;pwned\u0007600\n') });
    expect(s.idleTimeoutSeconds.status).toBe('unknown');
    expect(JSON.stringify(s)).not.toContain('\\u001b');
  });

  it('needs the uid to read as the user', async () => {
    const out = await readScreenlock(sources('darwin', fakeRoot(), mac({})), [{ name: 'dave' }]);
    expectValid(out);
    expect(out).toMatchObject([{ user: 'dave', enabled: { status: 'unknown', reason: expect.stringContaining('uid of dave not known') } }]);
    expect(await readScreenlock(sources('darwin', fakeRoot(), mac({})), [])).toEqual([]);
  });
});
