import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, POLICY_DOCUMENT_MAX_BYTES } from '@vigil/shared/policy';
import { formatPath, MAX_POLICY_PROBLEMS, parsePolicy } from './parse-policy.js';

const problemsOf = (text: string) => {
  const r = parsePolicy(text);
  if (r.ok) throw new Error('expected the policy to be refused');
  return r.problems;
};

const EXAMPLE = `version: 1
mode: monitor-only
severities: { usb.unauthorised: high, terminal.unattended: low }
usb:
  allowHubs: true
  allow:
    - { vendorId: "046d", note: "Logitech peripherals", scope: { groups: [office] }, expires: 2027-01-01T00:00:00Z }
    - { vendorId: "0781", productId: "5581", note: "SanDisk 3.2Gen1 sticks" }
    - { interfaceClasses: ["03"], note: "keyboards and mice" }
screenlock: { maxIdleSeconds: 900, maxGraceSeconds: 5, requirePassword: true }
unattended: { thresholdSeconds: null }
silent: { thresholdSeconds: null }
software:
  titles:
    - { title: "BitTorrent clients", match: { name: ["*torrent*", "transmission-*"] }, status: prohibited }
overrides:
  - { groups: [kiosk], screenlock: { maxIdleSeconds: 300 } }
`;

describe('parsePolicy', () => {
  it('reads the documented example', () => {
    const r = parsePolicy(EXAMPLE);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.policy.mode).toBe('monitor-only');
    // YAML 1.2 keeps the timestamp a string, exactly as written.
    expect(r.policy.usb.allow[0]).toEqual({ vendorId: '046d', note: 'Logitech peripherals', scope: { groups: ['office'] }, expires: '2027-01-01T00:00:00Z' });
    expect(r.policy.usb.allow[2]?.interfaceClasses).toEqual(['03']);
    expect(r.policy.software.titles[0]?.status).toBe('prohibited');
    expect(r.policy.overrides).toEqual([{ groups: ['kiosk'], screenlock: { maxIdleSeconds: 300 } }]);
  });

  it('reads {} and JSON as the defaults', () => {
    expect(parsePolicy('{}')).toEqual({ ok: true, policy: DEFAULT_POLICY });
    expect(parsePolicy('# defaults for everything\n{}\n')).toEqual({ ok: true, policy: DEFAULT_POLICY });
    const r = parsePolicy(JSON.stringify({ mode: 'monitor-only', usb: { allow: [{ vendorId: '0781' }] } }));
    expect(r.ok && r.policy.mode).toBe('monitor-only');
  });

  it('refuses an empty document instead of resetting to the defaults', () => {
    for (const text of ['', '   \n', '# only a comment\n']) {
      expect(problemsOf(text)).toEqual([{ path: '(root)', message: expect.stringMatching(/empty; write \{\} for the defaults/) }]);
    }
  });

  it('names each misspelt key with its own line', () => {
    const text = `usb:
  allowHub: true
  allow:
    - vendorId: "0781"
      expiry: 2027-01-01
screenLock:
  maxIdleSeconds: 300
`;
    expect(problemsOf(text)).toEqual([
      { path: 'usb.allowHub', message: 'unknown key "allowHub"', line: 2 },
      { path: 'usb.allow[0].expiry', message: 'unknown key "expiry"', line: 5 },
      { path: 'screenLock', message: 'unknown key "screenLock"', line: 6 },
    ]);
  });

  it('lists every schema problem on the line of its value, sorted by line', () => {
    const text = `mode: audit
severities:
  agent.silent: urgent
usb:
  allow:
    - vendorId: 0781
      productId: "5581"
    - productId: "5581"
overrides:
  - groups: [kiosk]
`;
    const problems = problemsOf(text);
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['mode', 1],
      ['severities["agent.silent"]', 3],
      ['usb.allow[0].vendorId', 6],
      ['usb.allow[1]', 8],
      ['usb.allow[1].productId', 8],
      ['overrides[0]', 10],
    ]);
    expect(problems[2]?.message).toMatch(/quoted string/);
  });

  it('reports a missing value on its parent', () => {
    const [p] = problemsOf('usb:\n  allow:\n    - { note: "no criteria" }\n');
    expect(p).toEqual({ path: 'usb.allow[0]', message: expect.stringMatching(/vendorId or interfaceClasses/), line: 3 });
  });

  it('turns YAML syntax errors and duplicate keys into problems with lines, never throwing', () => {
    expect(problemsOf('usb:\n  allowHubs: true\n  allowHubs: false\n')).toEqual([
      { path: '(root)', message: expect.stringMatching(/unique/), line: 3 },
    ]);
    const bad = problemsOf('mode: enforce\nusb: { allowHubs: true\nscreenlock: [\n');
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.every((p) => p.path === '(root)' && typeof p.line === 'number')).toBe(true);
    expect(problemsOf('a: 1\n---\nb: 2\n')[0]?.message).toMatch(/multiple documents/i);
    expect(problemsOf('\tmode: enforce\n').length).toBeGreaterThan(0);
  });

  it('refuses YAML 1.1 tags that would make non-JSON values', () => {
    expect(problemsOf('usb: !!binary aGVsbG8=\n')).toEqual([{ path: '(root)', message: expect.stringMatching(/tag/i), line: 1 }]);
    expect(problemsOf('usb:\n  allow:\n    - { vendorId: "0781", expires: !!timestamp 2027-01-01 }\n')[0]?.line).toBe(3);
  });

  it('refuses a document that is not a mapping', () => {
    expect(problemsOf('- usb\n- screenlock\n')).toEqual([{ path: '(root)', message: expect.stringMatching(/expected object/), line: 1 }]);
    expect(problemsOf('null\n')[0]?.path).toBe('(root)');
  });

  it('refuses an alias bomb and a document over 1 MiB', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 8; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    expect(problemsOf(bomb.join('\n'))[0]?.message).toMatch(/cannot be read|alias/i);

    const big = `# ${'x'.repeat(POLICY_DOCUMENT_MAX_BYTES)}\n{}\n`;
    expect(problemsOf(big)).toEqual([{ path: '(root)', message: expect.stringMatching(/1 MiB/) }]);
    // Counted in UTF-8 bytes, not characters: 2-byte characters reach the limit at half the length.
    expect(parsePolicy(`# ${'é'.repeat(POLICY_DOCUMENT_MAX_BYTES / 2)}\n{}`).ok).toBe(false);
    expect(parsePolicy(`# ${'é'.repeat(POLICY_DOCUMENT_MAX_BYTES / 4)}\n{}`).ok).toBe(true);
  });

  it('caps a flood of problems', () => {
    const text = `usb:\n  allow:\n${Array.from({ length: 500 }, () => '    - { vendorId: 1 }').join('\n')}\n`;
    const problems = problemsOf(text);
    expect(problems).toHaveLength(MAX_POLICY_PROBLEMS);
    expect(problems.at(-1)?.message).toBe('… and 301 more problems');
  });

  it('formats paths readably', () => {
    expect(formatPath([])).toBe('(root)');
    expect(formatPath(['usb', 'allow', 2, 'scope', 'groups', 0])).toBe('usb.allow[2].scope.groups[0]');
    expect(formatPath(['severities', 'licence.over_deployed'])).toBe('severities["licence.over_deployed"]');
  });
});
