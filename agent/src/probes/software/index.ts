import type { SoftwareItem } from '@vigil/shared/agent';
import { unknown, type ProbeOutcome, type ProbeSources } from '../probe.js';
import { readDarwinSoftware } from './darwin.js';
import { readLinuxSoftware } from './linux.js';
import { normaliseInventory, type SoftwareSource } from './software-diff.js';
import type { Inventory } from './source-result.js';
import { readWin32Software } from './win32.js';

/**
 * The installed-software probe: one inventory per platform (each OS's sources live in their own
 * files), merged to one item per identity and sorted, so two reads of an unchanged machine are
 * equal item for item.
 */

export { diffSoftware, carryForwardUnread, identityOf, normaliseInventory, type SoftwareDiff, type DiffOptions } from './software-diff.js';
export { softwareChangeStamp } from './change-stamp.js';

export interface SoftwareReading {
  outcome: ProbeOutcome<SoftwareItem>;
  /**
   * Sources that exist on this machine but could not be read this time. Their packages are
   * missing from `outcome`: pass them to `diffSoftware(…, { unreadSources })` and keep their old
   * items with `carryForwardUnread`, so a passing failure is not reported as mass removal.
   */
  failedSources: SoftwareSource[];
}

const READERS: Partial<Record<NodeJS.Platform, (src: ProbeSources) => Promise<Inventory>>> = {
  linux: readLinuxSoftware,
  win32: readWin32Software,
  darwin: readDarwinSoftware,
};

/** The inventory with the sources that failed. Never throws: an unexpected error is `unknown`. */
export async function readSoftwareDetailed(src: ProbeSources): Promise<SoftwareReading> {
  const reader = READERS[src.platform];
  if (!reader) return { outcome: unknown(`installed software is not read on ${src.platform}`), failedSources: [] };
  try {
    const inv = await reader(src);
    return { outcome: Array.isArray(inv.outcome) ? normaliseInventory(inv.outcome) : inv.outcome, failedSources: inv.failedSources };
  } catch (e) {
    src.log.warn({ err: e }, 'software inventory failed');
    return { outcome: unknown(`software inventory failed: ${(e as Error).message}`), failedSources: [] };
  }
}

/** Installed software on this machine, by platform, merged and sorted; `unknown` (with why) if nothing could be read. */
export async function readSoftware(src: ProbeSources): Promise<ProbeOutcome<SoftwareItem>> {
  return (await readSoftwareDetailed(src)).outcome;
}
