import type { SoftwareItem } from '@vigil/shared';
import { describe, expect, it } from 'vitest';
import { SoftwareCatalogue } from '@vigil/shared/policy';
import { classifySoftware, versionsOf } from './classify.js';

const catalogue = SoftwareCatalogue.parse({
  titles: [
    { title: 'Microsoft Office', match: { name: 'Microsoft Office*', publisher: 'Microsoft*', source: ['registry'] }, status: 'licensed', seats: 250 },
    { title: 'Python 3', match: { name: 'python3*', source: ['dpkg'] }, versions: '>=3.11 <4', status: 'approved' },
    { title: 'All dpkg developer tools', match: { name: ['g++*', 'gcc*', 'python3*'], source: ['dpkg'] }, status: 'approved' },
    { title: 'BitTorrent clients', match: { name: ['*torrent*', 'transmission-*'] }, status: 'prohibited', note: 'peer-to-peer file sharing' },
    { title: 'Old Python', match: { name: 'python3*', source: ['dpkg'] }, versions: '<3.9', status: 'prohibited' },
  ],
});

const debian = 'Matthias Klose <doko@debian.org>';
const item = (i: Partial<SoftwareItem> & Pick<SoftwareItem, 'name'>): SoftwareItem => ({ version: '1.0', source: 'dpkg', ...i });

describe('classifySoftware', () => {
  it('licenses on name, publisher and source together', () => {
    const office = item({ name: 'Microsoft Office Professional Plus 2019 - en-us', publisher: 'Microsoft Corporation', source: 'registry', version: '16.0.10827.20181' });
    expect(classifySoftware(office, catalogue)).toEqual({ status: 'licensed', title: 'Microsoft Office', reason: 'licensed by the catalogue title "Microsoft Office"' });
    // Same name from another source or publisher, or without a publisher: not the licensed title.
    expect(classifySoftware({ ...office, source: 'appx' }, catalogue).title).toBeUndefined();
    expect(classifySoftware({ ...office, publisher: 'Contoso' }, catalogue).status).toBe('unapproved');
    const { publisher: _p, ...noPublisher } = office;
    expect(classifySoftware(noPublisher, catalogue).status).toBe('unapproved');
  });

  it('takes the first matching title in document order', () => {
    expect(classifySoftware(item({ name: 'python3.11', version: '3.11.2-1+b1', publisher: debian }), catalogue)).toMatchObject({ status: 'approved', title: 'Python 3' });
    // Outside Python 3's range, the next matching title decides.
    expect(classifySoftware(item({ name: 'python3.10', version: '3.10.12-1', publisher: debian }), catalogue)).toMatchObject({ status: 'approved', title: 'All dpkg developer tools' });
  });

  it('lets a prohibited title beat every other, wherever it is in the document', () => {
    const old = classifySoftware(item({ name: 'python3.7', version: '3.7.3-1', publisher: debian }), catalogue);
    expect(old).toEqual({ status: 'prohibited', title: 'Old Python', reason: 'prohibited by the catalogue title "Old Python"' });
    const torrent = classifySoftware(item({ name: 'transmission-gtk', version: '3.00-2.1', publisher: 'Debian Transmission Maintainers <pkg-transmission@lists.debian.org>' }), catalogue);
    expect(torrent).toEqual({ status: 'prohibited', title: 'BitTorrent clients', reason: 'prohibited by the catalogue title "BitTorrent clients": peer-to-peer file sharing' });
    expect(classifySoftware(item({ name: 'qBittorrent', source: 'registry', publisher: 'The qBittorrent project' }), catalogue).status).toBe('prohibited');
  });

  it('approves OS vendor packages no title covers, only while the default is on', () => {
    const bash = item({ name: 'bash', version: '5.2.15-2+b7', publisher: 'Matthias Klose <doko@debian.org>' });
    expect(classifySoftware(bash, catalogue)).toEqual({ status: 'approved', reason: "the OS vendor's own package: Debian/Ubuntu archive (maintainer doko@debian.org)" });
    const strict = SoftwareCatalogue.parse({ defaults: { approveOsVendor: false }, titles: catalogue.titles });
    expect(classifySoftware(bash, strict)).toEqual({ status: 'unapproved', reason: 'no catalogue title covers dpkg:bash 5.2.15-2+b7' });
  });

  it('calls everything else unapproved, saying what and why', () => {
    const node = item({ name: 'nodejs', version: '20.20.2-1nodesource1+repack1', publisher: 'NodeSource Support <support@nodesource.com>' });
    expect(classifySoftware(node, catalogue)).toEqual({
      status: 'unapproved',
      reason: 'no catalogue title covers dpkg:nodejs 20.20.2-1nodesource1+repack1 and it is not an OS vendor package',
    });
  });

  it('classifies each of several merged versions and keeps the worst', () => {
    const two = item({ name: 'python3', version: '3.7.3-1, 3.11.2-1', publisher: debian });
    expect(versionsOf(two)).toEqual(['3.7.3-1', '3.11.2-1']);
    expect(classifySoftware(two, catalogue)).toEqual({ status: 'prohibited', title: 'Old Python', reason: 'version 3.7.3-1: prohibited by the catalogue title "Old Python"' });
    const both = item({ name: 'python3', version: '3.11.2-1, 3.12.1-1', publisher: debian });
    expect(classifySoftware(both, catalogue)).toMatchObject({ status: 'approved', title: 'Python 3' });
    const lic = SoftwareCatalogue.parse({
      titles: [
        { title: 'Tool 2', match: { name: 'tool', source: ['brew'] }, versions: '>=2', status: 'licensed', seats: 1 },
        { title: 'Tool 1', match: { name: 'tool', source: ['brew'] }, status: 'approved' },
      ],
    });
    expect(classifySoftware(item({ name: 'tool', source: 'brew', version: '1.5, 2.1' }), lic)).toMatchObject({ status: 'licensed', title: 'Tool 2' });
  });

  it('is not fooled by names full of glob or regex metacharacters', () => {
    const meta = SoftwareCatalogue.parse({ titles: [{ title: 'C++ compilers', match: { name: ['c++', 'g++-*'] }, status: 'prohibited' }] });
    expect(classifySoftware(item({ name: 'g++-12' }), meta).status).toBe('prohibited');
    expect(classifySoftware(item({ name: 'gcc-12' }), meta).status).toBe('unapproved');
    expect(classifySoftware(item({ name: '[brackets].*' }), meta).status).toBe('unapproved');
    expect(classifySoftware(item({ name: 'x'.repeat(512) }), meta).status).toBe('unapproved');
  });

  it('with the empty default catalogue, judges on the OS vendor alone', () => {
    const empty = SoftwareCatalogue.parse(undefined);
    expect(classifySoftware(item({ name: 'winrar', source: 'registry', publisher: 'win.rar GmbH' }), empty).status).toBe('unapproved');
    expect(classifySoftware(item({ name: 'Microsoft Edge', source: 'registry', publisher: 'Microsoft Corporation' }), empty).status).toBe('approved');
  });
});

describe('classifySoftware: what it remembers', () => {
  it('never answers for one item with what it found for another whose fields join to the same text', () => {
    const strict = SoftwareCatalogue.parse({
      titles: [
        { title: 'Tor', match: { name: 'tor' }, status: 'prohibited' },
        { title: 'Signed x', match: { name: 'x', publisher: '*' }, status: 'approved' },
      ],
    });
    // Joined with a separator, both are dpkg / tor / 1 / 2: the first must not decide the second.
    const decoy = item({ name: 'tor\u00001', version: '2' });
    const tor = item({ name: 'tor', version: '1\u00002' });
    expect(classifySoftware(decoy, strict).status).toBe('unapproved');
    expect(classifySoftware(tor, strict)).toMatchObject({ status: 'prohibited', title: 'Tor' });
    // An empty publisher is a publisher; a missing one is not.
    expect(classifySoftware(item({ name: 'x', publisher: '' }), strict).status).toBe('approved');
    expect(classifySoftware(item({ name: 'x' }), strict).status).toBe('unapproved');
  });
});
