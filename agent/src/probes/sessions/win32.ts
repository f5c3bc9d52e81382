/**
 * Session state on Windows, as a service in session 0 can read it: `quser` (`query user`).
 *
 * quser prints one row per session: USERNAME, SESSIONNAME, ID, STATE, IDLE TIME, LOGON TIME,
 * with `>` before the caller's own session. Headers and state words are localised (`NOMBRE
 * USUARIO`, `Activo`/`Desc`), so rows are read by shape, not by header: the session ID is the
 * first number followed by a state word, an idle time and the logon time.
 *
 * IDLE TIME is minutes since the session's last keyboard or mouse input: `.` (under a minute),
 * `5`, `1:02` (h:mm), `2+03:04` (d+hh:mm). Windows 10 and later print `none` (localised:
 * `ninguno`) for the console session, whose input quser cannot see: that is reported as `null`.
 * Windows Server 2008 R2 prints nonsense such as `24692+13:29` for sessions active a moment ago;
 * anything over ten years is treated as unreadable too.
 *
 * Whether a session is locked cannot be read from session 0 at all: `locked` is always `null`
 * here. WINDOWS.md designs the per-user-session helper that would report it.
 *
 * Disconnected sessions (STATE `Disc`, no SESSIONNAME) have no screen and no input attached and
 * can only be resumed by signing in again, so there is no terminal to leave unattended: they are
 * not reported. (Where they were connected from is not shown either, and `remote` is required.)
 */
import type { SessionState } from '@vigil/shared/agent';
import { unknown, type ProbeOutcome, type ProbeSources } from '../probe.js';
import { describeFailure } from './command-failure.js';
import { IDLE_UNKNOWN, idleSinceLastInput, label, type IdleVerdict } from './session-fields.js';

const QUSER = 'quser';
const TIMEOUT_MS = 10_000;
const MINUTE_MS = 60_000;
/** Idle times beyond this are quser bugs, not idleness. */
const MAX_PLAUSIBLE_IDLE_MINUTES = 3650 * 24 * 60;

/** A quser row: marker, user (and session name), ID, state word, idle time, logon time. */
const ROW = /^[ >]?(.*?)\s+(\d+)\s+([^\s\d]\S*)\s+(\S+)\s+(\S.*?)\s*$/u;
/** Session names seen on workstations: console, rdp-tcp#N, ica-cgp#N, AVD's `<hex>#N`. */
const SESSION_NAME = /^(console|rdp-\S+|ica-\S+|\S+#\d+)$/i;

/** One row as quser printed it. */
export interface QuserRow {
  user: string;
  sessionName: string;
  id: string;
  state: string;
  idleTime: string;
}

/** Rows of quser output; the header and anything else that is not a session row are skipped. */
export function parseQuserRows(stdout: string): QuserRow[] {
  const rows: QuserRow[] = [];
  for (const raw of stdout.split(/\r?\n/)) {
    const m = ROW.exec(raw);
    if (!m) continue;
    const [, names = '', id = '', state = '', idleTime = ''] = m;
    const parts = names.trim().split(/\s{2,}/);
    let user = parts[0] ?? '';
    let sessionName = parts.length > 1 ? (parts[parts.length - 1] ?? '') : '';
    // A 20-character user name leaves a single space before the session name.
    if (parts.length === 1) {
      const words = user.split(' ');
      const last = words[words.length - 1] ?? '';
      if (words.length > 1 && SESSION_NAME.test(last)) {
        sessionName = last;
        user = words.slice(0, -1).join(' ');
      }
    }
    if (user !== '') rows.push({ user, sessionName, id, state, idleTime });
  }
  return rows;
}

/** Minutes of IDLE TIME, or `null` when quser does not give a usable number. */
export function quserIdleMinutes(idleTime: string): number | null {
  if (idleTime === '.') return 0;
  let minutes: number | undefined;
  const dhm = /^(\d+)\+(\d{1,2}):(\d{2})$/.exec(idleTime);
  const hm = /^(\d{1,2}):(\d{2})$/.exec(idleTime);
  if (dhm) minutes = Number(dhm[1]) * 1440 + Number(dhm[2]) * 60 + Number(dhm[3]);
  else if (hm) minutes = Number(hm[1]) * 60 + Number(hm[2]);
  else if (/^\d+$/.test(idleTime)) minutes = Number(idleTime);
  return minutes !== undefined && minutes <= MAX_PLAUSIBLE_IDLE_MINUTES ? minutes : null;
}

/** quser leaves SESSIONNAME empty for disconnected sessions; English and Spanish say Disc/Desc. */
const isDisconnected = (row: QuserRow): boolean => row.sessionName === '' || /^(disc|desc)/i.test(row.state);

/** `console`, `rdp`, or the session name without its `#N` connection number. */
function sessionType(name: string): string {
  const lower = name.toLowerCase();
  if (lower.startsWith('rdp-')) return 'rdp';
  return lower.replace(/#\d+$/, '');
}

function idleFrom(row: QuserRow, thresholdSeconds: number, nowMs: number): IdleVerdict {
  const minutes = quserIdleMinutes(row.idleTime);
  if (minutes === null) return IDLE_UNKNOWN;
  // quser counts whole minutes: the last input happened within the minute before that.
  const lastInput = Math.floor((nowMs - minutes * MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
  return idleSinceLastInput(lastInput, thresholdSeconds, nowMs);
}

/** Connected sessions from quser output. */
export function windowsSessions(stdout: string, thresholdSeconds: number, nowMs: number): SessionState[] {
  return parseQuserRows(stdout)
    .filter((row) => !isDisconnected(row))
    .map((row) => {
      const idle = idleFrom(row, thresholdSeconds, nowMs);
      const atConsole = row.sessionName.toLowerCase() === 'console';
      return {
        id: label(row.id),
        user: label(row.user),
        locked: null,
        idle: idle.idle,
        ...(idle.idleSince ? { idleSince: idle.idleSince } : {}),
        remote: !atConsole,
        ...(atConsole ? { seat: 'console' } : {}),
        type: label(sessionType(row.sessionName)),
      };
    });
}

/** Sessions of people signed in to this Windows machine, locally or over RDP. */
export async function readWindowsSessions(src: ProbeSources, thresholdSeconds: number, nowMs: number): Promise<ProbeOutcome<SessionState>> {
  const r = await src.runner.run(QUSER, [], { timeoutMs: TIMEOUT_MS });
  if (r.error === 'not-found') return unknown('quser.exe is not available (Windows Home editions do not include it)');
  if (r.error === 'timeout') return unknown(describeFailure(QUSER, r));
  if (parseQuserRows(r.stdout).length > 0) return windowsSessions(r.stdout, thresholdSeconds, nowMs);
  // Nobody signed in: quser exits 1 and says so on stderr.
  if (/No User exists/i.test(r.stderr)) return [];
  return unknown(r.code === 0 ? 'quser printed no session rows' : describeFailure(QUSER, r));
}
