import type { SoftwareItem } from '@vigil/shared';
import type { SoftwareCatalogue } from './catalogue.js';
import { classifySoftware } from './classify.js';

/** How one licensed title is deployed across the fleet. */
export interface LicenceUsage {
  title: string;
  seats: number;
  /** Hosts with at least one item classified `licensed` under this title. */
  installs: number;
  /** Those hosts' ids, sorted. */
  hosts: string[];
  /** How many installs exceed the seats (0 when within them). */
  overBy: number;
}

export interface HostSoftware {
  hostId: string;
  items: readonly SoftwareItem[];
}

/**
 * Seat use of every licensed title, in catalogue order (titles with no installs included, so a
 * report shows spare seats too). An install is a host, not a package: one host with two versions,
 * two architectures or two components of a title uses one seat, and a host listed twice counts
 * once. An item counts only if `classifySoftware` puts it under the title as `licensed` — an item
 * a prohibited title also matches is prohibited, and uses no seat.
 */
export function licenceUsage(installs: readonly HostSoftware[], catalogue: SoftwareCatalogue): LicenceUsage[] {
  const hostsByTitle = new Map<string, Set<string>>();
  for (const t of catalogue.titles) if (t.status === 'licensed') hostsByTitle.set(t.title, new Set());
  if (hostsByTitle.size === 0) return [];
  for (const { hostId, items } of installs) {
    for (const item of items) {
      const c = classifySoftware(item, catalogue);
      if (c.status === 'licensed' && c.title !== undefined) hostsByTitle.get(c.title)?.add(hostId);
    }
  }
  const out: LicenceUsage[] = [];
  for (const t of catalogue.titles) {
    const hosts = hostsByTitle.get(t.title);
    if (t.status !== 'licensed' || !hosts) continue;
    const seats = t.seats ?? 0;
    out.push({ title: t.title, seats, installs: hosts.size, hosts: [...hosts].sort(), overBy: Math.max(0, hosts.size - seats) });
  }
  return out;
}
