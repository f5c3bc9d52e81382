import type { Logger } from 'pino';
import type { CommandRunner } from './command-runner.js';

/**
 * Where the probes read the OS from. Every source is injectable, so tests run the real parsing
 * code on fixtures of real output (a sysfs tree in a temp dir, a copy of a dpkg status file, a
 * runner that answers with captured command output).
 */
export interface ProbeSources {
  platform: NodeJS.Platform;
  /** Root of the sysfs tree (`/sys`). */
  sysfsRoot: string;
  /** dpkg status file (`/var/lib/dpkg/status`). */
  dpkgStatus: string;
  /**
   * Prefix for every other file a probe reads (`/etc/passwd`, a user's `~/.config/…`,
   * `/Applications/…`): `/` in production, a fixture tree in tests.
   */
  fsRoot: string;
  runner: CommandRunner;
  log: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

/** A probe could not read its facts: say so and why, never guess. */
export interface Unknown {
  status: 'unknown';
  reason: string;
}

export type ProbeOutcome<T> = T[] | Unknown;

export const unknown = (reason: string): Unknown => ({ status: 'unknown', reason: reason.slice(0, 2000) });

export function isUnknown<T>(o: ProbeOutcome<T>): o is Unknown {
  return !Array.isArray(o);
}
