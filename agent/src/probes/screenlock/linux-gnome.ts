import path from 'node:path';
import { pathExists } from './safe-read.js';
import type { ScreenlockSetting } from '@vigil/shared/agent';
import type { CommandResult } from '../command-runner.js';
import type { ProbeSources } from '../probe.js';
import {
  commandFailure,
  firstLine,
  known,
  parseWholeNumber,
  printable,
  unknownFact,
  userLabel,
  type BoolFact,
  type Fact,
  type SecondsFact,
} from './setting-fact.js';

/**
 * GNOME screen lock, read with `gsettings get` run as the user (their uid/gid and HOME), so the
 * answer is the effective value GNOME uses: the user's dconf database over any system databases
 * and locks, or the schema default when nobody set the key.
 *
 * `gsettings` reads dconf's database file directly; the session bus is only needed for writes, so
 * a user without a running bus is still read correctly. DBUS_SESSION_BUS_ADDRESS and
 * XDG_RUNTIME_DIR are passed only when `/run/user/<uid>` (and its `bus`) exist: pointing dconf at a
 * missing runtime directory makes it fail. GSETTINGS_BACKEND=dconf is forced so that a missing dconf
 * module is reported (a GLib warning) instead of silently answering from the in-memory backend.
 *
 * gsettings still prints a value when dconf cannot open the user's database (it falls back to
 * the schema default and only complains on stderr, exit 0). Any GLib/dconf CRITICAL or WARNING on
 * stderr therefore makes that key unknown: the printed value may not be the user's.
 *
 * Keys (gsettings-desktop-schemas): org.gnome.desktop.screensaver lock-enabled (b, default true)
 * and lock-delay (u, default 0); org.gnome.desktop.session idle-delay (u, default 300, 0 = never
 * idle); org.gnome.desktop.lockdown disable-lock-screen (b, default false).
 * org.gnome.desktop.screensaver idle-activation-enabled is not read: its schema marks it
 * "deprecated and ignored".
 */

export interface GnomeUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

const TIMEOUT_MS = 5_000;

const KEYS = {
  lockEnabled: ['org.gnome.desktop.screensaver', 'lock-enabled'],
  lockDelay: ['org.gnome.desktop.screensaver', 'lock-delay'],
  idleDelay: ['org.gnome.desktop.session', 'idle-delay'],
  disableLock: ['org.gnome.desktop.lockdown', 'disable-lock-screen'],
} as const;

/** The environment gsettings runs in for this user: nothing inherited but PATH (added by the runner). */
async function userEnv(src: ProbeSources, user: GnomeUser): Promise<Record<string, string>> {
  const runtime = `/run/user/${user.uid}`;
  const env: Record<string, string> = {
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    LANG: 'C.UTF-8',
    GSETTINGS_BACKEND: 'dconf',
  };
  if (await pathExists(path.join(src.fsRoot, runtime))) {
    env.XDG_RUNTIME_DIR = runtime;
    if (await pathExists(path.join(src.fsRoot, runtime, 'bus'))) env.DBUS_SESSION_BUS_ADDRESS = `unix:path=${runtime}/bus`;
  }
  return env;
}

/** One `gsettings get` answer as text, or why it cannot be trusted. */
export function gsettingsText(r: CommandResult, schema: string, key: string): Fact<string> {
  const label = `gsettings get ${schema} ${key}`;
  if (r.error || r.code !== 0) return unknownFact(commandFailure(label, r, TIMEOUT_MS));
  const complaint = r.stderr.split(/\r?\n/).find((l) => /\b(CRITICAL|WARNING)\b/.test(l));
  if (complaint) {
    return unknownFact(`${label}: dconf could not read the user's settings, the printed value may be the schema default (${firstLine(complaint)})`);
  }
  return known(r.stdout.trim(), `gsettings ${schema} ${key}`);
}

/** GVariant text of a boolean key: `true` / `false`. */
export function gvariantBool(text: Fact<string>): BoolFact {
  if (text.status === 'unknown') return text;
  if (text.value === 'true' || text.value === 'false') return known(text.value === 'true', text.source);
  return unknownFact(`unexpected value from ${text.source}: "${printable(text.value, 40)}"`);
}

/** GVariant text of a uint32 key: `uint32 300`. */
export function gvariantUint(text: Fact<string>): SecondsFact {
  if (text.status === 'unknown') return text;
  const m = /^uint32 (\d+)$/.exec(text.value);
  const n = m?.[1] === undefined ? undefined : parseWholeNumber(m[1]);
  if (n === undefined) return unknownFact(`unexpected value from ${text.source}: "${printable(text.value, 40)}"`);
  return known(n, text.source);
}

/**
 * The lock is on when lock-enabled is true and the lockdown key does not disable it. Either false
 * settles it even if the other key is unreadable.
 */
function lockOn(lockEnabled: BoolFact, disableLock: BoolFact): BoolFact {
  if (disableLock.status === 'known' && disableLock.value) return known(false, disableLock.source);
  if (lockEnabled.status === 'known' && !lockEnabled.value) return known(false, lockEnabled.source);
  if (lockEnabled.status === 'unknown') return lockEnabled;
  if (disableLock.status === 'unknown') return disableLock;
  return known(true, `${lockEnabled.source}; ${disableLock.source}`);
}

/** Read one user's GNOME screen-lock settings. */
export async function readGnome(src: ProbeSources, user: GnomeUser): Promise<ScreenlockSetting> {
  const env = await userEnv(src, user);
  const get = async ([schema, key]: readonly [string, string]) =>
    gsettingsText(await src.runner.run('gsettings', ['get', schema, key], { uid: user.uid, gid: user.gid, env, timeoutMs: TIMEOUT_MS }), schema, key);
  const [lockEnabled, lockDelay, idleDelay, disableLock] = await Promise.all([
    get(KEYS.lockEnabled).then(gvariantBool),
    get(KEYS.lockDelay).then(gvariantUint),
    get(KEYS.idleDelay).then(gvariantUint),
    get(KEYS.disableLock).then(gvariantBool),
  ]);
  const enabled = lockOn(lockEnabled, disableLock);
  // GNOME's lock screen has no password-less mode: when it locks, the password is required.
  const passwordRequired: BoolFact =
    enabled.status === 'known' ? known(enabled.value, `${enabled.source} (GNOME's lock screen always asks for the password)`) : enabled;
  return { user: userLabel(user.name), desktop: 'gnome', enabled, idleTimeoutSeconds: idleDelay, graceSeconds: lockDelay, passwordRequired };
}
