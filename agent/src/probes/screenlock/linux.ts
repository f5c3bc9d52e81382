import path from 'node:path';
import type { ScreenlockSetting } from '@vigil/shared/agent';
import type { ProbeSources } from '../probe.js';
import type { DesktopUser } from './desktop-user.js';
import { readGnome } from './linux-gnome.js';
import { hasKdeUserConfig, readKde } from './linux-kde.js';
import { pathExists, readSmallFile } from './safe-read.js';
import { allUnknown, parseWholeNumber, printable } from './setting-fact.js';

/**
 * Linux: which desktop's settings apply to a user, then that desktop's reader.
 *
 * The desktop is taken from the user's session when the caller knows it (`DesktopUser.desktop`,
 * logind's `Desktop`). Otherwise it is decided from what is on the machine: GNOME when
 * `/usr/bin/gnome-shell` is installed, KDE Plasma when `/usr/bin/plasmashell` is installed or the
 * user has a `~/.config/kscreenlockerrc`. When both are present and the session is not known, both
 * are reported (one entry each, told apart by `desktop`): the user can log in to either, so both
 * settings are facts about the machine. Other desktops (Xfce, Cinnamon, MATE…) are reported as
 * unknown with the reason, never as GNOME's or KDE's defaults.
 */

type Desktop = 'gnome' | 'kde';

const GNOME_SHELL = '/usr/bin/gnome-shell';
const PLASMA_SHELL = '/usr/bin/plasmashell';
const MAX_PASSWD_BYTES = 8 * 1024 * 1024;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const [name = '', , uidText = '', gidText = '', , home = '', shell = ''] = f;
    const uid = parseWholeNumber(uidText);
    const gid = parseWholeNumber(gidText);
    if (!name || uid === undefined || gid === undefined) continue;
    out.push({ name, uid, gid, home, shell: shell.trim() });
  }
  return out;
}

async function readPasswd(src: ProbeSources): Promise<PasswdEntry[]> {
  const read = await readSmallFile(path.join(src.fsRoot, 'etc/passwd'), MAX_PASSWD_BYTES);
  if (read.kind === 'absent') throw new Error('/etc/passwd does not exist');
  if (read.kind === 'error') throw new Error(read.reason);
  return parsePasswd(read.text);
}

/**
 * Local accounts that can log in to a desktop, from `<fsRoot>/etc/passwd`: uid ≥ 1000 (not
 * `nobody`, 65534), a login shell (listed in /etc/shells when that file is readable, otherwise
 * anything but nologin/false), and an absolute home. Throws when /etc/passwd cannot be read.
 */
export async function localUsers(src: ProbeSources): Promise<DesktopUser[]> {
  const entries = await readPasswd(src);
  const shellsFile = await readSmallFile(path.join(src.fsRoot, 'etc/shells'), 64 * 1024);
  const shells =
    shellsFile.kind === 'text'
      ? new Set(shellsFile.text.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('/')))
      : undefined;
  const loginShell = (s: string) => (shells ? shells.has(s) : s !== '' && !/\/(nologin|false)$/.test(s));
  return entries
    .filter((e) => e.uid >= 1000 && e.uid !== 65534 && loginShell(e.shell) && path.posix.isAbsolute(e.home) && e.home !== '/nonexistent')
    .map((e) => ({ name: e.name, uid: e.uid, gid: e.gid, home: e.home }));
}

const exists = (src: ProbeSources, p: string) => pathExists(path.join(src.fsRoot, p));

/** Desktop named by a session (XDG_SESSION_DESKTOP), or undefined when this probe cannot read it. */
function desktopOfSession(name: string): Desktop | undefined {
  const n = name.toLowerCase();
  if (/kde|plasma/.test(n)) return 'kde';
  if (/gnome|ubuntu|^pop$/.test(n)) return 'gnome';
  return undefined;
}

/** Read every given user's screen-lock settings on Linux. */
export async function readLinux(src: ProbeSources, users: readonly DesktopUser[]): Promise<ScreenlockSetting[]> {
  const needPasswd = users.some((u) => u.uid === undefined || u.gid === undefined || u.home === undefined);
  let passwd: PasswdEntry[] | undefined;
  let passwdError = '';
  if (needPasswd) {
    passwd = await readPasswd(src).catch((err: unknown) => {
      passwdError = err instanceof Error ? err.message : String(err);
      return undefined;
    });
  }
  const [gnomeInstalled, plasmaInstalled] = await Promise.all([exists(src, GNOME_SHELL), exists(src, PLASMA_SHELL)]);

  const one = async (u: DesktopUser): Promise<ScreenlockSetting[]> => {
    const entry = passwd?.find((e) => e.name === u.name);
    const uid = u.uid ?? entry?.uid;
    const gid = u.gid ?? entry?.gid;
    const home = u.home ?? entry?.home;
    if (uid === undefined || gid === undefined || !home || !path.posix.isAbsolute(home)) {
      const why = passwdError ? `uid or home of ${printable(u.name, 64)} not known: ${passwdError}` : `uid or home of ${printable(u.name, 64)} not known (not in /etc/passwd)`;
      return [allUnknown(u.name, why, u.desktop)];
    }
    let desktops: Desktop[];
    if (u.desktop !== undefined) {
      const d = desktopOfSession(u.desktop);
      if (!d) return [allUnknown(u.name, `desktop "${printable(u.desktop, 40)}" is not read by this probe (GNOME and KDE Plasma only)`, u.desktop)];
      desktops = [d];
    } else {
      desktops = [];
      if (gnomeInstalled) desktops.push('gnome');
      if (plasmaInstalled || (await hasKdeUserConfig(src, home))) desktops.push('kde');
    }
    if (desktops.length === 0) {
      return [allUnknown(u.name, `no GNOME (${GNOME_SHELL}) or KDE Plasma (${PLASMA_SHELL}, ~/.config/kscreenlockerrc) found for this user`)];
    }
    return Promise.all(desktops.map((d) => (d === 'gnome' ? readGnome(src, { name: u.name, uid, gid, home }) : readKde(src, { name: u.name, home }))));
  };
  return (await Promise.all(users.map(one))).flat();
}
