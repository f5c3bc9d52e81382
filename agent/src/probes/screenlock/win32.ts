import type { ScreenlockSetting } from '@vigil/shared/agent';
import type { ProbeSources } from '../probe.js';
import type { DesktopUser } from './desktop-user.js';
import { parseRegQuery, regNumber, type RegValue } from '../windows/reg-query.js';
import { regAnswer, type RegAnswer } from './reg-query.js';
import { known, MAX_SECONDS, printable, unknownFact, userLabel, type BoolFact, type SecondsFact } from './setting-fact.js';

/**
 * Windows screen lock, from the registry with `reg query` (no PowerShell, no native module).
 *
 * Two mechanisms lock an idle session:
 * - the machine inactivity limit, `InactivityTimeoutSecs` (REG_DWORD) under
 *   HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System — "Interactive logon: Machine
 *   inactivity limit"; 0 or unset means no limit; when set the session locks at once;
 * - a password-protected screen saver, per user under HKU\<SID>\Control Panel\Desktop
 *   (ScreenSaveActive, SCRNSAVE.EXE, ScreenSaveTimeOut, ScreenSaverIsSecure), each value
 *   overridden by the same value under HKU\<SID>\Software\Policies\Microsoft\Windows\Control Panel\
 *   Desktop (Group Policy wins). A screen saver runs only when it is active, one is selected
 *   (SCRNSAVE.EXE) and the timeout is non-zero (the "Enable screen saver" policy text); an unset
 *   ScreenSaverIsSecure behaves as 0. The password is asked after Winlogon's
 *   ScreenSaverGracePeriod (REG_SZ seconds, 5 when unset — Microsoft KB Q221784).
 *
 * Users: every profile in HKLM\…\ProfileList whose SID is a user's (S-1-5-21-…, Azure AD
 * S-1-12-1-…) and whose hive is loaded in HKU (its Control Panel\Desktop key answers) — i.e.
 * users signed in (or whose hive a service holds). The name is the last part of ProfileImagePath.
 * When the caller passes users with a `sid`, only those SIDs are read, under the caller's names.
 */

const TIMEOUT_MS = 10_000;
const PROFILE_LIST = 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList';
const SYSTEM_POLICIES = 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System';
const WINLOGON = 'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon';
const USER_SID = /^S-1-(5-21|12-1)(-\d{1,10}){4}$/;

async function query(src: ProbeSources, key: string, value?: string): Promise<RegAnswer> {
  const args = value === undefined ? ['query', key] : ['query', key, '/v', value];
  const r = await src.runner.run('reg', args, { timeoutMs: TIMEOUT_MS });
  return regAnswer(`reg query ${key}${value ? ` /v ${value}` : ''}`, r, TIMEOUT_MS);
}

/** A machine-wide number of seconds: set, unset (the given default), or unreadable. */
async function machineSeconds(src: ProbeSources, key: string, value: string, unset: { value: number; why: string }): Promise<SecondsFact> {
  const a = await query(src, key, value);
  if (a.kind === 'failed') return unknownFact(a.reason);
  if (a.kind === 'absent') return known(unset.value, `default (${value} not set: ${unset.why})`);
  const v = a.values.get(value.toLowerCase());
  const n = regNumber(v);
  if (n === undefined || n > MAX_SECONDS) return unknownFact(`unexpected ${value} value: ${printable(v ? `${v.type} ${v.data}` : 'missing', 60)}`);
  return known(n, `${key}\\${value}`);
}

/** SID → user name from the ProfileList (`/s /v ProfileImagePath`). */
export function profileNames(stdout: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const { path, values } of parseRegQuery(stdout)) {
    const sid = path.split('\\').pop() ?? '';
    const image = values.get('profileimagepath')?.data;
    if (!USER_SID.test(sid) || !image) continue;
    const name = image.split('\\').filter(Boolean).pop();
    if (name) names.set(sid, name);
  }
  return names;
}

/** One screen-saver value: the policy's when set, else the user's. */
function pick(policy: Map<string, RegValue>, user: Map<string, RegValue>, name: string, sid: string): { v?: RegValue; source: string } {
  const p = policy.get(name.toLowerCase());
  if (p) return { v: p, source: `HKU\\${sid}\\Software\\Policies\\…\\Control Panel\\Desktop\\${p.name} (policy)` };
  const u = user.get(name.toLowerCase());
  return { ...(u ? { v: u } : {}), source: `HKU\\${sid}\\Control Panel\\Desktop\\${u?.name ?? name}` };
}

interface Saver {
  runs: BoolFact;
  secure: BoolFact;
  timeout: SecondsFact;
}

/** Does this user's screen saver run, lock, and after how long. */
export function screenSaver(policy: Map<string, RegValue>, user: Map<string, RegValue>, sid: string): Saver {
  const active = pick(policy, user, 'ScreenSaveActive', sid);
  const exe = pick(policy, user, 'SCRNSAVE.EXE', sid);
  const secureV = pick(policy, user, 'ScreenSaverIsSecure', sid);
  const timeoutV = pick(policy, user, 'ScreenSaveTimeOut', sid);
  const n = regNumber(timeoutV.v);
  const timeout: SecondsFact = !timeoutV.v
    ? unknownFact(`ScreenSaveTimeOut not set (${timeoutV.source})`)
    : n === undefined
      ? unknownFact(`unexpected ScreenSaveTimeOut value "${printable(timeoutV.v.data, 40)}" (${timeoutV.source})`)
      : known(n, timeoutV.source);
  const flag = (x: { v?: RegValue; source: string }, name: string, unset?: boolean): BoolFact => {
    const d = x.v === undefined ? undefined : (regNumber(x.v) ?? -1);
    if (d === undefined) return unset === undefined ? unknownFact(`${name} not set (${x.source})`) : known(unset, `default (${name} not set: ${unset ? 1 : 0})`);
    if (d === 0 || d === 1) return known(d === 1, x.source);
    return unknownFact(`unexpected ${name} value "${printable(x.v?.data ?? '', 40)}" (${x.source})`);
  };
  const secure = flag(secureV, 'ScreenSaverIsSecure', false);
  let runs: BoolFact;
  if (!exe.v?.data) runs = known(false, `${exe.source} not set: no screen saver selected`);
  else {
    const on = flag(active, 'ScreenSaveActive');
    if (on.status === 'known' && !on.value) runs = on;
    else if (timeout.status === 'known' && timeout.value === 0) runs = known(false, `${timeout.source} is 0`);
    else if (on.status === 'unknown') runs = on;
    else if (timeout.status === 'unknown') runs = timeout;
    else runs = known(true, `${on.source}; ${exe.source}; ${timeout.source}`);
  }
  return { runs, secure, timeout };
}

/** Which lock comes first when idle, and the grace before its password prompt. */
function firstLock(machine: SecondsFact, grace: SecondsFact, s: Saver, saverLocks: BoolFact): { idle: SecondsFact; grace: SecondsFact } {
  if (machine.status === 'unknown') return { idle: machine, grace: machine };
  const atOnce = known(0, `${machine.source} (locks at once)`);
  const limitOn = machine.value > 0;
  if (saverLocks.status === 'unknown') {
    // The screen saver cannot come first if it would start after the machine limit anyway.
    if (limitOn && s.timeout.status === 'known' && s.timeout.value >= machine.value) return { idle: machine, grace: atOnce };
    return { idle: saverLocks, grace: saverLocks };
  }
  if (saverLocks.value && s.timeout.status === 'known' && (!limitOn || s.timeout.value < machine.value)) return { idle: s.timeout, grace };
  if (limitOn) return { idle: machine, grace: atOnce };
  if (s.runs.status === 'known' && s.runs.value) return { idle: s.timeout, grace }; // starts, but does not lock
  return { idle: known(0, 'never: no screen saver runs and no machine inactivity limit is set'), grace };
}

/**
 * Combine the machine limit and the screen saver into the reported setting. Every Windows lock
 * (workstation lock or secure screen saver) asks for the password, so passwordRequired follows
 * enabled; an unsecured screen saver is not a lock.
 */
export function combine(user: string, machine: SecondsFact, grace: SecondsFact, s: Saver): ScreenlockSetting {
  const firstFalse = [s.runs, s.secure].find((f) => f.status === 'known' && !f.value);
  const firstUnknown = [s.runs, s.secure].find((f) => f.status === 'unknown');
  const saverLocks: BoolFact = firstFalse ?? firstUnknown ?? known(true, `${s.runs.status === 'known' ? s.runs.source : ''}; ${s.secure.status === 'known' ? s.secure.source : ''}`);

  let enabled: BoolFact;
  if (machine.status === 'known' && machine.value > 0) enabled = known(true, `${machine.source} (machine inactivity limit)`);
  else if (saverLocks.status === 'known' && saverLocks.value) enabled = saverLocks;
  else if (machine.status === 'unknown') enabled = machine;
  else if (saverLocks.status === 'unknown') enabled = saverLocks;
  else enabled = known(false, `${saverLocks.source}; ${machine.source}`);

  const { idle, grace: graceFact } = firstLock(machine, grace, s, saverLocks);
  return { user: userLabel(user), enabled, idleTimeoutSeconds: idle, graceSeconds: graceFact, passwordRequired: enabled };
}

/** Read the screen-lock settings of every loaded user profile on Windows. */
export async function readWindows(src: ProbeSources, users: readonly DesktopUser[]): Promise<ScreenlockSetting[]> {
  const [profiles, machine, grace] = await Promise.all([
    src.runner.run('reg', ['query', PROFILE_LIST, '/s', '/v', 'ProfileImagePath'], { timeoutMs: TIMEOUT_MS }),
    machineSeconds(src, SYSTEM_POLICIES, 'InactivityTimeoutSecs', { value: 0, why: 'no machine inactivity limit' }),
    machineSeconds(src, WINLOGON, 'ScreenSaverGracePeriod', { value: 5, why: 'Windows uses 5 s' }),
  ]);
  const listed = regAnswer(`reg query ${PROFILE_LIST}`, profiles, TIMEOUT_MS);
  const given = users.filter((u) => u.sid !== undefined && USER_SID.test(u.sid));
  let targets: { sid: string; name: string }[];
  if (given.length > 0) {
    targets = given.map((u) => ({ sid: u.sid as string, name: u.name }));
  } else if (listed.kind === 'values') {
    targets = [...profileNames(profiles.stdout)].map(([sid, name]) => ({ sid, name }));
  } else {
    throw new Error(listed.kind === 'failed' ? listed.reason : 'ProfileList has no entries');
  }

  const one = async ({ sid, name }: { sid: string; name: string }): Promise<ScreenlockSetting | undefined> => {
    const desktop = await query(src, `HKU\\${sid}\\Control Panel\\Desktop`);
    if (desktop.kind === 'absent') return undefined; // hive not loaded: not signed in
    if (desktop.kind === 'failed') return combine(name, machine, grace, { runs: unknownFact(desktop.reason), secure: unknownFact(desktop.reason), timeout: unknownFact(desktop.reason) });
    const policy = await query(src, `HKU\\${sid}\\Software\\Policies\\Microsoft\\Windows\\Control Panel\\Desktop`);
    if (policy.kind === 'failed') {
      const why = `${policy.reason}; Group Policy may override this user's screen saver`;
      return combine(name, machine, grace, { runs: unknownFact(why), secure: unknownFact(why), timeout: unknownFact(why) });
    }
    return combine(name, machine, grace, screenSaver(policy.kind === 'values' ? policy.values : new Map(), desktop.values, sid));
  };
  const out = await Promise.all(targets.map(one));
  return out.filter((s): s is ScreenlockSetting => s !== undefined);
}
