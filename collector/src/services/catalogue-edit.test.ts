import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../policy/parse-policy.js';
import { changeCatalogue } from './catalogue-edit.js';

const zoom = { title: 'Zoom', match: { name: 'zoom*', source: ['dpkg'] }, status: 'approved' };

describe('changeCatalogue', () => {
  it('adds a title to the built-in default document and to one without titles', () => {
    for (const doc of ['{}\n', 'version: 1\nscreenlock: { maxIdleSeconds: 600 }\n']) {
      const out = changeCatalogue(doc, { kind: 'add', title: zoom });
      const parsed = parsePolicy(out);
      expect(parsed.ok && parsed.policy.software.titles).toEqual([{ title: 'Zoom', match: { name: 'zoom*', source: ['dpkg'] }, status: 'approved' }]);
    }
    expect(changeCatalogue('version: 1\nscreenlock: { maxIdleSeconds: 600 }\n', { kind: 'add', title: zoom })).toContain('maxIdleSeconds: 600');
  });

  it('keeps comments and the other titles, finds titles case-insensitively, and says when one is missing', () => {
    const doc = '# kept\nsoftware:\n  titles:\n    # first\n    - { title: Slack, match: { name: slack* }, status: approved }\n    - { title: Zoom, match: { name: zoom }, status: approved }\n';
    const replaced = changeCatalogue(doc, { kind: 'replace', name: 'ZOOM', title: { ...zoom, status: 'licensed', seats: 3, versions: undefined } });
    expect(replaced).toMatch(/^# kept\n/);
    expect(replaced).toContain('# first');
    const parsed = parsePolicy(replaced);
    expect(parsed.ok && parsed.policy.software.titles.map((t) => [t.title, t.status, t.seats])).toEqual([
      ['Slack', 'approved', undefined],
      ['Zoom', 'licensed', 3],
    ]);
    const removed = parsePolicy(changeCatalogue(doc, { kind: 'remove', name: 'slack' }));
    expect(removed.ok && removed.policy.software.titles.map((t) => t.title)).toEqual(['Zoom']);
    expect(() => changeCatalogue(doc, { kind: 'remove', name: 'Teams' })).toThrow('No catalogue title "Teams"');
  });
});
