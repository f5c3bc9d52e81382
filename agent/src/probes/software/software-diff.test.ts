import { describe, expect, it } from 'vitest';
import type { SoftwareItem } from '@vigil/shared';
import { parseRpmQuery } from './linux-rpm.js';
import { carryForwardUnread, diffSoftware, normaliseInventory } from './software-diff.js';
import { readFixture } from './test-support/fakes.js';

const dpkg = (name: string, version: string, arch = 'amd64'): SoftwareItem => ({ name, version, source: 'dpkg', arch });

describe('diffSoftware', () => {
  const before = [dpkg('bash', '5.2.15-2+b7'), dpkg('curl', '7.88.1-10'), dpkg('libc6', '2.36-9', 'amd64'), dpkg('libc6', '2.36-9', 'i386')];

  it('reports installed, removed and upgraded packages, each sorted', () => {
    const after = [dpkg('bash', '5.2.15-2+b8'), dpkg('zsh', '5.9-4'), dpkg('libc6', '2.36-9', 'amd64'), dpkg('git', '1:2.39.5-0')];
    expect(diffSoftware(before, after)).toEqual({
      installed: [dpkg('git', '1:2.39.5-0'), dpkg('zsh', '5.9-4')],
      removed: [dpkg('curl', '7.88.1-10'), dpkg('libc6', '2.36-9', 'i386')],
      upgraded: [{ from: dpkg('bash', '5.2.15-2+b7'), to: dpkg('bash', '5.2.15-2+b8') }],
    });
  });

  it('calls a downgrade an upgrade too (a version change under the same identity)', () => {
    const d = diffSoftware([dpkg('bash', '5.2')], [dpkg('bash', '5.1')]);
    expect(d.upgraded).toEqual([{ from: dpkg('bash', '5.2'), to: dpkg('bash', '5.1') }]);
    expect(d.installed).toEqual([]);
    expect(d.removed).toEqual([]);
  });

  it('keeps identities apart by source and architecture', () => {
    const snap: SoftwareItem = { name: 'bash', version: '5.2', source: 'snap' };
    const d = diffSoftware([dpkg('bash', '5.2')], [dpkg('bash', '5.2'), snap, dpkg('bash', '5.2', 'i386')]);
    expect(d.installed).toEqual([dpkg('bash', '5.2', 'i386'), snap]);
  });

  it('finds nothing between an inventory and itself in another order', () => {
    expect(diffSoftware(before, [...before].reverse())).toEqual({ installed: [], removed: [], upgraded: [] });
  });

  it('does not report the packages of a source that could not be read as removed', () => {
    const rpm: SoftwareItem = { name: 'bash', version: '5.1.8-3.fc35', source: 'rpm', arch: 'x86_64' };
    const d = diffSoftware([...before, rpm], before, { unreadSources: ['rpm'] });
    expect(d.removed).toEqual([]);
    expect(carryForwardUnread([...before, rpm], before, ['rpm'])).toContainEqual(rpm);
  });
});

describe('normaliseInventory', () => {
  it('merges repeated identities (several installed versions) into one item with every version', () => {
    const a: SoftwareItem = { name: 'kernel-core', version: '5.14.0-1', source: 'rpm', arch: 'x86_64', installedAt: '2024-01-01T00:00:00.000Z' };
    const b: SoftwareItem = { ...a, version: '5.14.0-2', publisher: 'Rocky', installedAt: '2024-02-01T00:00:00.000Z' };
    expect(normaliseInventory([b, a])).toEqual([{ ...a, version: '5.14.0-1, 5.14.0-2', publisher: 'Rocky', installedAt: '2024-02-01T00:00:00.000Z' }]);
  });

  it('sorts by source, name, architecture in code-unit order', () => {
    const { items } = parseRpmQuery(readFixture('linux', 'rpm-qa-fedora35-plus-mongo.txt'), {
      columns: ['EPOCH', 'NAME', 'VERSION', 'RELEASE', 'ARCH', 'SOURCERPM', 'SIZE', 'LICENSE', 'VENDOR', 'SUMMARY', 'SIGMD5'],
      fieldSeparator: '¶',
      recordSeparator: '\n',
    });
    const names = normaliseInventory(items).map((i) => i.name);
    expect(names).toEqual([...names].sort());
    expect(names[0]).toBe('bash');
  });
});
