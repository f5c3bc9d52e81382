import type { SoftwareItem } from '@vigil/shared';
import type { SoftwareCatalogue } from './catalogue.js';
import { classifyList } from './classify.js';
import type { LicenceUsage } from './licence-usage.js';

/**
 * What the software rules find, ready for the alert engine: one finding per (rule, subject), the
 * same key as an open alert (DESIGN.md, "Alerts"), so several packages of one prohibited title on a
 * host (`transmission-gtk`, `transmission-common`) make one alert naming them all. A finding that
 * is absent from the next evaluation is the condition clearing (software removed).
 */

// Details are type aliases of plain JSON (null, never undefined) so they fit a stored JSON object.

/** An installed item as it appears in finding details. */
export type FindingItem = {
  name: string;
  version: string;
  source: SoftwareItem['source'];
  publisher: string | null;
  arch: string | null;
};

export type SoftwareFinding = {
  rule: 'software.prohibited' | 'software.unapproved';
  /** The catalogue title if one matched, else `<source>:<name>` (e.g. `dpkg:transmission-gtk`). */
  subject: string;
  details: { title: string | null; reason: string; items: FindingItem[] };
};

export type LicenceFinding = {
  rule: 'licence.over_deployed';
  /** The licensed title. Fleet-wide: the alert has no host. */
  subject: string;
  details: { seats: number; installs: number; overBy: number; hosts: string[] };
};

const findingItem = (i: SoftwareItem): FindingItem => ({
  name: i.name,
  version: i.version,
  source: i.source,
  publisher: i.publisher ?? null,
  arch: i.arch ?? null,
});

/** The alert subject an item falls under: its catalogue title, else `<source>:<name>`. */
export const softwareSubject = (item: Pick<SoftwareItem, 'source' | 'name'>, title: string | undefined): string => title ?? `${item.source}:${item.name}`;

/**
 * One host's `software.prohibited` and `software.unapproved` findings, sorted by rule then subject.
 * The reason is the first item's; the items list every installed item behind the finding.
 */
export function softwareFindings(items: readonly SoftwareItem[], catalogue: SoftwareCatalogue): SoftwareFinding[] {
  const byKey = new Map<string, SoftwareFinding>();
  const classified = classifyList(items, catalogue);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const c = classified[i]!;
    if (c.status !== 'prohibited' && c.status !== 'unapproved') continue;
    const rule = c.status === 'prohibited' ? 'software.prohibited' : 'software.unapproved';
    const subject = softwareSubject(item, c.title);
    const key = `${rule}\u0000${subject}`;
    const existing = byKey.get(key);
    if (existing) existing.details.items.push(findingItem(item));
    else byKey.set(key, { rule, subject, details: { title: c.title ?? null, reason: c.reason, items: [findingItem(item)] } });
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...byKey.values()].sort((a, b) => cmp(a.rule, b.rule) || cmp(a.subject, b.subject));
}

/** Fleet-wide `licence.over_deployed` findings: one per licensed title with more installs than seats. */
export function licenceFindings(usage: readonly LicenceUsage[]): LicenceFinding[] {
  return usage
    .filter((u) => u.overBy > 0)
    .map((u) => ({ rule: 'licence.over_deployed', subject: u.title, details: { seats: u.seats, installs: u.installs, overBy: u.overBy, hosts: u.hosts } }));
}
