/**
 * Session state on macOS.
 *
 * Commands:
 *   ioreg -n Root -d 1 -w 0                          IOConsoleUsers: one dictionary per GUI
 *                                                   session, and IOConsoleLocked (macOS 13+)
 *   ioreg -c IOHIDSystem -d 4 -r -k HIDIdleTime -w 0 HIDIdleTime: ns since the last keyboard or
 *                                                   mouse input on this Mac's console
 *   who                                              ssh/remote logins: lines with `(host)`
 *
 * ioreg's text form is read rather than `-a` (XML plist): it carries the same properties, and it
 * is the form public captures of these outputs exist in. `-w 0` stops ioreg clipping long lines.
 *
 * Per GUI session (IOConsoleUsers entry): user `kCGSSessionUserNameKey`, id `kCGSSessionIDKey`,
 * on the console when `kCGSSessionOnConsoleKey` is Yes (a fast-user-switched session is not).
 * `CGSSessionScreenIsLocked` = Yes is added while the session's screen is locked and removed on
 * unlock (CGSSessionScreenLockedTime comes and goes with it), so for the console session its
 * absence means unlocked, and Root's `IOConsoleLocked` says the same where present. For a session
 * off the console, absence says nothing: `null`.
 *
 * HIDIdleTime is input on the one physical console, so it is the idle time of the session on the
 * console only; others get `null`. Remote logins (ssh) from `who` have no lock and their idleness
 * is not read: `null` for both. Local terminal windows (`ttys…` without a host) belong to the GUI
 * session and are not sessions of their own.
 */
import type { SessionState } from '@vigil/shared/agent';
import { unknown, type ProbeOutcome, type ProbeSources } from '../probe.js';
import { describeFailure, succeeded } from './command-failure.js';
import { ioregPropertyText, parseIoregValue, type IoValue } from './ioreg-text.js';
import { IDLE_UNKNOWN, idleSinceLastInput, label } from './session-fields.js';

const TIMEOUT_MS = 10_000;
const ROOT_ARGS = ['-n', 'Root', '-d', '1', '-w', '0'];
const HID_ARGS = ['-c', 'IOHIDSystem', '-d', '4', '-r', '-k', 'HIDIdleTime', '-w', '0'];

type Dict = { [key: string]: IoValue };
const isDict = (v: IoValue | undefined): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What Root says about the GUI sessions. */
export interface ConsoleUsers {
  sessions: Dict[];
  /** Root's IOConsoleLocked, where this macOS publishes it. */
  consoleLocked?: boolean;
}

/**
 * IOConsoleUsers and IOConsoleLocked from `ioreg -n Root` text output. Throws when the output is
 * not Root's properties at all or the value cannot be read; no IOConsoleUsers means no GUI session.
 */
export function parseConsoleUsers(output: string): ConsoleUsers {
  const usersText = ioregPropertyText(output, 'IOConsoleUsers');
  const lockedText = ioregPropertyText(output, 'IOConsoleLocked');
  if (usersText === undefined && !output.includes('+-o Root')) throw new Error('no Root entry in ioreg output');
  const value = usersText === undefined ? [] : parseIoregValue(usersText);
  if (!Array.isArray(value)) throw new Error('IOConsoleUsers is not a list');
  return {
    sessions: value.filter(isDict),
    ...(lockedText === 'Yes' || lockedText === 'No' ? { consoleLocked: lockedText === 'Yes' } : {}),
  };
}

/** HIDIdleTime in nanoseconds (the smallest, should several IOHIDSystem entries answer). */
export function parseHidIdleNanos(output: string): number | undefined {
  const values = [...output.matchAll(/"HIDIdleTime" = (\d+)/g)].map((m) => Number(m[1]));
  return values.length > 0 ? Math.min(...values) : undefined;
}

/** Remote logins from `who`: user, terminal and the host in parentheses (`:0`-style displays are local). */
export function parseWhoRemote(output: string): { user: string; tty: string }[] {
  const out: { user: string; tty: string }[] = [];
  for (const line of output.split(/\r?\n/)) {
    const m = /^(\S+)\s+(\S+)\s+.*\(([^)]*)\)\s*$/.exec(line);
    if (m && m[1] && m[2] && m[3] && !m[3].startsWith(':')) out.push({ user: m[1], tty: m[2] });
  }
  return out;
}

function lockedFrom(s: Dict, onConsole: boolean, consoleLocked: boolean | undefined): boolean | null {
  const flag = s['CGSSessionScreenIsLocked'];
  if (typeof flag === 'boolean') return flag;
  if (!onConsole) return null;
  if (consoleLocked !== undefined) return consoleLocked;
  return s['kCGSessionLoginDoneKey'] === true ? false : null;
}

/** GUI sessions as `SessionState`s; `hidIdleNanos` undefined when it could not be read. */
export function macGuiSessions(users: ConsoleUsers, hidIdleNanos: number | undefined, thresholdSeconds: number, nowMs: number): SessionState[] {
  return users.sessions.flatMap((s) => {
    const user = s['kCGSSessionUserNameKey'];
    const id = s['kCGSSessionIDKey'] ?? s['kCGSSessionAuditIDKey'];
    // The login window appears as a pseudo-user while nobody is logged in.
    if (typeof user !== 'string' || user === '' || user === 'loginwindow') return [];
    if (typeof id !== 'number' && typeof id !== 'string') return [];
    const onConsole = s['kCGSSessionOnConsoleKey'] === true;
    const idle =
      onConsole && hidIdleNanos !== undefined
        ? idleSinceLastInput(nowMs - Math.floor(hidIdleNanos / 1e6), thresholdSeconds, nowMs)
        : IDLE_UNKNOWN;
    return [
      {
        id: label(String(id)),
        user: label(user),
        locked: lockedFrom(s, onConsole, users.consoleLocked),
        idle: idle.idle,
        ...(idle.idleSince ? { idleSince: idle.idleSince } : {}),
        remote: false,
        ...(onConsole ? { seat: 'console' } : {}),
        type: 'gui',
      },
    ];
  });
}

/** GUI sessions and remote logins on this Mac. */
export async function readMacSessions(src: ProbeSources, thresholdSeconds: number, nowMs: number): Promise<ProbeOutcome<SessionState>> {
  const [root, hid, who] = await Promise.all([
    src.runner.run('ioreg', ROOT_ARGS, { timeoutMs: TIMEOUT_MS }),
    src.runner.run('ioreg', HID_ARGS, { timeoutMs: TIMEOUT_MS }),
    src.runner.run('who', [], { timeoutMs: TIMEOUT_MS }),
  ]);
  if (!succeeded(root)) return unknown(describeFailure('ioreg -n Root', root));
  let users: ConsoleUsers;
  try {
    users = parseConsoleUsers(root.stdout);
  } catch (e) {
    return unknown(`ioreg -n Root printed nothing readable: ${(e as Error).message}`);
  }
  const hidIdle = succeeded(hid) ? parseHidIdleNanos(hid.stdout) : undefined;
  if (hidIdle === undefined) {
    const reason = succeeded(hid) ? 'no HIDIdleTime in its output' : describeFailure('ioreg -c IOHIDSystem', hid);
    src.log.debug({ reason }, 'HIDIdleTime not read');
  }
  if (!succeeded(who)) src.log.warn({ reason: describeFailure('who', who) }, 'remote logins not read');
  const remote = succeeded(who) ? parseWhoRemote(who.stdout) : [];
  return [
    ...macGuiSessions(users, hidIdle, thresholdSeconds, nowMs),
    ...remote.map(
      (r): SessionState => ({ id: label(r.tty), user: label(r.user), locked: null, idle: null, remote: true, type: 'tty' }),
    ),
  ];
}
