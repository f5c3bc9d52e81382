import { describe, expect, it } from 'vitest';
import { GLOB_MAX_LENGTH, compileGlob, compileGlobs } from './glob.js';

const m = (pattern: string, subject: string) => compileGlob(pattern)(subject);

describe('compileGlob', () => {
  it.each([
    ['Microsoft Office*', 'Microsoft Office Professional Plus 2019 - en-us', true],
    ['microsoft office*', 'MICROSOFT OFFICE 365', true],
    ['Microsoft Office*', 'Microsoft OneDrive', false],
    ['*torrent*', 'qbittorrent', true],
    ['*torrent*', 'torrent', true],
    ['*torrent*', 'BitTorrent', true],
    ['*torrent*', 'torren', false],
    ['transmission-*', 'transmission-gtk', true],
    ['transmission-*', 'transmission', false],
    ['python3*', 'python3', true],
    ['python3*', 'python3.11-minimal', true],
    ['python3*', 'libpython3.11', false],
    ['lib?', 'libc', true],
    ['lib?', 'lib', false],
    ['lib?', 'libcc', false],
    ['*', '', true],
    ['**', 'anything', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYbZc', true],
    ['a*b*c', 'acb', false],
    ['a*a', 'a', false],
    ['ab*bc', 'abc', false],
    ['ab*bc', 'abbc', true],
    ['*.exe', 'setup.exe', true],
    ['*.exe', 'setupXexe', false],
  ])('%j matches %j: %s', (pattern, subject, expected) => {
    expect(m(pattern, subject)).toBe(expected);
  });

  it('takes every other character literally: no regex or bracket classes', () => {
    expect(m('c++', 'c++')).toBe(true);
    expect(m('c++', 'cc')).toBe(false);
    expect(m('g++-12', 'g++-12')).toBe(true);
    expect(m('lib[abc]', 'liba')).toBe(false);
    expect(m('lib[abc]', 'lib[ABC]')).toBe(true);
    expect(m('[brackets]*', '[brackets] tool')).toBe(true);
    expect(m('a.c', 'abc')).toBe(false);
    expect(m('(x)|y', '(X)|Y')).toBe(true);
    expect(m('^a$', '^a$')).toBe(true);
    expect(m('C:\\Program Files\\*', 'c:\\program files\\app')).toBe(true);
    expect(m('.*', 'x')).toBe(false);
  });

  it('counts ? as one character, also outside the basic plane, and folds case beyond ASCII', () => {
    expect(m('app?', 'app😀')).toBe(true);
    expect(m('百度?盘', '百度网盘')).toBe(true);
    expect(m('ÉDITEUR*', 'éditeur de texte')).toBe(true);
  });

  // Patterns that make backtracking regexes exponential (`(a*)*b`-like) stay (length × pattern) here;
  // the bound is generous: it catches exponential behaviour, it does not benchmark.
  it('matches very long names without blowing up on patterns built to backtrack', () => {
    const name = 'a'.repeat(20_000);
    const start = performance.now();
    expect(m(`${'*a'.repeat(100)}*b`, name)).toBe(false);
    expect(m(`*${'a'.repeat(253)}b*`, name)).toBe(false);
    expect(m(`*a?a*${'a'.repeat(200)}`, name)).toBe(true);
    expect(m(`*${'a'.repeat(200)}`, `${name}b`)).toBe(false);
    expect(performance.now() - start).toBeLessThan(5_000);
  });

  it('refuses empty and over-long patterns', () => {
    expect(() => compileGlob('')).toThrow(RangeError);
    expect(() => compileGlob('a'.repeat(GLOB_MAX_LENGTH + 1))).toThrow(/longer than 256/);
    expect(m('a'.repeat(GLOB_MAX_LENGTH), 'A'.repeat(GLOB_MAX_LENGTH))).toBe(true);
  });
});

describe('compileGlobs', () => {
  it('matches if any pattern in a list does', () => {
    const match = compileGlobs(['*torrent*', 'transmission-*']);
    expect(match('deluge-torrent')).toBe(true);
    expect(match('transmission-cli')).toBe(true);
    expect(match('firefox')).toBe(false);
    expect(compileGlobs('vlc')('VLC')).toBe(true);
  });
});
