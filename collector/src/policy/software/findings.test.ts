import type { SoftwareItem } from '@vigil/shared';
import { describe, expect, it } from 'vitest';
import { SoftwareCatalogue } from '@vigil/shared/policy';
import type { Finding } from '../finding.js';
import { licenceFindings, softwareFindings } from './findings.js';
import { licenceUsage } from './licence-usage.js';

const catalogue = SoftwareCatalogue.parse({
  titles: [
    { title: 'BitTorrent clients', match: { name: ['*torrent*', 'transmission-*'] }, status: 'prohibited', note: 'P2P' },
    { title: 'Firefox', match: { name: 'firefox*' }, status: 'approved' },
    { title: 'Office', match: { name: 'Microsoft Office*' }, status: 'licensed', seats: 1 },
  ],
});

const items: SoftwareItem[] = [
  { name: 'transmission-gtk', version: '3.00-2.1', source: 'dpkg', arch: 'amd64', publisher: 'Debian Transmission Maintainers <pkg-transmission@lists.debian.org>' },
  { name: 'transmission-common', version: '3.00-2.1', source: 'dpkg', arch: 'all' },
  { name: 'firefox-esr', version: '115.0esr-1', source: 'dpkg', publisher: 'Maintainers of Mozilla-related packages <team+pkg-mozilla@tracker.debian.org>' },
  { name: 'bash', version: '5.2.15-2+b7', source: 'dpkg', publisher: 'Matthias Klose <doko@debian.org>' },
  { name: 'nodejs', version: '20.20.2-1nodesource1', source: 'dpkg', publisher: 'NodeSource Support <support@nodesource.com>' },
  { name: 'libfoo', version: '1', source: 'dpkg', arch: 'amd64' },
  { name: 'libfoo', version: '1', source: 'dpkg', arch: 'i386' },
  { name: 'Microsoft Office 2021', version: '16', source: 'registry', publisher: 'Microsoft Corporation' },
];

describe('softwareFindings', () => {
  it('gives one finding per rule and subject, named by title or source:name, with every item behind it', () => {
    expect(softwareFindings(items, catalogue)).toEqual([
      {
        rule: 'software.prohibited',
        subject: 'BitTorrent clients',
        details: {
          title: 'BitTorrent clients',
          reason: 'prohibited by the catalogue title "BitTorrent clients": P2P',
          items: [
            { name: 'transmission-gtk', version: '3.00-2.1', source: 'dpkg', arch: 'amd64', publisher: 'Debian Transmission Maintainers <pkg-transmission@lists.debian.org>' },
            { name: 'transmission-common', version: '3.00-2.1', source: 'dpkg', arch: 'all', publisher: null },
          ],
        },
      },
      {
        rule: 'software.unapproved',
        subject: 'dpkg:libfoo',
        details: {
          title: null,
          reason: 'no catalogue title covers dpkg:libfoo 1 and it is not an OS vendor package',
          items: [
            { name: 'libfoo', version: '1', source: 'dpkg', arch: 'amd64', publisher: null },
            { name: 'libfoo', version: '1', source: 'dpkg', arch: 'i386', publisher: null },
          ],
        },
      },
      {
        rule: 'software.unapproved',
        subject: 'dpkg:nodejs',
        details: {
          title: null,
          reason: 'no catalogue title covers dpkg:nodejs 20.20.2-1nodesource1 and it is not an OS vendor package',
          items: [{ name: 'nodejs', version: '20.20.2-1nodesource1', source: 'dpkg', publisher: 'NodeSource Support <support@nodesource.com>', arch: null }],
        },
      },
    ]);
  });

  it('fits the alert engine’s Finding once a severity is added (details are plain JSON)', () => {
    const asFindings: Finding[] = [
      ...softwareFindings(items, catalogue).map((f) => ({ ...f, severity: 'high' as const })),
      ...licenceFindings(licenceUsage([], catalogue)).map((f) => ({ ...f, severity: 'medium' as const })),
    ];
    expect(JSON.parse(JSON.stringify(asFindings))).toEqual(asFindings);
  });

  it('finds nothing on a host with only approved and licensed software, and clears when software goes', () => {
    expect(softwareFindings(items.filter((i) => !i.name.startsWith('transmission') && i.name !== 'nodejs' && i.name !== 'libfoo'), catalogue)).toEqual([]);
    expect(softwareFindings([], catalogue)).toEqual([]);
  });
});

describe('licenceFindings', () => {
  it('raises licence.over_deployed only for titles over their seats, saying by how many and where', () => {
    const office = (hostId: string) => ({ hostId, items: [{ name: 'Microsoft Office 2021', version: '16', source: 'registry' as const }] });
    expect(licenceFindings(licenceUsage([office('h1')], catalogue))).toEqual([]);
    expect(licenceFindings(licenceUsage([office('h2'), office('h1'), office('h3')], catalogue))).toEqual([
      { rule: 'licence.over_deployed', subject: 'Office', details: { seats: 1, installs: 3, overBy: 2, hosts: ['h1', 'h2', 'h3'] } },
    ]);
  });
});
