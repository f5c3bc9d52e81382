import { describe, expect, it } from 'vitest';
import { versionRangeProblem } from '@vigil/shared/policy';
import { VersionRangeError, compileVersionRange, parseVersionRange } from './version-range.js';

describe('parseVersionRange', () => {
  it('reads comparators, spaces as AND and || as OR', () => {
    expect(parseVersionRange('>=3.11 <4')).toEqual([[{ op: '>=', version: '3.11' }, { op: '<', version: '4' }]]);
    expect(parseVersionRange('>= 3.11  < 4')).toEqual([[{ op: '>=', version: '3.11' }, { op: '<', version: '4' }]]);
    expect(parseVersionRange('<1.0 || >=2.0')).toEqual([[{ op: '<', version: '1.0' }], [{ op: '>=', version: '2.0' }]]);
    expect(parseVersionRange('1.2.3')).toEqual([[{ op: '=', version: '1.2.3' }]]);
    expect(parseVersionRange('<=1:2.0-1 >0')).toEqual([[{ op: '<=', version: '1:2.0-1' }, { op: '>', version: '0' }]]);
  });

  it.each(['', '>=', '>= <4', '=>1', '>=1 ||', '|| 1', '1 | 2', '>>1', '1.0='])('refuses %j', (text) => {
    expect(() => parseVersionRange(text)).toThrow(VersionRangeError);
  });

  // The policy schema validates with its own check; a range it accepts must parse here and vice versa.
  it.each(['>=3.11 <4', '>= 3.11 < 4', '1.0', '<1||>2', ' = 2 ', '', '>=', '>= <4', '=>1', '>=1 ||', '|| 1', '1 | 2', '>>1', '1.0=', 'a b c', '>=1 <=1 =1'])(
    'agrees with the schema on %j',
    (text) => {
      let parses = true;
      try {
        parseVersionRange(text);
      } catch {
        parses = false;
      }
      expect(parses).toBe(versionRangeProblem(text) === undefined);
    },
  );
});

describe('compileVersionRange', () => {
  it('evaluates AND within a group and OR across groups', () => {
    const inRange = compileVersionRange('>=3.11 <4', 'registry');
    expect(['3.11', '3.11.4', '3.12.0', '3.99'].filter(inRange)).toEqual(['3.11', '3.11.4', '3.12.0', '3.99']);
    expect(['3.10.12', '4', '4.0.1', '2'].some(inRange)).toBe(false);
    const either = compileVersionRange('<1.0 || >=2.0', 'registry');
    expect(['0.9', '1.0', '1.5', '2.0', '10.0'].map(either)).toEqual([true, false, false, true, true]);
    const exact = compileVersionRange('=16.0.17328.20162', 'registry');
    expect(exact('16.0.17328.20162')).toBe(true);
    expect(exact('16.0.17328.20068')).toBe(false);
  });

  it('uses the source’s ordering: dpkg epochs and tildes', () => {
    const python = compileVersionRange('>=3.11 <4', 'dpkg');
    expect(python('3.11.2-1+b1')).toBe(true);
    expect(python('3.11~rc1-1')).toBe(false); // a pre-release sorts before 3.11
    expect(python('4~a1-1')).toBe(true); // and so does 4~a1 before 4
    expect(python('4.0~a1-1')).toBe(false); // but 4.0~a1 is after 4
    expect(python('1:3.0-1')).toBe(false); // epoch 1 is above every epoch-0 version
    const git = compileVersionRange('<1:2.40', 'dpkg');
    expect(git('1:2.39.5-0+deb12u3')).toBe(true);
    expect(git('2.45-1')).toBe(true);
    expect(git('1:2.40-1')).toBe(false);
  });

  it('uses rpm ordering, where a range without a release ignores releases', () => {
    const r = compileVersionRange('>=2.34 <=2.34', 'rpm');
    expect(r('2.34-49.fc35')).toBe(true);
    expect(r('2.35-1.fc36')).toBe(false);
    expect(compileVersionRange('<1.0', 'rpm')('1.0~rc1-1')).toBe(true);
    expect(compileVersionRange('>1.0', 'rpm')('1.0^git1-1')).toBe(true);
  });
});
