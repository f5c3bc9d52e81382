/**
 * Case-insensitive globs for software names and publishers, matched without regular expressions
 * so no pattern can make matching slow: `*` is any run of characters (also none), `?` exactly one
 * character (a code point, so one emoji or CJK character), everything else — `[`, `]`, `+`, `.`,
 * `\`, `(` — stands for itself. There is no escape: a literal `*` or `?` cannot be asked for,
 * which package names do not need.
 *
 * A pattern is split at its stars into literal pieces; the first piece must match at the start,
 * the last at the end, and the middle ones are found left to right, each at its earliest position
 * (the earliest is always safe for `*`-only globs, so nothing backtracks). Cost is at most
 * (subject length × pattern length) character comparisons, and patterns are capped.
 */

/** Longest pattern accepted; the policy schema refuses longer ones too. */
export const GLOB_MAX_LENGTH = 256;

export type GlobMatcher = (subject: string) => boolean;

/** One piece between stars, as code points; `?` is kept as `'?'` and matches any one. */
type Piece = string[];

const fold = (s: string): string[] => [...s.toLowerCase()];

function pieceAt(subject: string[], piece: Piece, at: number): boolean {
  if (at + piece.length > subject.length) return false;
  for (let i = 0; i < piece.length; i++) {
    const p = piece[i];
    if (p !== '?' && p !== subject[at + i]) return false;
  }
  return true;
}

/** Compile one pattern. Throws `RangeError` for an empty or over-long pattern. */
export function compileGlob(pattern: string): GlobMatcher {
  if (pattern.length === 0) throw new RangeError('glob pattern is empty');
  if (pattern.length > GLOB_MAX_LENGTH) throw new RangeError(`glob pattern is longer than ${GLOB_MAX_LENGTH} characters`);
  const pieces: Piece[] = pattern.split('*').map(fold);
  if (pieces.length === 1) {
    const only = pieces[0] ?? [];
    return (subject) => {
      const s = fold(subject);
      return s.length === only.length && pieceAt(s, only, 0);
    };
  }
  const head = pieces[0] ?? [];
  const tail = pieces[pieces.length - 1] ?? [];
  const middle = pieces.slice(1, -1).filter((p) => p.length > 0);
  const minLength = pieces.reduce((n, p) => n + p.length, 0);
  return (subject) => {
    const s = fold(subject);
    if (s.length < minLength) return false;
    if (!pieceAt(s, head, 0)) return false;
    const end = s.length - tail.length;
    if (!pieceAt(s, tail, end)) return false;
    let at = head.length;
    for (const piece of middle) {
      let found = -1;
      for (let i = at; i + piece.length <= end; i++) {
        if (pieceAt(s, piece, i)) {
          found = i;
          break;
        }
      }
      if (found < 0) return false;
      at = found + piece.length;
    }
    return at <= end;
  };
}

/** A matcher for a pattern or a list of them (any may match). */
export function compileGlobs(patterns: string | readonly string[]): GlobMatcher {
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  const matchers = list.map(compileGlob);
  return (subject) => matchers.some((m) => m(subject));
}
