/**
 * A user whose screen-lock settings are read. Only `name` is required; what else is known makes
 * the read possible (uid/gid to run commands as the user, home for their files, sid on Windows).
 */
export interface DesktopUser {
  name: string;
  uid?: number;
  gid?: number;
  home?: string;
  /** Windows security identifier, e.g. `S-1-5-21-…-1001`. */
  sid?: string;
  /**
   * The desktop of the user's session when known (logind's `Desktop`, i.e. XDG_SESSION_DESKTOP:
   * `gnome`, `ubuntu`, `KDE`, `plasma`…). Without it the Linux reader decides from what is installed.
   */
  desktop?: string;
}
