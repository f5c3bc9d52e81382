import type { HostFacts, ScreenlockSetting, SessionState, SoftwareItem, UsbDevice } from '@vigil/shared/agent';
import type { ProbeOutcome, ProbeSources } from './probe.js';
import { unknown } from './probe.js';
import { readScreenlock, localUsers, type DesktopUser } from './screenlock/index.js';
import { readSessions } from './sessions/index.js';
import { readSoftware } from './software/index.js';
import { readUsbDevices } from './usb/index.js';

/** Everything a snapshot carries; what `vigil-agent collect --json` prints. */
export interface Facts {
  host: HostFacts;
  usb: ProbeOutcome<UsbDevice>;
  software: ProbeOutcome<SoftwareItem>;
  screenlock: ProbeOutcome<ScreenlockSetting>;
  sessions: ProbeOutcome<SessionState>;
}

/** A probe that throws is reported as unknown with why; one probe never takes the others down. */
export async function guarded<T>(name: string, src: Pick<ProbeSources, 'log'>, read: () => Promise<ProbeOutcome<T>>): Promise<ProbeOutcome<T>> {
  try {
    return await read();
  } catch (err) {
    src.log.warn({ probe: name, err: (err as Error).message }, 'probe failed');
    return unknown(`${name} probe failed: ${(err as Error).message}`);
  }
}

/**
 * The users whose screen-lock settings matter: those with a local session, with their uid and
 * home. When sessions can't be read, every local account is checked instead of none.
 */
export async function desktopUsers(src: ProbeSources, sessions: ProbeOutcome<SessionState>): Promise<DesktopUser[]> {
  if (src.platform === 'win32') return [];
  const known = src.platform === 'linux' ? await localUsers(src).catch(() => []) : [];
  if (!Array.isArray(sessions)) return known;
  const names = new Set(sessions.filter((s) => !s.remote).map((s) => s.user));
  return [...names].map((name) => known.find((u) => u.name === name) ?? { name });
}

export async function collectFacts(
  src: ProbeSources,
  deps: { version: string; idleThresholdSeconds: number; collectHostFacts(v: string): Promise<HostFacts> },
): Promise<Facts> {
  const [host, usb, software, sessions] = await Promise.all([
    deps.collectHostFacts(deps.version),
    guarded('usb', src, () => readUsbDevices(src)),
    guarded('software', src, () => readSoftware(src)),
    guarded('sessions', src, () => readSessions(src, deps.idleThresholdSeconds)),
  ]);
  const users = await desktopUsers(src, sessions);
  const screenlock = await guarded('screenlock', src, () => readScreenlock(src, users));
  return { host, usb, software, screenlock, sessions };
}
