import type { SoftwareItem } from '@vigil/shared/agent';
import { cleanText } from '../untrusted-text.js';
import { MAX_VERSION } from './software-item.js';

/**
 * Identity, ordering and change detection for software inventories.
 *
 * A package's identity is source + name + architecture: the same name from dpkg and snap are two
 * packages, and so are libc6:amd64 and libc6:i386. A version change under the same identity is an
 * upgrade, whichever direction it goes (a downgrade is reported as `upgraded` too).
 */

export type SoftwareSource = SoftwareItem['source'];

export const identityOf = (i: SoftwareItem): string => `${i.source}\u0000${i.name}\u0000${i.arch ?? ''}`;

/** Code-unit order (not locale order): the same on every machine. */
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function compareItems(a: SoftwareItem, b: SoftwareItem): number {
  return cmp(a.source, b.source) || cmp(a.name, b.name) || cmp(a.arch ?? '', b.arch ?? '') || cmp(a.version, b.version);
}

/**
 * One item per identity, sorted. Where a source reports the same identity more than once (several
 * kernels from rpm, an app in both the system and a user's Applications, a flatpak installed for the
 * system and a user) the versions are joined (`5.14.0-1, 5.14.0-2`), so installing or removing one
 * of them shows up as a version change.
 */
export function normaliseInventory(items: readonly SoftwareItem[]): SoftwareItem[] {
  const groups = new Map<string, SoftwareItem[]>();
  for (const item of items) {
    const key = identityOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const out: SoftwareItem[] = [];
  for (const group of groups.values()) {
    const [first, ...rest] = group;
    if (!first) continue;
    if (rest.length === 0) {
      out.push(first);
      continue;
    }
    const versions = [...new Set(group.flatMap((i) => i.version.split(', ')).filter((v) => v !== ''))].sort(cmp);
    const merged: SoftwareItem = { ...first, version: cleanText(versions.join(', '), MAX_VERSION) };
    const publisher = group.find((i) => i.publisher)?.publisher;
    if (publisher) merged.publisher = publisher;
    const installed = group.map((i) => i.installedAt).filter((t): t is string => t !== undefined).sort(cmp).at(-1);
    if (installed) merged.installedAt = installed;
    out.push(merged);
  }
  return out.sort(compareItems);
}

export interface SoftwareDiff {
  installed: SoftwareItem[];
  removed: SoftwareItem[];
  upgraded: { from: SoftwareItem; to: SoftwareItem }[];
}

export interface DiffOptions {
  /**
   * Sources that could not be read for `after` (see `readSoftwareDetailed`): their packages are
   * absent from `after` because of the failure, not because they were removed, so they are not
   * reported as removed.
   */
  unreadSources?: readonly SoftwareSource[];
}

/** What changed between two inventories, each list sorted. */
export function diffSoftware(before: SoftwareItem[], after: SoftwareItem[], opts: DiffOptions = {}): SoftwareDiff {
  const unread = new Set(opts.unreadSources ?? []);
  const prev = new Map(normaliseInventory(before).map((i) => [identityOf(i), i]));
  const next = new Map(normaliseInventory(after).map((i) => [identityOf(i), i]));
  const diff: SoftwareDiff = { installed: [], removed: [], upgraded: [] };
  for (const [key, to] of next) {
    const from = prev.get(key);
    if (!from) diff.installed.push(to);
    else if (from.version !== to.version) diff.upgraded.push({ from, to });
  }
  for (const [key, from] of prev) {
    if (!next.has(key) && !unread.has(from.source)) diff.removed.push(from);
  }
  diff.installed.sort(compareItems);
  diff.removed.sort(compareItems);
  diff.upgraded.sort((a, b) => compareItems(a.to, b.to));
  return diff;
}

/**
 * The inventory to keep as "current" after a partial read: `after`, plus the previous items of
 * every source that could not be read, so the next diff does not report them as installed again.
 */
export function carryForwardUnread(before: SoftwareItem[], after: SoftwareItem[], unreadSources: readonly SoftwareSource[]): SoftwareItem[] {
  const unread = new Set(unreadSources);
  return normaliseInventory([...after, ...before.filter((i) => unread.has(i.source))]);
}
