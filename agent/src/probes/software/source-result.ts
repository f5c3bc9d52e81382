import type { SoftwareItem } from '@vigil/shared/agent';
import type { CommandResult } from '../command-runner.js';
import { unknown, type ProbeSources, type Unknown } from '../probe.js';

/**
 * What one package source (dpkg, rpm, snap, the Uninstall registry keys…) yielded.
 *
 * - `ok`: it was read; `items` may be empty (a tool that is installed but manages nothing).
 * - `absent`: the source does not exist on this machine (tool not installed, database missing):
 *   it contributes no packages and is not an error.
 * - `failed`: the source exists but could not be read (tool errored, timed out, unparseable).
 */
export type SourceResult =
  | { source: SoftwareItem['source']; status: 'ok'; items: SoftwareItem[] }
  | { source: SoftwareItem['source']; status: 'absent' }
  | { source: SoftwareItem['source']; status: 'failed'; reason: string };

/** The inventory of one platform: every item that was read, and which sources could not be. */
export interface Inventory {
  outcome: SoftwareItem[] | Unknown;
  /** Sources that exist but failed this time: their packages are missing from `outcome`. */
  failedSources: SoftwareItem['source'][];
}

/**
 * The rule for combining sources into one inventory:
 *
 * - at least one source read → the items of every source that was read; each failed source is
 *   logged with `warn` and listed in `failedSources` (so a diff can leave its packages alone
 *   instead of reporting them all removed);
 * - no source read and at least one failed → `unknown`, with every failure's reason;
 * - every source absent → `unknown` ("no supported package database"): an empty list would claim
 *   that nothing is installed, which is never true of a running system.
 */
export function combineSources(
  results: SourceResult[],
  log: ProbeSources['log'],
  platformLabel: string,
): Inventory {
  const items: SoftwareItem[] = [];
  const failed: Extract<SourceResult, { status: 'failed' }>[] = [];
  let read = 0;
  for (const r of results) {
    if (r.status === 'ok') {
      read++;
      items.push(...r.items);
    } else if (r.status === 'failed') {
      failed.push(r);
      log.warn({ source: r.source, reason: r.reason }, 'software source could not be read');
    } else {
      log.debug({ source: r.source }, 'software source not present');
    }
  }
  const failedSources = [...new Set(failed.map((f) => f.source))];
  if (read > 0) return { outcome: items, failedSources };
  if (failed.length > 0) {
    return { outcome: unknown(failed.map((f) => `${f.source}: ${f.reason}`).join('; ')), failedSources };
  }
  return { outcome: unknown(`no supported package database found on ${platformLabel}`), failedSources };
}

/**
 * Classify a finished command: `absent` when the program is not installed, a failure reason when
 * it ran but did not succeed, or undefined when its output can be parsed.
 */
export function commandProblem(res: CommandResult, what: string): 'absent' | string | undefined {
  if (res.error === 'not-found') return 'absent';
  if (res.error === 'timeout') return `${what} timed out`;
  if (res.error !== undefined || res.code !== 0) {
    const detail = res.stderr.trim().split('\n')[0]?.slice(0, 200) ?? '';
    return `${what} failed (exit ${res.code ?? 'none'})${detail ? `: ${detail}` : ''}`;
  }
  return undefined;
}
