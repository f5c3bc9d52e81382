import { describe, expect, it } from 'vitest';
import { summariseIssues } from '../zod-issues.js';
import { DEFAULT_SOFTWARE_CATALOGUE, SoftwareCatalogue, versionRangeProblem } from './software-catalogue.js';

const problems = (input: unknown): string => {
  const r = SoftwareCatalogue.safeParse(input);
  if (r.success) throw new Error('expected the catalogue to be refused');
  return summariseIssues(r.error, 50, 5000);
};

describe('SoftwareCatalogue', () => {
  it('accepts the documented example and fills in defaults', () => {
    const c = SoftwareCatalogue.parse({
      titles: [
        { title: 'Microsoft Office', match: { name: 'Microsoft Office*', publisher: 'Microsoft*', source: ['registry'] }, status: 'licensed', seats: 250 },
        { title: 'BitTorrent clients', match: { name: ['*torrent*', 'transmission-*'] }, status: 'prohibited', note: 'P2P file sharing' },
        { title: 'Python 3', match: { name: 'python3*', source: ['dpkg'] }, versions: '>=3.11 <4', status: 'approved' },
      ],
    });
    expect(c.defaults).toEqual({ approveOsVendor: true });
    expect(c.titles.map((t) => t.title)).toEqual(['Microsoft Office', 'BitTorrent clients', 'Python 3']);
    expect(c.titles[0]?.seats).toBe(250);
  });

  it('is valid when absent or empty, and the default approves the OS vendor only', () => {
    expect(SoftwareCatalogue.parse(undefined)).toEqual({ defaults: { approveOsVendor: true }, titles: [] });
    expect(SoftwareCatalogue.parse({})).toEqual({ defaults: { approveOsVendor: true }, titles: [] });
    expect(SoftwareCatalogue.parse({ defaults: {} })).toEqual({ defaults: { approveOsVendor: true }, titles: [] });
    expect(SoftwareCatalogue.parse({ defaults: { approveOsVendor: false } }).defaults.approveOsVendor).toBe(false);
    expect(DEFAULT_SOFTWARE_CATALOGUE).toEqual({ defaults: { approveOsVendor: true }, titles: [] });
    expect(Object.isFrozen(DEFAULT_SOFTWARE_CATALOGUE.titles)).toBe(true);
  });

  it('requires seats for licensed titles and refuses them for the others, naming the title', () => {
    const msg = problems({
      titles: [
        { title: 'Visio', match: { name: 'Visio*' }, status: 'licensed' },
        { title: 'Firefox', match: { name: 'firefox*' }, status: 'approved', seats: 10 },
        { title: 'uTorrent', match: { name: 'uTorrent*' }, status: 'prohibited', seats: 0 },
      ],
    });
    expect(msg).toContain('titles.0.seats: "Visio" is licensed, so it needs seats');
    expect(msg).toContain('titles.1.seats: "Firefox" is approved: seats only apply to licensed titles');
    expect(msg).toContain('titles.2.seats: "uTorrent" is prohibited');
    expect(problems({ titles: [{ title: 'X', match: { name: 'x' }, status: 'licensed', seats: 2.5 }] })).toContain('whole number');
    expect(problems({ titles: [{ title: 'X', match: { name: 'x' }, status: 'licensed', seats: -1 }] })).toContain('titles.0.seats');
  });

  it('refuses unknown keys at every level (strict)', () => {
    expect(problems({ default: {} })).toContain('default');
    expect(problems({ defaults: { approveOSVendor: true } })).toContain('approveOSVendor');
    expect(problems({ titles: [{ title: 'X', match: { name: 'x' }, status: 'approved', seat: 1 }] })).toContain('seat');
    expect(problems({ titles: [{ title: 'X', match: { name: 'x', version: '1' }, status: 'approved' }] })).toContain('version');
  });

  it('refuses empty matches, empty patterns, over-long patterns, unknown sources and statuses', () => {
    expect(problems({ titles: [{ title: 'All', match: {}, status: 'approved' }] })).toContain('an empty match would cover all software');
    expect(problems({ titles: [{ title: 'X', match: { name: '  ' }, status: 'approved' }] })).toContain('titles.0.match.name');
    expect(problems({ titles: [{ title: 'X', match: { name: [] }, status: 'approved' }] })).toContain('at least one pattern');
    expect(problems({ titles: [{ title: 'X', match: { name: 'a'.repeat(257) }, status: 'approved' }] })).toContain('at most 256');
    expect(problems({ titles: [{ title: 'X', match: { source: ['msi'] }, status: 'approved' }] })).toContain('titles.0.match.source.0');
    expect(problems({ titles: [{ title: 'X', match: { name: 'x' }, status: 'allowed' }] })).toContain('titles.0.status');
  });

  it('accepts a publisher-only or source-only match', () => {
    const c = SoftwareCatalogue.parse({
      titles: [
        { title: 'Adobe', match: { publisher: 'Adobe*' }, status: 'approved' },
        { title: 'Snaps', match: { source: ['snap'] }, status: 'approved' },
      ],
    });
    expect(c.titles).toHaveLength(2);
  });

  it('refuses duplicate titles, case-insensitively', () => {
    const msg = problems({
      titles: [
        { title: 'Zoom', match: { name: 'zoom*' }, status: 'approved' },
        { title: 'zoom', match: { name: 'Zoom*' }, status: 'prohibited' },
      ],
    });
    expect(msg).toContain('titles.1.title: "zoom" is already the title of titles[0]');
  });

  it('lists every problem at once', () => {
    const r = SoftwareCatalogue.safeParse({
      titles: [
        { title: 'A', match: { name: 'a' }, status: 'licensed' },
        { title: 'B', match: { name: 'b' }, versions: '>=', status: 'approved' },
      ],
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['titles.0.seats', 'titles.1.versions']);
  });
});

describe('versionRangeProblem', () => {
  it.each([
    '>=3.11 <4',
    '>= 3.11 < 4',
    '=1.0',
    '1.0',
    '1:2.39.5-0+deb12u3',
    '<1.0 || >=2.0',
    '>=1||<0.5',
    '>2.0~rc1 <=2.0^git1',
    '  >=1  ',
  ])('accepts %j', (range) => {
    expect(versionRangeProblem(range)).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['   ', 'is empty'],
    ['>=', '">=" without a version'],
    ['>= <4', 'has "<" inside the version "<4"'],
    ['=>1', 'has ">" inside the version ">1"'],
    ['>=1 ||', 'empty alternative'],
    ['|| >=1', 'empty alternative'],
    ['>=1 | <2', 'has "|" inside'],
    ['>>1', 'has ">" inside'],
    ['1.0=', 'has "=" inside'],
  ])('refuses %j (%s)', (range, why) => {
    expect(versionRangeProblem(range)).toContain(why);
  });

  it('is reported on the title with a readable message', () => {
    expect(problems({ titles: [{ title: 'X', match: { name: 'x' }, versions: '>= <4', status: 'approved' }] })).toContain(
      'titles.0.versions: version range has "<" inside the version "<4"',
    );
  });
});
