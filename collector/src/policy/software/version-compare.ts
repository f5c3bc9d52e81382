import type { SoftwareItem } from '@vigil/shared';

/**
 * Version ordering per software source, each as its own package manager orders versions:
 *
 * - `dpkg`: Debian policy §5.6.12 exactly as dpkg's `verrevcmp` does it — `[epoch:]upstream[-revision]`,
 *   epochs compared as numbers, then upstream, then revision, each by alternating non-digit runs
 *   (compared character by character, letters before non-letters, `~` before everything, even the
 *   end of the string) and digit runs (compared as numbers).
 * - `rpm`: `[epoch:]version[-release]` with epochs as numbers and version/release by rpm's
 *   `rpmvercmp` (alphanumeric segments, `~` sorts before and `^` after the end). As rpm does for
 *   dependencies, releases are only compared when both sides have one, so `>=3.11` holds for
 *   `3.11-2.fc39`.
 * - everything else (`registry`, `appx`, `app`, `brew`, `snap`, `flatpak`): `genericCompare`.
 *
 * All return a negative number, zero or a positive number, like `Array.prototype.sort` wants.
 */
export type VersionComparator = (a: string, b: string) => number;

const isDigit = (c: number) => c >= 48 && c <= 57;
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** Compare two runs of digits as numbers of any length (no overflow): strip zeros, then length, then text. */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** dpkg's weight of a character in a non-digit run; `0` is the end of the string. */
function dpkgOrder(c: number): number {
  if (Number.isNaN(c) || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 126 /* ~ */) return -1;
  return c + 256;
}

/** dpkg's `verrevcmp` on one part (upstream or revision). */
export function dpkgPartCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = dpkgOrder(a.charCodeAt(i));
      const bc = dpkgOrder(b.charCodeAt(j));
      if (ac !== bc) return sign(ac - bc);
      i++;
      j++;
    }
    const si = i;
    const sj = j;
    while (i < a.length && isDigit(a.charCodeAt(i))) i++;
    while (j < b.length && isDigit(b.charCodeAt(j))) j++;
    const d = compareDigits(a.slice(si, i), b.slice(sj, j));
    if (d !== 0) return sign(d);
  }
  return 0;
}

interface Evr {
  epoch: string;
  version: string;
  release: string | undefined;
}

/**
 * Split `[epoch:]version[-release]`: the epoch is what precedes the first `:` when it is all
 * digits, the release what follows the last `-` (as both dpkg and rpm parse them).
 */
function splitEvr(v: string): Evr {
  let rest = v.trim();
  let epoch = '0';
  const colon = rest.indexOf(':');
  if (colon > 0 && /^\d+$/.test(rest.slice(0, colon))) {
    epoch = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  if (dash < 0) return { epoch, version: rest, release: undefined };
  return { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) };
}

/** Two Debian versions, as `dpkg --compare-versions` orders them (an absent revision is empty, i.e. equal to `0`). */
export function dpkgCompare(a: string, b: string): number {
  const x = splitEvr(a);
  const y = splitEvr(b);
  return sign(compareDigits(x.epoch, y.epoch)) || dpkgPartCompare(x.version, y.version) || dpkgPartCompare(x.release ?? '', y.release ?? '');
}

/** rpm's `rpmvercmp` on one part (version or release). Only ASCII letters and digits form segments. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const sep = (s: string, k: number) => k < s.length && !isAlpha(s.charCodeAt(k)) && !isDigit(s.charCodeAt(k)) && s[k] !== '~' && s[k] !== '^';
  while (i < a.length || j < b.length) {
    while (sep(a, i)) i++;
    while (sep(b, j)) j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = isDigit(a.charCodeAt(i));
    const same = numeric ? isDigit : isAlpha;
    const si = i;
    const sj = j;
    while (i < a.length && same(a.charCodeAt(i))) i++;
    while (j < b.length && same(b.charCodeAt(j))) j++;
    // A numeric segment is newer than an alphabetic one.
    if (sj === j) return numeric ? 1 : -1;
    const x = a.slice(si, i);
    const y = b.slice(sj, j);
    const d = numeric ? compareDigits(x, y) : x < y ? -1 : x > y ? 1 : 0;
    if (d !== 0) return sign(d);
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** Two rpm EVRs; releases only count when both have one (rpm's rule for dependency ranges). */
export function rpmCompare(a: string, b: string): number {
  const x = splitEvr(a);
  const y = splitEvr(b);
  const d = sign(compareDigits(x.epoch, y.epoch)) || rpmvercmp(x.version, y.version);
  if (d !== 0 || x.release === undefined || y.release === undefined) return d;
  return rpmvercmp(x.release, y.release);
}

/** Numeric and alphabetic runs of a version, lower-cased; every other character only separates. */
function tokens(s: string): string[] {
  return s.toLowerCase().match(/[0-9]+|[a-z]+/g) ?? [];
}

const isNumeric = (t: string) => isDigit(t.charCodeAt(0));

/**
 * Compare token lists. In a release (`pre` false) a missing number counts as 0 (`1.0` = `1.0.0`),
 * a missing part is older than letters (`1.0a` > `1.0`) and a number beats letters. In a
 * pre-release (`pre` true) semver §11 applies: numbers before letters, the shorter list first.
 */
function compareTokens(x: string[], y: string[], pre: boolean): number {
  for (let k = 0; k < Math.max(x.length, y.length); k++) {
    const p = x[k];
    const q = y[k];
    if (p === undefined || q === undefined) {
      if (pre) return p === undefined ? -1 : 1;
      const present = (p ?? q) as string;
      const d = isNumeric(present) ? compareDigits(present, '0') : 1;
      if (d !== 0) return p === undefined ? -sign(d) : sign(d);
      continue;
    }
    if (isNumeric(p) !== isNumeric(q)) return isNumeric(p) === pre ? -1 : 1;
    const d = isNumeric(p) ? compareDigits(p, q) : p < q ? -1 : p > q ? 1 : 0;
    if (d !== 0) return sign(d);
  }
  return 0;
}

/**
 * Dotted, semver-like versions as Windows, macOS, Homebrew, snap and flatpak publish them:
 * - a leading `v` is ignored and semver build metadata (from `+`) too;
 * - a pre-release — from `~`, or from a `-` followed by a letter (`2.0-beta.1`, `1.0~rc1`) — sorts
 *   before the same version without one; pre-releases compare run by run, numbers before letters,
 *   fewer runs first (semver §11);
 * - the rest is compared run by run, numbers as numbers (`1.10` > `1.9`), letters case-insensitively,
 *   a number beating letters, missing numbers counting as 0 (`10.0.19041` = `10.0.19041.0`);
 *   punctuation only separates (`1_2` = `1.2`, so Homebrew's `_1` revisions sort as one more part).
 */
export function genericCompare(a: string, b: string): number {
  const parse = (v: string) => {
    const s = v.trim().replace(/^v(?=\d)/i, '').split('+')[0] ?? '';
    const m = /~|-(?=[a-z])/i.exec(s);
    return m ? { core: tokens(s.slice(0, m.index)), pre: tokens(s.slice(m.index + 1)) } : { core: tokens(s), pre: undefined };
  };
  const x = parse(a);
  const y = parse(b);
  const d = compareTokens(x.core, y.core, false);
  if (d !== 0) return d;
  if (x.pre === undefined || y.pre === undefined) return x.pre === y.pre ? 0 : x.pre === undefined ? 1 : -1;
  return compareTokens(x.pre, y.pre, true);
}

/** The comparator for a source. */
export function comparatorFor(source: SoftwareItem['source']): VersionComparator {
  if (source === 'dpkg') return dpkgCompare;
  if (source === 'rpm') return rpmCompare;
  return genericCompare;
}
