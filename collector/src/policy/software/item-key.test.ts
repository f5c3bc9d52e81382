import type { SoftwareItem } from '@vigil/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classificationKey, itemKey, sharedItem } from './item-key.js';

const anyItem: fc.Arbitrary<SoftwareItem> = fc.record(
  {
    name: fc.string({ maxLength: 6, unit: fc.constantFrom('a', ':', '-', '1', '\u0000', '|') }),
    version: fc.string({ maxLength: 6, unit: fc.constantFrom('1', ':', '-', '\u0000') }),
    publisher: fc.string({ maxLength: 4, unit: fc.constantFrom('p', ':', '-', '1') }),
    source: fc.constantFrom('dpkg', 'rpm'),
    installedAt: fc.constantFrom('2026-01-01T00:00:00Z', '1:'),
    arch: fc.constantFrom('amd64', '', '-', '1:'),
  },
  { requiredKeys: ['name', 'version', 'source'] },
) as fc.Arbitrary<SoftwareItem>;

describe('itemKey / classificationKey', () => {
  it('give equal keys exactly to items with equal fields, whatever characters the fields hold', () => {
    fc.assert(
      fc.property(anyItem, anyItem, (a, b) => {
        const same = (x: SoftwareItem, y: SoftwareItem, fields: (keyof SoftwareItem)[]) => fields.every((f) => x[f] === y[f]);
        expect(itemKey(a) === itemKey(b)).toBe(same(a, b, ['source', 'name', 'version', 'publisher', 'installedAt', 'arch']));
        expect(classificationKey(a) === classificationKey(b)).toBe(same(a, b, ['source', 'name', 'version', 'publisher']));
      }),
      { numRuns: 5000, seed: 20261207 },
    );
  });

  it('keep a shared item frozen, its keys made once and its JSON unchanged', () => {
    const plain: SoftwareItem = { name: 'curl', version: '7.88.1-10+deb12u5', source: 'dpkg', arch: 'amd64' };
    const json = JSON.stringify(plain);
    const shared = sharedItem({ ...plain });
    expect(JSON.stringify(shared)).toBe(json);
    expect(shared).toEqual(plain);
    expect(itemKey(shared)).toBe(itemKey(plain));
    expect(classificationKey(shared)).toBe(classificationKey(plain));
    expect(() => ((shared as { version: string }).version = '1')).toThrow(TypeError);
  });
});
