import { LIMITS, ScreenlockSetting } from '@vigil/shared/agent';
import { unknown, type ProbeOutcome, type ProbeSources } from '../probe.js';
import { readDarwin } from './darwin.js';
import type { DesktopUser } from './desktop-user.js';
import { readLinux } from './linux.js';
import { allUnknown } from './setting-fact.js';
import { readWindows } from './win32.js';

/**
 * Screen-lock settings probe: per user, whether the screen lock is on, after how much idle time
 * it starts, the grace before a password is needed, and whether one is — each with where it was
 * read, or unknown with why. Facts only; the collector judges compliance.
 *
 * Field meanings, the same on every OS:
 * - `enabled`: the OS locks the session when its idle mechanism (screen saver, blanking, machine
 *   inactivity limit) starts;
 * - `idleTimeoutSeconds`: seconds of inactivity before that mechanism starts; 0 = it never starts.
 *   Reported even when `enabled` is false (the blanking still happens, without a lock);
 * - `graceSeconds`: seconds after it starts during which input dismisses it without a password;
 * - `passwordRequired`: unlocking needs the user's password.
 * The session is password-protected after `idleTimeoutSeconds + graceSeconds` when `enabled` and
 * `passwordRequired` are both true.
 *
 * Per platform (see each file): Linux GNOME (`linux-gnome.ts`, gsettings as the user) and KDE
 * Plasma (`linux-kde.ts`, kscreenlockerrc with /etc/xdg and kiosk markers), chosen per user in
 * `linux.ts`; Windows (`win32.ts`, `reg query`); macOS (`darwin.ts`, sysadminctl and defaults).
 *
 * `users`: on Linux and macOS the users to read (typically those logged in to a graphical
 * session); an empty list means nobody to report on and gives `[]`. On Windows the loaded user
 * hives are found from the registry; users carrying a `sid` restrict the read to those SIDs.
 */
export async function readScreenlock(src: ProbeSources, users: DesktopUser[]): Promise<ProbeOutcome<ScreenlockSetting>> {
  try {
    const wanted = users.slice(0, LIMITS.users);
    let settings: ScreenlockSetting[];
    switch (src.platform) {
      case 'linux':
        if (wanted.length === 0) return [];
        settings = await readLinux(src, wanted);
        break;
      case 'darwin':
        if (wanted.length === 0) return [];
        settings = await readDarwin(src, wanted);
        break;
      case 'win32':
        settings = await readWindows(src, wanted);
        break;
      default:
        return unknown(`screen-lock settings are not read on ${src.platform}`);
    }
    // The same schema the collector applies: what is sent is what it accepts.
    return settings.map((s) => {
      const checked = ScreenlockSetting.safeParse(s);
      if (checked.success) return checked.data;
      src.log.warn({ err: checked.error.message }, 'screen-lock setting failed its schema');
      return allUnknown(s.user, 'the values read did not fit the screen-lock schema');
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    src.log.warn({ err: reason }, 'screen-lock settings could not be read');
    return unknown(`screen-lock settings could not be read: ${reason}`);
  }
}

export type { DesktopUser } from './desktop-user.js';
export { localUsers } from './linux.js';
