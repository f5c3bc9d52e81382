import type { SoftwareItem } from '@vigil/shared';
import { comparatorFor, type VersionComparator } from './version-compare.js';

/**
 * Version ranges of catalogue titles, e.g. `>=3.11 <4` or `<1.0 || >=2.0`:
 * comparators `>=`, `>`, `<`, `<=`, `=` (a bare version means `=`, and a space may follow the
 * operator), joined by whitespace (all must hold) into groups joined by `||` (one must hold).
 * Versions are compared with the item source's own ordering (`version-compare.ts`), so
 * `>=1:2.39` on a dpkg item honours the epoch and `<2.0` holds for `2.0~rc1`.
 *
 * This is the grammar the policy schema checks (`versionRangeProblem` in
 * `shared/src/policy/software-catalogue.ts`); the tests hold the two to the same answers.
 */

export type RangeOperator = '>=' | '<=' | '>' | '<' | '=';
export interface RangeComparator {
  op: RangeOperator;
  version: string;
}
/** Alternatives (OR) of groups (AND) of comparators. */
export type VersionRange = RangeComparator[][];

const OPERATORS: readonly RangeOperator[] = ['>=', '<=', '>', '<', '='];
const RESERVED = /[<>=|]/;

export class VersionRangeError extends Error {
  override readonly name = 'VersionRangeError';
}

/** Parse a range; throws `VersionRangeError` saying what is wrong. */
export function parseVersionRange(text: string): VersionRange {
  if (text.trim() === '') throw new VersionRangeError('version range is empty');
  return text.split('||').map((group) => {
    const tokens = group.trim().split(/\s+/).filter((t) => t !== '');
    if (tokens.length === 0) throw new VersionRangeError(`version range "${text}" has an empty alternative around "||"`);
    const out: RangeComparator[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i] ?? '';
      const op = OPERATORS.find((o) => token.startsWith(o));
      let version = token.slice(op?.length ?? 0);
      if (version === '' && op !== undefined) version = tokens[++i] ?? '';
      if (version === '') throw new VersionRangeError(`version range "${text}" has "${op}" without a version after it`);
      if (RESERVED.test(version)) throw new VersionRangeError(`version range "${text}" has an operator inside the version "${version}"`);
      out.push({ op: op ?? '=', version });
    }
    return out;
  });
}

function holds(cmp: number, op: RangeOperator): boolean {
  switch (op) {
    case '>=':
      return cmp >= 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    case '<':
      return cmp < 0;
    case '=':
      return cmp === 0;
  }
}

/** Whether `version` is in `range` under `compare`. */
export function satisfies(version: string, range: VersionRange, compare: VersionComparator): boolean {
  return range.some((group) => group.every((c) => holds(compare(version, c.version), c.op)));
}

/** A predicate for one range text and one source; parses once. Throws `VersionRangeError`. */
export function compileVersionRange(text: string, source: SoftwareItem['source']): (version: string) => boolean {
  const range = parseVersionRange(text);
  const compare = comparatorFor(source);
  return (version) => satisfies(version, range, compare);
}
