import path from 'node:path';
import { pathExists } from './safe-read.js';
import type { ScreenlockSetting } from '@vigil/shared/agent';
import type { CommandResult, RunOptions } from '../command-runner.js';
import type { ProbeSources } from '../probe.js';
import type { DesktopUser } from './desktop-user.js';
import { allUnknown, commandFailure, known, parseWholeNumber, printable, unknownFact, userLabel, type BoolFact, type Fact, type SecondsFact } from './setting-fact.js';

/**
 * macOS screen lock, per user, with the commands run as that user (uid/gid):
 *
 * - `sysadminctl -screenLock status` (macOS 10.13+) prints on stderr, after a log prefix,
 *   `screenLock delay is immediate`, `screenLock delay is <n> seconds` or `screenLock is off`:
 *   whether a password is required after the screen saver starts or the display sleeps, and after
 *   what grace;
 * - `defaults -currentHost read com.apple.screensaver idleTime`: seconds of inactivity before the
 *   screen saver starts (0 = never). When unset macOS applies a built-in default that differs
 *   between releases, so an unset idleTime is reported unknown, not guessed;
 * - `defaults read com.apple.screensaver askForPassword` / `askForPasswordDelay`: the pre-10.13
 *   per-user keys, read only when sysadminctl has no -screenLock (missing, or prints its usage);
 * - configuration-profile values, which win over the user's: `/Library/Managed Preferences/<user>/
 *   com.apple.screensaver.plist`, then `/Library/Managed Preferences/com.apple.screensaver.plist`,
 *   read with `defaults read <file> <key>` when the file exists.
 *
 * On macOS the lock is the password requirement, so `enabled` follows `passwordRequired`.
 * Display sleep (pmset displaysleep) also starts the lock; it is not read here.
 */

const TIMEOUT_MS = 5_000;
const DOMAIN = 'com.apple.screensaver';
const SAFE_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** What one `defaults read` said: a number, not set, or unreadable. */
export function defaultsNumber(label: string, r: CommandResult): Fact<number | null> {
  if (!r.error && r.code === 0) {
    const n = parseWholeNumber(r.stdout);
    return n === undefined ? unknownFact(`${label}: unexpected output "${printable(r.stdout, 40)}"`) : known(n, label);
  }
  if (r.error === 'failed' && r.code === 1 && /does not exist/.test(r.stderr)) return known(null, label);
  return unknownFact(commandFailure(label, r, TIMEOUT_MS));
}

/** The answer of `sysadminctl -screenLock status`. */
export function parseSysadminctl(r: CommandResult): { password: BoolFact; grace: SecondsFact } {
  const label = 'sysadminctl -screenLock status';
  if (r.error === 'not-found' || r.error === 'timeout') {
    const why = unknownFact<never>(commandFailure(label, r, TIMEOUT_MS));
    return { password: why, grace: why };
  }
  const text = `${r.stderr}\n${r.stdout}`;
  if (/\bscreenLock delay is immediate\b/.test(text)) return { password: known(true, label), grace: known(0, label) };
  const m = /\bscreenLock delay is (\d{1,10}) seconds?\b/.exec(text);
  const n = m?.[1] === undefined ? undefined : parseWholeNumber(m[1]);
  if (n !== undefined) return { password: known(true, label), grace: known(n, label) };
  if (/\bscreenLock is off\b/.test(text)) {
    return { password: known(false, label), grace: unknownFact('screen lock is off: no grace period applies') };
  }
  const why = unknownFact<never>(`${label}: unrecognised answer "${printable(text, 80)}"`);
  return { password: why, grace: why };
}

/** The first set value among the sources, in order; an unreadable source before it makes it unknown. */
function firstSet(sources: Fact<number | null>[], unset: Fact<number>): Fact<number> {
  for (const f of sources) {
    if (f.status === 'unknown') return f;
    if (f.value !== null) return known(f.value, f.source);
  }
  return unset;
}

/** Read one user's macOS screen-lock settings. */
async function readUser(src: ProbeSources, u: DesktopUser): Promise<ScreenlockSetting> {
  if (u.uid === undefined) return allUnknown(u.name, `uid of ${printable(u.name, 64)} not known: settings are read as the user`);
  const opts: RunOptions = { uid: u.uid, ...(u.gid !== undefined ? { gid: u.gid } : {}), timeoutMs: TIMEOUT_MS, ...(u.home ? { env: { HOME: u.home } } : {}) };
  const run = (args: string[], asUser = true) => src.runner.run(args[0] as string, args.slice(1), asUser ? opts : { timeoutMs: TIMEOUT_MS });

  // Managed (profile) preferences: per user, then per device.
  const managedFiles = [
    ...(SAFE_NAME.test(u.name) ? [`/Library/Managed Preferences/${u.name}/${DOMAIN}.plist`] : []),
    `/Library/Managed Preferences/${DOMAIN}.plist`,
  ];
  const present = (await Promise.all(managedFiles.map(async (f) => ((await pathExists(path.join(src.fsRoot, f))) ? f : undefined)))).filter(
    (f): f is string => f !== undefined,
  );
  const managed = async (key: string): Promise<Fact<number | null>[]> =>
    Promise.all(present.map(async (f) => defaultsNumber(`managed profile ${f} ${key}`, await run(['defaults', 'read', path.join(src.fsRoot, f.replace(/\.plist$/, '')), key], false))));

  const [mIdle, mAsk, mDelay, status, idle] = await Promise.all([
    managed('idleTime'),
    managed('askForPassword'),
    managed('askForPasswordDelay'),
    run(['sysadminctl', '-screenLock', 'status']),
    run(['defaults', '-currentHost', 'read', DOMAIN, 'idleTime']).then((r) => defaultsNumber(`defaults -currentHost ${DOMAIN} idleTime`, r)),
  ]);

  let { password, grace } = parseSysadminctl(status);
  // Before 10.13 (no -screenLock option: sysadminctl missing or printing its usage) the per-user
  // keys were authoritative; on later releases they are not, so they are never read as a fallback.
  const legacy = status.error === 'not-found' || /\bUsage: sysadminctl\b/.test(`${status.stderr}${status.stdout}`);
  if (password.status === 'unknown' && legacy) {
    const [ask, delay] = await Promise.all([
      run(['defaults', 'read', DOMAIN, 'askForPassword']).then((r) => defaultsNumber(`defaults ${DOMAIN} askForPassword`, r)),
      run(['defaults', 'read', DOMAIN, 'askForPasswordDelay']).then((r) => defaultsNumber(`defaults ${DOMAIN} askForPasswordDelay`, r)),
    ]);
    const why = password.reason;
    if (ask.status === 'known' && ask.value === null) password = unknownFact(`${why}; ${DOMAIN} askForPassword not set either`);
    if (ask.status === 'known' && ask.value !== null) {
      password = ask.value === 0 || ask.value === 1 ? known(ask.value === 1, ask.source) : unknownFact(`${ask.source}: unexpected value ${ask.value}`);
      grace = firstSet([delay], unknownFact(`${DOMAIN} askForPasswordDelay not set; ${why}`));
    }
  }

  const managedAsk = firstSet(mAsk, known(-1, 'unset'));
  if (managedAsk.status === 'unknown') password = managedAsk;
  else if (managedAsk.value === 0 || managedAsk.value === 1) password = known(managedAsk.value === 1, managedAsk.source);
  else if (managedAsk.value !== -1) password = unknownFact(`${managedAsk.source}: unexpected value ${managedAsk.value}`);
  grace = firstSet(mDelay, grace);
  if (password.status === 'known' && !password.value && grace.status === 'known') grace = unknownFact('screen lock is off: no grace period applies');

  const idleTimeoutSeconds = firstSet([...mIdle, idle], unknownFact(`${DOMAIN} idleTime not set for this user: macOS applies its built-in default, which is not assumed here`));
  return { user: userLabel(u.name), enabled: password, idleTimeoutSeconds, graceSeconds: grace, passwordRequired: password };
}

/** Read every given user's screen-lock settings on macOS. */
export async function readDarwin(src: ProbeSources, users: readonly DesktopUser[]): Promise<ScreenlockSetting[]> {
  return Promise.all(users.map((u) => readUser(src, u)));
}
