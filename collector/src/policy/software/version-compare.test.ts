import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { comparatorFor, dpkgCompare, genericCompare, rpmCompare, rpmvercmp } from './version-compare.js';

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
/** The expected answer with the sides swapped (no -0). */
const swapped = (n: number) => (n === 0 ? 0 : -n);

/**
 * Tricky Debian pairs; the expected order was printed by the real `dpkg --compare-versions`
 * (dpkg 1.21.22, Debian 12), and the live test below asks dpkg again wherever it is installed.
 */
const DPKG_TABLE: [string, string, number][] = [
  ['1.0~rc1', '1.0', -1],
  ['1.0~~', '1.0~', -1],
  ['1.0~', '1.0', -1],
  ['1.0', '1.0+', -1],
  ['1.0', '1.0a', -1],
  ['1.0a', '1.0+', -1],
  ['1.0.', '1.0', 1],
  ['1:0.1', '2.0', 1],
  ['0:1.0', '1.0', 0],
  ['1.0-0', '1.0', 0],
  ['1.0-1', '1.0', 1],
  ['1.0', '1.00', 0],
  ['1.2.3', '1.2-3', 1],
  ['2.39.5-0+deb12u3', '2.39.5-0+deb12u10', -1],
  ['1.0~rc1-1', '1.0-0', -1],
  ['5.14.0-1ubuntu1', '5.14.0-1', 1],
  ['1.2a', '1.2A', 1],
  ['9', '10', -1],
  ['1.001', '1.1', 0],
  ['1.0-a', '1.0-1', 1],
  ['1.123456789012345678901234567890', '1.123456789012345678901234567891', -1],
  ['1.2-3-4', '1.2-3', 1],
  ['1:2:3-1', '1:2:3-0', 1],
  ['1.0+~', '1.0+', -1],
  ['2.30-1+b1', '2.30-1', 1],
  ['1.0~beta1~svn1245', '1.0~beta1', -1],
  ['3.11.2-6+deb12u6', '3.11.4-1', -1],
  ['20230209.2326-1', '20230209.2326-1', 0],
  ['30+20221128-1', '30+20221128-1.1', -1],
  ['1.0+dfsg-1', '1.0-1', 1],
  ['7.88.1-10+deb12u12', '7.88.1-10+deb12u8', 1],
  ['1.0.0', '1.0', 1],
];

const hasDpkg = spawnSync('dpkg', ['--version']).status === 0;

/** The real dpkg's answer: -1, 0 or 1. */
function realDpkg(a: string, b: string): number {
  if (spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0) return -1;
  return spawnSync('dpkg', ['--compare-versions', a, 'eq', b]).status === 0 ? 0 : 1;
}

/** Deterministic pseudo-random versions (mulberry32), valid for dpkg: upstream starts with a digit. */
function versionPairs(count: number, seed: number): [string, string][] {
  let s = seed;
  const rnd = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (chars: string) => chars[Math.floor(rnd() * chars.length)] ?? '0';
  const part = (n: number) => Array.from({ length: n }, () => pick('0012399aAbzZ.+~~')).join('');
  const version = () => {
    const epoch = rnd() < 0.2 ? `${pick('0123')}:` : '';
    const upstream = pick('0123456789') + part(Math.floor(rnd() * 6));
    const revision = rnd() < 0.5 ? `-${pick('01a')}${part(Math.floor(rnd() * 4))}` : '';
    return epoch + upstream + revision;
  };
  return Array.from({ length: count }, () => {
    const a = version();
    // Half the pairs share a prefix, where the interesting decisions are.
    const b = rnd() < 0.5 ? a.slice(0, Math.floor(rnd() * a.length) + 1) + part(Math.floor(rnd() * 3)) : version();
    return [a, b.endsWith('-') ? `${b}0` : b];
  });
}

describe('dpkgCompare (Debian policy §5.6.12)', () => {
  it.each(DPKG_TABLE)('%s vs %s is %i', (a, b, expected) => {
    expect(sign(dpkgCompare(a, b))).toBe(expected);
    expect(sign(dpkgCompare(b, a))).toBe(swapped(expected));
  });

  it.skipIf(!hasDpkg)('agrees with the real dpkg --compare-versions on the table', () => {
    for (const [a, b, expected] of DPKG_TABLE) expect([a, b, realDpkg(a, b)]).toEqual([a, b, expected]);
  });

  it.skipIf(!hasDpkg)('agrees with the real dpkg on 250 generated pairs', () => {
    const disagreements = versionPairs(250, 20240611)
      .map(([a, b]) => ({ a, b, ours: sign(dpkgCompare(a, b)), dpkg: realDpkg(a, b) }))
      .filter((r) => r.ours !== r.dpkg);
    expect(disagreements).toEqual([]);
  }, 60_000);
});

/** rpm's own tests/rpmvercmp.at (rpm-software-management/rpm, commit 7f3fdf68), every active case. */
const RPMVERCMP_AT: [string, string, number][] = [
  ['1.0', '1.0', 0], ['1.0', '2.0', -1], ['2.0', '1.0', 1],
  ['2.0.1', '2.0.1', 0], ['2.0', '2.0.1', -1], ['2.0.1', '2.0', 1],
  ['2.0.1a', '2.0.1a', 0], ['2.0.1a', '2.0.1', 1], ['2.0.1', '2.0.1a', -1],
  ['5.5p1', '5.5p1', 0], ['5.5p1', '5.5p2', -1], ['5.5p2', '5.5p1', 1],
  ['5.5p10', '5.5p10', 0], ['5.5p1', '5.5p10', -1], ['5.5p10', '5.5p1', 1],
  ['10xyz', '10.1xyz', -1], ['10.1xyz', '10xyz', 1],
  ['xyz10', 'xyz10', 0], ['xyz10', 'xyz10.1', -1], ['xyz10.1', 'xyz10', 1],
  ['xyz.4', 'xyz.4', 0], ['xyz.4', '8', -1], ['8', 'xyz.4', 1], ['xyz.4', '2', -1], ['2', 'xyz.4', 1],
  ['5.5p2', '5.6p1', -1], ['5.6p1', '5.5p2', 1],
  ['5.6p1', '6.5p1', -1], ['6.5p1', '5.6p1', 1],
  ['6.0.rc1', '6.0', 1], ['6.0', '6.0.rc1', -1],
  ['10b2', '10a1', 1], ['10a2', '10b2', -1],
  ['1.0aa', '1.0aa', 0], ['1.0a', '1.0aa', -1], ['1.0aa', '1.0a', 1],
  ['10.0001', '10.0001', 0], ['10.0001', '10.1', 0], ['10.1', '10.0001', 0], ['10.0001', '10.0039', -1], ['10.0039', '10.0001', 1],
  ['4.999.9', '5.0', -1], ['5.0', '4.999.9', 1],
  ['20101121', '20101121', 0], ['20101121', '20101122', -1], ['20101122', '20101121', 1],
  ['2_0', '2_0', 0], ['2.0', '2_0', 0], ['2_0', '2.0', 0],
  ['a', 'a', 0], ['a+', 'a+', 0], ['a+', 'a_', 0], ['a_', 'a+', 0], ['+a', '+a', 0], ['+a', '_a', 0], ['_a', '+a', 0],
  ['+_', '+_', 0], ['_+', '+_', 0], ['_+', '_+', 0], ['+', '_', 0], ['_', '+', 0],
  ['1.0~rc1', '1.0~rc1', 0], ['1.0~rc1', '1.0', -1], ['1.0', '1.0~rc1', 1], ['1.0~rc1', '1.0~rc2', -1], ['1.0~rc2', '1.0~rc1', 1],
  ['1.0~rc1~git123', '1.0~rc1~git123', 0], ['1.0~rc1~git123', '1.0~rc1', -1], ['1.0~rc1', '1.0~rc1~git123', 1],
  ['1.0^', '1.0^', 0], ['1.0^', '1.0', 1], ['1.0', '1.0^', -1],
  ['1.0^git1', '1.0^git1', 0], ['1.0^git1', '1.0', 1], ['1.0', '1.0^git1', -1],
  ['1.0^git1', '1.0^git2', -1], ['1.0^git2', '1.0^git1', 1], ['1.0^git1', '1.01', -1], ['1.01', '1.0^git1', 1],
  ['1.0^20160101', '1.0^20160101', 0], ['1.0^20160101', '1.0.1', -1], ['1.0.1', '1.0^20160101', 1],
  ['1.0^20160101^git1', '1.0^20160101^git1', 0], ['1.0^20160102', '1.0^20160101^git1', 1], ['1.0^20160101^git1', '1.0^20160102', -1],
  ['1.0~rc1^git1', '1.0~rc1^git1', 0], ['1.0~rc1^git1', '1.0~rc1', 1], ['1.0~rc1', '1.0~rc1^git1', -1],
  ['1.0^git1~pre', '1.0^git1~pre', 0], ['1.0^git1', '1.0^git1~pre', 1], ['1.0^git1~pre', '1.0^git1', -1],
];

describe('rpmvercmp', () => {
  it.each(RPMVERCMP_AT)('rpmvercmp(%s, %s) = %i', (a, b, expected) => {
    expect(sign(rpmvercmp(a, b))).toBe(expected);
  });
});

describe('rpmCompare (epoch:version-release)', () => {
  it.each([
    ['1:1.0-1', '2.0-1', 1],
    ['0:1.0-1', '1.0-1', 0],
    ['2:5.1.8-3.fc35', '2:5.1.8-2.fc35', 1],
    ['11.3.1-3.fc35', '11.3.1-3.fc36', -1],
    ['9.0.915-1.fc35', '9.0.2081-1.fc35', -1],
    // Without a release on one side only epoch and version count, as rpm does for dependencies.
    ['3.11.4-2.fc39', '3.11.4', 0],
    ['3.11', '3.11.0-1', -1],
  ] as const)('%s vs %s is %i', (a, b, expected) => {
    expect(sign(rpmCompare(a, b))).toBe(expected);
    expect(sign(rpmCompare(b, a))).toBe(swapped(expected));
  });
});

describe('genericCompare (registry, appx, app, brew, snap, flatpak)', () => {
  it.each([
    ['1.10', '1.9', 1],
    ['10.0.19041', '10.0.19041.0', 0],
    ['16.0.17328.20162', '16.0.17328.20068', 1],
    ['v2.1.0', '2.1.0', 0],
    ['2.0.0-beta.1', '2.0.0', -1],
    ['2.0.0-alpha', '2.0.0-alpha.1', -1],
    ['2.0.0-alpha.1', '2.0.0-alpha.beta', -1],
    ['2.0.0-beta.2', '2.0.0-beta.11', -1],
    ['1.0~rc1', '1.0', -1],
    ['1.0.0+build.5', '1.0.0+build.9', 0],
    ['2.3.1_1', '2.3.1', 1],
    ['2.3.1_2', '2.3.1_10', -1],
    ['16-2.55.2', '16-2.55.10', -1],
    ['1.0a', '1.0', 1],
    ['1.0A', '1.0a', 0],
    ['1.0', '1.0beta', -1],
    ['123456789012345678901234567890', '123456789012345678901234567891', -1],
    ['', '0', 0],
    ['', '1', -1],
  ] as const)('%j vs %j is %i', (a, b, expected) => {
    expect(sign(genericCompare(a, b))).toBe(expected);
    expect(sign(genericCompare(b, a))).toBe(swapped(expected));
  });
});

describe('comparatorFor', () => {
  it('uses each source’s own ordering', () => {
    expect(comparatorFor('dpkg')).toBe(dpkgCompare);
    expect(comparatorFor('rpm')).toBe(rpmCompare);
    for (const s of ['registry', 'appx', 'app', 'brew', 'snap', 'flatpak'] as const) expect(comparatorFor(s)).toBe(genericCompare);
    // The same pair orders differently: dpkg puts letters before '+', rpm treats both as separators.
    expect(sign(comparatorFor('dpkg')('1.0a', '1.0+'))).toBe(-1);
    expect(sign(comparatorFor('rpm')('1.0a', '1.0+'))).toBe(1);
  });
});
