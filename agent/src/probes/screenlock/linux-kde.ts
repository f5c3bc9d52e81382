import path from 'node:path';
import type { ScreenlockSetting } from '@vigil/shared/agent';
import type { ProbeSources } from '../probe.js';
import { kconfigBool, parseKConfig, type KConfigFile } from './kconfig.js';
import { readSmallFile } from './safe-read.js';
import { known, MAX_SECONDS, printable, unknownFact, userLabel, type BoolFact, type Fact, type SecondsFact } from './setting-fact.js';

/**
 * KDE Plasma screen lock (kscreenlocker), read from its configuration files the way KConfig
 * cascades them: built-in defaults, then the system file `/etc/xdg/kscreenlockerrc`, then the
 * user's `~/.config/kscreenlockerrc` — unless the system file marks the file, the `[Daemon]`
 * group or the key immutable (`[$i]`, kiosk mode), in which case the user's value is ignored.
 *
 * `[Daemon]` keys and their defaults (kscreenlocker's kscreenlockersettings.kcfg):
 * Autolock=true (lock automatically when idle), Timeout=5 (minutes of idle time), LockGrace=5
 * (seconds after locking during which no password is needed), Lock=true (older releases: false
 * starts the locker with `--nolock`, i.e. no password), RequirePassword=true (newer releases).
 * A missing file or key means the default applies, reported with source `default (…)`.
 *
 * Not read: other XDG_CONFIG_DIRS a distribution may add (e.g. Kubuntu's), and a non-default
 * XDG_CONFIG_HOME — the session's environment is not visible to the agent.
 */

export interface KdeUser {
  name: string;
  home: string;
}

const SYSTEM_FILE = '/etc/xdg/kscreenlockerrc';
const MAX_BYTES = 256 * 1024;

const DEFAULTS = { Autolock: 'true', Timeout: '5', LockGrace: '5', Lock: 'true', RequirePassword: 'true' } as const;
type Key = keyof typeof DEFAULTS;

export interface Layer {
  label: string;
  file?: KConfigFile;
  error?: string;
}

async function loadLayer(label: string, file: string): Promise<Layer | undefined> {
  const read = await readSmallFile(file, MAX_BYTES);
  if (read.kind === 'absent') return undefined;
  if (read.kind === 'error') return { label, error: read.reason };
  return { label, file: parseKConfig(read.text) };
}

/** The effective text of one `[Daemon]` key across the layers, with where it came from. */
export function resolveKey(layers: readonly Layer[], key: Key): Fact<string> {
  let result: Fact<string> = known(DEFAULTS[key], `default (kscreenlocker ${key}=${DEFAULTS[key]})`);
  for (const layer of layers) {
    // An unreadable layer may set or lock the key: nothing after it can be trusted either.
    if (layer.error !== undefined) return unknownFact(`${layer.error}; it may set or lock ${key}`);
    const group = layer.file?.groups.get('Daemon');
    const entry = group?.entries.get(key);
    const locked = Boolean(layer.file?.immutable || group?.immutable || entry?.immutable);
    if (entry) result = known(entry.value, `${layer.label} [Daemon] ${key}${locked ? ' (immutable)' : ''}`);
    if (locked) break;
  }
  return result;
}

function asBool(text: Fact<string>, key: Key): BoolFact {
  if (text.status === 'unknown') return text;
  const b = kconfigBool(text.value);
  return b === undefined ? unknownFact(`unexpected ${key} value in ${text.source}: "${printable(text.value, 40)}"`) : known(b, text.source);
}

/** Minutes (KConfig Int or, in newer releases, Double) to whole seconds. */
function minutesToSeconds(text: Fact<string>, key: Key): SecondsFact {
  if (text.status === 'unknown') return text;
  const minutes = /^\d{1,9}(\.\d{1,6})?$/.test(text.value) ? Number(text.value) : Number.NaN;
  const seconds = Math.round(minutes * 60);
  if (!Number.isFinite(seconds) || seconds > MAX_SECONDS) {
    return unknownFact(`unexpected ${key} value in ${text.source}: "${printable(text.value, 40)}"`);
  }
  return known(seconds, `${text.source} (minutes)`);
}

function asSeconds(text: Fact<string>, key: Key): SecondsFact {
  if (text.status === 'unknown') return text;
  const n = /^\d{1,10}$/.test(text.value) ? Number(text.value) : Number.NaN;
  if (!Number.isFinite(n) || n > MAX_SECONDS) return unknownFact(`unexpected ${key} value in ${text.source}: "${printable(text.value, 40)}"`);
  return known(n, text.source);
}

/** Password needed after the grace time: both the older `Lock` and the newer `RequirePassword` must allow it. */
function passwordNeeded(lock: BoolFact, requirePassword: BoolFact): BoolFact {
  if (lock.status === 'known' && !lock.value) return known(false, `${lock.source} (locker runs with --nolock)`);
  if (requirePassword.status === 'known' && !requirePassword.value) return requirePassword;
  if (lock.status === 'unknown') return lock;
  if (requirePassword.status === 'unknown') return requirePassword;
  return known(true, `${requirePassword.source}; ${lock.source}`);
}

/** Whether the user's home holds a kscreenlockerrc (evidence the user runs or ran Plasma). */
export async function hasKdeUserConfig(src: ProbeSources, home: string): Promise<boolean> {
  const read = await readSmallFile(path.join(src.fsRoot, home, '.config', 'kscreenlockerrc'), MAX_BYTES);
  return read.kind !== 'absent';
}

/** Read one user's KDE Plasma screen-lock settings. */
export async function readKde(src: ProbeSources, user: KdeUser): Promise<ScreenlockSetting> {
  const userFile = path.posix.join(user.home, '.config', 'kscreenlockerrc');
  const layers = (
    await Promise.all([
      loadLayer(SYSTEM_FILE, path.join(src.fsRoot, SYSTEM_FILE)),
      loadLayer(userFile, path.join(src.fsRoot, userFile)),
    ])
  ).filter((l): l is Layer => l !== undefined);
  const text = (key: Key) => resolveKey(layers, key);
  return {
    user: userLabel(user.name),
    desktop: 'kde',
    enabled: asBool(text('Autolock'), 'Autolock'),
    idleTimeoutSeconds: minutesToSeconds(text('Timeout'), 'Timeout'),
    graceSeconds: asSeconds(text('LockGrace'), 'LockGrace'),
    passwordRequired: passwordNeeded(asBool(text('Lock'), 'Lock'), asBool(text('RequirePassword'), 'RequirePassword')),
  };
}
