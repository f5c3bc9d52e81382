/**
 * Session lock and idle state on Linux, from systemd-logind (or elogind) through `loginctl`.
 *
 * Commands:
 *   loginctl list-sessions --no-legend --no-pager -o json
 *   loginctl show-session <id…> -p Id -p Name -p Type -p Class -p State -p Remote -p Seat
 *            -p LockedHint -p IdleHint -p IdleSinceHint
 *
 * `-o json` makes systemd up to 255 print JSON where its list is a formatted table (252 and 255
 * do; 219 does not); systemd 256+ ignores `-o` for list commands (it became journal-only) and
 * prints the table, as old versions do. Both are parsed:
 * only the session id is taken from the listing (the first column since v208), everything else
 * comes from `show-session`, whose `Key=value` form has not changed.
 *
 * What the properties mean (logind-session.c, `session_get_idle_hint`):
 * - graphical sessions (x11, wayland, mir): IdleHint is whatever the desktop last set with
 *   SetIdleHint, and IdleSinceHint (µs since the epoch) is when it last changed; 0 means the
 *   desktop never set it (KDE and wlroots compositors without a logind idle bridge never do), so
 *   `IdleHint=no` only counts as "not idle" when IdleSinceHint shows the desktop maintains it.
 *   The desktop declares idleness after its own delay (GNOME: idle-delay), so idleness beyond
 *   our threshold is counted from that moment: never more idle than the desktop said.
 * - text sessions (tty, including ssh): logind has no hint to be told; IdleSinceHint is the
 *   terminal's last access time (the last input), and IdleHint only turns `yes` after
 *   IdleActionSec, so idleness beyond our own threshold is computed from IdleSinceHint.
 * - LockedHint is set by screen lockers that call SetLockedHint (GNOME, KDE, Cinnamon, …);
 *   it was added in systemd 230. Text sessions have no locker to set it.
 */
import type { SessionState } from '@vigil/shared/agent';
import type { CommandResult } from '../command-runner.js';
import { unknown, type ProbeOutcome, type ProbeSources } from '../probe.js';
import { describeFailure, firstLines, succeeded } from './command-failure.js';
import { IDLE_UNKNOWN, idleSinceLastInput, label, type IdleVerdict } from './session-fields.js';

const LOGINCTL = 'loginctl';
const LIST_ARGS = ['list-sessions', '--no-legend', '--no-pager', '-o', 'json'] as const;
const SHOW_PROPERTIES = ['Id', 'Name', 'Type', 'Class', 'State', 'Remote', 'Seat', 'LockedHint', 'IdleHint', 'IdleSinceHint'];
const TIMEOUT_MS = 10_000;

/** Session classes of a person logged in (greeter, lock-screen, manager, background are not). */
const USER_CLASSES = new Set(['user', 'user-early', 'user-incomplete', 'user-light']);
/** Session types with a terminal or a screen someone can sit at. */
const TERMINAL_TYPES = new Set(['tty', 'x11', 'wayland', 'mir']);
const GRAPHICAL_TYPES = new Set(['x11', 'wayland', 'mir']);
/** `closing` is a logged-out session whose processes linger; `opening` is not set up yet. */
const LIVE_STATES = new Set(['active', 'online']);
/** logind session ids are short alphanumerics (`2`, `c1`); anything else is not passed on. */
const SESSION_ID = /^[A-Za-z0-9]{1,64}$/;

/**
 * Session ids from `loginctl list-sessions`, JSON (systemd 240–255 with `-o json`, or 256+ with
 * `--json`) or the table any version prints (with or without header and footer).
 * Throws when the output is JSON but not a list of sessions.
 */
export function parseSessionList(stdout: string): string[] {
  const text = stdout.trim();
  if (text.startsWith('[')) {
    const rows: unknown = JSON.parse(text);
    if (!Array.isArray(rows)) throw new Error('loginctl printed JSON that is not a list');
    return rows.flatMap((row: unknown) => {
      const id = typeof row === 'object' && row !== null ? (row as { session?: unknown }).session : undefined;
      return typeof id === 'string' && SESSION_ID.test(id) ? [id] : [];
    });
  }
  const ids: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || /^\d+ sessions? listed\.$/.test(line) || line === 'No sessions.') continue;
    const first = line.split(/\s+/)[0] ?? '';
    if (first !== 'SESSION' && SESSION_ID.test(first)) ids.push(first);
  }
  return ids;
}

/** The blocks of `Key=value` lines `show-session` prints, one per session, blank-line separated. */
export function parsePropertyBlocks(stdout: string): Map<string, string>[] {
  const blocks: Map<string, string>[] = [];
  let current = new Map<string, string>();
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') {
      if (current.size > 0) blocks.push(current);
      current = new Map();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) current.set(line.slice(0, eq), line.slice(eq + 1));
  }
  if (current.size > 0) blocks.push(current);
  return blocks;
}

/** A µs-since-epoch property as epoch ms; `undefined` when missing, 0 (unset) or not a number. */
function usecToMs(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const ms = Math.floor(Number(value) / 1000);
  return ms > 0 ? ms : undefined;
}

/**
 * Locked from LockedHint. A text session has no locker that would set the hint, so its `no` is a
 * default rather than an observation and is reported as `null`; a missing property (systemd
 * before 230) is `null` everywhere.
 */
function lockedFrom(hint: string | undefined, type: string): boolean | null {
  if (hint === 'yes') return true;
  if (hint === 'no' && GRAPHICAL_TYPES.has(type)) return false;
  return null;
}

/** Idle beyond the threshold, following what logind's properties mean for this session type. */
function idleFrom(p: Map<string, string>, type: string, thresholdSeconds: number, nowMs: number): IdleVerdict {
  const since = usecToMs(p.get('IdleSinceHint'));
  if (since === undefined) return IDLE_UNKNOWN;
  if (!GRAPHICAL_TYPES.has(type)) return idleSinceLastInput(since, thresholdSeconds, nowMs);
  const hint = p.get('IdleHint');
  if (hint === 'yes') return idleSinceLastInput(since, thresholdSeconds, nowMs);
  if (hint === 'no') return { idle: false };
  return IDLE_UNKNOWN;
}

/**
 * One `show-session` block as a `SessionState`, or `undefined` for sessions that are not a person
 * at a terminal (greeters, user managers, background and closing sessions).
 */
export function linuxSessionState(p: Map<string, string>, thresholdSeconds: number, nowMs: number): SessionState | undefined {
  const id = p.get('Id');
  const user = p.get('Name');
  const type = p.get('Type') ?? '';
  const cls = p.get('Class') ?? '';
  const state = p.get('State');
  if (!id || !user || !USER_CLASSES.has(cls) || !TERMINAL_TYPES.has(type)) return undefined;
  if (state !== undefined && !LIVE_STATES.has(state)) return undefined;
  const seat = p.get('Seat');
  const idle = idleFrom(p, type, thresholdSeconds, nowMs);
  return {
    id: label(id),
    user: label(user),
    locked: lockedFrom(p.get('LockedHint'), type),
    idle: idle.idle,
    ...(idle.idleSince ? { idleSince: idle.idleSince } : {}),
    remote: p.get('Remote') === 'yes',
    ...(seat ? { seat: label(seat) } : {}),
    type,
  };
}

/** Why `loginctl list-sessions` gave nothing usable, naming a missing logind as such. */
function listFailure(r: CommandResult): string {
  if (r.error === 'not-found') return 'loginctl is not installed: there is no systemd-logind or elogind to ask';
  const said = firstLines(r.stderr) || firstLines(r.stdout);
  if (r.error !== 'timeout' && /booted with systemd|Failed to connect to bus|Host is down/i.test(said)) {
    return `systemd-logind is not running (loginctl: ${said})`;
  }
  return describeFailure('loginctl list-sessions', r);
}

const showArgs = (ids: readonly string[]): string[] => ['show-session', ...ids, ...SHOW_PROPERTIES.flatMap((p) => ['-p', p])];

/**
 * Properties of the listed sessions: one `show-session` call for all of them, then one call per
 * session still missing (systemd before 233 printed the first session for every id given; a
 * session that ended since the listing is simply gone).
 */
async function showSessions(src: ProbeSources, ids: readonly string[]): Promise<{ blocks: Map<string, string>[]; failure?: string }> {
  const found = new Map<string, Map<string, string>>();
  let failure: string | undefined;
  const collect = (r: CommandResult): void => {
    for (const block of parsePropertyBlocks(r.stdout)) {
      const id = block.get('Id');
      if (id && ids.includes(id) && !found.has(id)) found.set(id, block);
    }
  };
  collect(await src.runner.run(LOGINCTL, showArgs(ids), { timeoutMs: TIMEOUT_MS }));
  for (const id of ids.filter((i) => !found.has(i))) {
    const r = await src.runner.run(LOGINCTL, showArgs([id]), { timeoutMs: TIMEOUT_MS });
    if (!succeeded(r)) {
      const reason = describeFailure('loginctl show-session', r);
      src.log.debug({ session: id, reason }, 'session not shown');
      // "No session 'x' known": it ended after the listing, which is no failure.
      if (!/no session/i.test(r.stderr)) failure = reason;
    }
    collect(r);
  }
  const blocks = ids.flatMap((id) => {
    const block = found.get(id);
    return block ? [block] : [];
  });
  return failure === undefined ? { blocks } : { blocks, failure };
}

/** Sessions of people at a terminal or screen, as logind reports them. */
export async function readLinuxSessions(src: ProbeSources, thresholdSeconds: number, nowMs: number): Promise<ProbeOutcome<SessionState>> {
  const list = await src.runner.run(LOGINCTL, LIST_ARGS, { timeoutMs: TIMEOUT_MS });
  if (!succeeded(list)) return unknown(listFailure(list));
  let ids: string[];
  try {
    ids = parseSessionList(list.stdout);
  } catch {
    return unknown(`loginctl list-sessions printed neither its table nor a JSON list: ${firstLines(list.stdout, 1)}`);
  }
  if (ids.length === 0) return [];
  const { blocks, failure } = await showSessions(src, ids);
  // Listed sessions that all failed to show are not "no sessions": say why instead.
  if (blocks.length === 0 && failure !== undefined) return unknown(failure);
  return blocks.flatMap((b) => {
    const s = linuxSessionState(b, thresholdSeconds, nowMs);
    return s ? [s] : [];
  });
}
