import type { SoftwareItem } from '@vigil/shared';
import { describe, expect, it } from 'vitest';
import { SoftwareCatalogue } from '@vigil/shared/policy';
import { licenceUsage } from './licence-usage.js';

const catalogue = SoftwareCatalogue.parse({
  titles: [
    { title: 'Microsoft Office', match: { name: 'Microsoft Office*', publisher: 'Microsoft*', source: ['registry'] }, status: 'licensed', seats: 2 },
    { title: 'Visio', match: { name: 'Microsoft Visio*' }, status: 'licensed', seats: 5 },
    { title: 'Cracked Office', match: { name: 'Microsoft Office*' }, versions: '=0.0.0-cracked', status: 'prohibited' },
    { title: 'Zoom', match: { name: 'zoom*' }, status: 'approved' },
    { title: 'Photoshop', match: { name: 'Adobe Photoshop*' }, status: 'licensed', seats: 0 },
  ],
});

const office = (name: string, version: string): SoftwareItem => ({ name, version, publisher: 'Microsoft Corporation', source: 'registry' });

describe('licenceUsage', () => {
  it('counts hosts, not packages, and reports exactly how far over the seats it is', () => {
    const usage = licenceUsage(
      [
        // Two Office products and two versions on one host: one install.
        { hostId: 'h-c', items: [office('Microsoft Office Professional Plus 2019', '16.0.1'), office('Microsoft Office Standard 2016', '16.0.2, 16.0.3')] },
        { hostId: 'h-a', items: [office('Microsoft Office Home and Business', '16.0.1'), { name: 'zoom', version: '5.1', source: 'dpkg' }] },
        { hostId: 'h-b', items: [office('Microsoft Office 365', '16.0.1')] },
        // A host reported twice counts once.
        { hostId: 'h-b', items: [office('Microsoft Office 365', '16.0.1')] },
        // Not the licensed title: wrong source, and a cracked copy a prohibited title claims.
        { hostId: 'h-d', items: [{ name: 'Microsoft Office 365', version: '16.0.1', source: 'appx', publisher: 'Microsoft Corporation' }] },
        { hostId: 'h-e', items: [office('Microsoft Office 2010', '0.0.0-cracked')] },
        { hostId: 'h-f', items: [] },
      ],
      catalogue,
    );
    expect(usage).toEqual([
      { title: 'Microsoft Office', seats: 2, installs: 3, hosts: ['h-a', 'h-b', 'h-c'], overBy: 1 },
      { title: 'Visio', seats: 5, installs: 0, hosts: [], overBy: 0 },
      { title: 'Photoshop', seats: 0, installs: 0, hosts: [], overBy: 0 },
    ]);
  });

  it('is within seats at exactly the seat count, over by one past it, and over at any install of 0 seats', () => {
    const hosts = (n: number, name: string) => Array.from({ length: n }, (_, i) => ({ hostId: `h${String(i).padStart(3, '0')}`, items: [office(name, '1')] }));
    const at = licenceUsage(hosts(5, 'Microsoft Visio Professional'), catalogue).find((u) => u.title === 'Visio');
    expect(at).toMatchObject({ installs: 5, overBy: 0 });
    const past = licenceUsage(hosts(6, 'Microsoft Visio Professional'), catalogue).find((u) => u.title === 'Visio');
    expect(past).toMatchObject({ installs: 6, overBy: 1 });
    const ps = licenceUsage(hosts(3, 'Adobe Photoshop 2024'), catalogue).find((u) => u.title === 'Photoshop');
    expect(ps).toEqual({ title: 'Photoshop', seats: 0, installs: 3, hosts: ['h000', 'h001', 'h002'], overBy: 3 });
  });

  it('counts a large fleet exactly', () => {
    const fleet = Array.from({ length: 1000 }, (_, i) => ({
      hostId: `host-${i}`,
      items: i % 4 === 0 ? [office('Microsoft Office LTSC', '16.0'), office('Microsoft Office LTSC', '16.1')] : [{ name: 'zoom', version: '5', source: 'dpkg' as const }],
    }));
    expect(licenceUsage(fleet, catalogue)[0]).toMatchObject({ title: 'Microsoft Office', installs: 250, overBy: 248 });
  });

  it('is empty when nothing is licensed', () => {
    expect(licenceUsage([{ hostId: 'h', items: [office('Microsoft Office', '1')] }], SoftwareCatalogue.parse({}))).toEqual([]);
  });
});
