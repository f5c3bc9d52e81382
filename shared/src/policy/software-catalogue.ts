import { z } from 'zod';
import { SoftwareSource } from '../facts.js';

/**
 * The software catalogue of the policy document: which installed software is `approved`,
 * `licensed` (with a number of seats) or `prohibited`; anything the catalogue does not cover is
 * `unapproved`, except the OS vendor's own packages when `defaults.approveOsVendor` is on.
 *
 * ```yaml
 * software:
 *   defaults: { approveOsVendor: true }
 *   titles:
 *     - { title: "Microsoft Office", match: { name: "Microsoft Office*", publisher: "Microsoft*", source: [registry] }, status: licensed, seats: 250 }
 *     - { title: "BitTorrent clients", match: { name: ["*torrent*", "transmission-*"] }, status: prohibited }
 *     - { title: "Python 3", match: { name: "python3*", source: [dpkg] }, versions: ">=3.11 <4", status: approved }
 * ```
 *
 * Patterns are case-insensitive globs: `*` is any run of characters (also none), `?` exactly one,
 * every other character (`[`, `]`, `+`, `.`, `\`…) stands for itself; a list matches if any
 * pattern does. `versions` is a range: comparators `>=`, `>`, `<`, `<=`, `=` (a bare version means
 * `=`) joined by spaces (all must hold), alternatives joined by `||` (one must hold). Versions are
 * compared the way the item's source orders them (dpkg, rpm, or dotted numbers for the others).
 *
 * Matching and evaluation are the collector's (`collector/src/policy/software/`); this file only
 * says what a valid catalogue is.
 */

export const CatalogueStatus = z.enum(['approved', 'licensed', 'prohibited']);
export type CatalogueStatus = z.infer<typeof CatalogueStatus>;

/** Longest glob pattern accepted (the collector's matcher refuses longer ones too). */
export const SOFTWARE_GLOB_MAX = 256;
/** Longest `versions` range accepted. */
export const VERSION_RANGE_MAX = 512;

const glob = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(SOFTWARE_GLOB_MAX, `must be at most ${SOFTWARE_GLOB_MAX} characters`);
/** One glob, or a list of globs of which any may match. */
const globs = z.union([glob, z.array(glob).min(1, 'must list at least one pattern').max(64)]);

export const SoftwareMatch = z
  .strictObject({
    name: globs.optional(),
    publisher: globs.optional(),
    source: z.array(SoftwareSource).min(1, 'must list at least one source').max(8).optional(),
  })
  .refine((m) => m.name !== undefined || m.publisher !== undefined || m.source !== undefined, {
    message: 'must give at least one of name, publisher or source (an empty match would cover all software)',
  });
export type SoftwareMatch = z.infer<typeof SoftwareMatch>;

/** Comparison operators of a version range, longest first so `>=` is not read as `>`. */
export const VERSION_RANGE_OPERATORS = ['>=', '<=', '>', '<', '='] as const;
export type VersionRangeOperator = (typeof VERSION_RANGE_OPERATORS)[number];

const OPERATOR_CHARS = new Set(['<', '>', '=', '|']);

/**
 * Why `range` is not a valid version range, or undefined if it is. The grammar (the collector's
 * `parseVersionRange` reads exactly this, and its tests check the two agree):
 * `range = group *("||" group)`, `group = comparator *(spaces comparator)`,
 * `comparator = [operator] [spaces] version`, `version` = characters other than whitespace,
 * `<`, `>`, `=` and `|`.
 */
export function versionRangeProblem(range: string): string | undefined {
  if (range.trim() === '') return 'is empty';
  for (const group of range.split('||')) {
    const tokens = group.trim().split(/\s+/).filter((t) => t !== '');
    if (tokens.length === 0) return `has an empty alternative around "||"`;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i] ?? '';
      const op = VERSION_RANGE_OPERATORS.find((o) => token.startsWith(o)) ?? '';
      let version = token.slice(op.length);
      if (version === '' && op !== '') version = tokens[++i] ?? '';
      if (version === '') return `has "${op}" without a version after it`;
      const bad = [...version].find((c) => OPERATOR_CHARS.has(c));
      if (bad !== undefined) return `has "${bad}" inside the version "${version}" (operators are ${VERSION_RANGE_OPERATORS.join(' ')}, alternatives are joined by "||")`;
    }
  }
  return undefined;
}

export const CatalogueTitle = z
  .strictObject({
    /** Readable and unique: it is the subject of the alerts and the licence report. */
    title: z.string().trim().min(1, 'must not be empty').max(200),
    match: SoftwareMatch,
    versions: z
      .string()
      .max(VERSION_RANGE_MAX)
      .superRefine((v, ctx) => {
        const problem = versionRangeProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: `version range ${problem}` });
      })
      .optional(),
    status: CatalogueStatus,
    /** Licences owned: required for `licensed`, meaningless (so refused) for the others. */
    seats: z.number().int('must be a whole number').min(0).max(10_000_000).optional(),
    note: z.string().max(2048).optional(),
  })
  .superRefine((t, ctx) => {
    if (t.status === 'licensed' && t.seats === undefined) {
      ctx.addIssue({ code: 'custom', path: ['seats'], message: `"${t.title}" is licensed, so it needs seats (the number of licences owned)` });
    }
    if (t.status !== 'licensed' && t.seats !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['seats'], message: `"${t.title}" is ${t.status}: seats only apply to licensed titles` });
    }
  });
export type CatalogueTitle = z.infer<typeof CatalogueTitle>;

export const SoftwareCatalogueDefaults = z.strictObject({
  /**
   * Approve the OS vendor's own packages that no title matches (Debian/Ubuntu archive
   * maintainers, Red Hat family vendors, Microsoft, Apple, Canonical snaps — the collector's
   * `os-vendor.ts` lists exactly what counts).
   */
  approveOsVendor: z.boolean().default(true),
});

export const SoftwareCatalogue = z
  .strictObject({
    defaults: SoftwareCatalogueDefaults.prefault({}),
    /** In document order: the first matching title wins, except that a prohibited match beats any other. */
    titles: z.array(CatalogueTitle).max(10_000).default([]),
  })
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.titles.forEach((t, i) => {
      const key = t.title.toLowerCase();
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else ctx.addIssue({ code: 'custom', path: ['titles', i, 'title'], message: `"${t.title}" is already the title of titles[${first}]; titles must be unique` });
    });
  })
  .prefault({});
export type SoftwareCatalogue = z.infer<typeof SoftwareCatalogue>;

/** The catalogue in force when the policy has none: no titles, OS vendor packages approved (frozen). */
export const DEFAULT_SOFTWARE_CATALOGUE: SoftwareCatalogue = ((c: SoftwareCatalogue) => {
  Object.freeze(c.defaults);
  Object.freeze(c.titles);
  return Object.freeze(c);
})(SoftwareCatalogue.parse(undefined));
