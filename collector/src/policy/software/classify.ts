import type { SoftwareItem } from '@vigil/shared';
import type { CatalogueStatus, CatalogueTitle, SoftwareCatalogue } from './catalogue.js';
import { compileGlobs, type GlobMatcher } from './glob.js';
import { classificationKey, sharedMeta } from './item-key.js';
import { osVendorOf } from './os-vendor.js';
import { comparatorFor } from './version-compare.js';
import { parseVersionRange, satisfies, type VersionRange } from './version-range.js';

/**
 * Where one installed item stands against the software catalogue:
 *
 * 1. If any title whose status is `prohibited` matches, the item is prohibited (the first such
 *    title in document order names it) — wherever that title sits, so an earlier `approved` or
 *    `licensed` title can never let prohibited software through.
 * 2. Otherwise the first matching title in document order decides (`approved` or `licensed`).
 * 3. Otherwise, with `defaults.approveOsVendor`, an OS vendor package (`os-vendor.ts`) is approved.
 * 4. Otherwise it is `unapproved`.
 *
 * A title matches when every part it gives holds: the source is listed, the name matches one of
 * its name globs, the publisher (which must then be present) one of its publisher globs, and the
 * version is in its range, compared the way the item's source orders versions.
 *
 * An item the agent merged from several installs of one package reports its versions joined by
 * `", "` (`5.14.0-1, 5.14.0-2`); each version is classified on its own and the worst result
 * stands (prohibited, then unapproved, then licensed, then approved), so an old version outside an
 * approved range is not hidden by a new one inside it.
 */

export type SoftwareStatus = CatalogueStatus | 'unapproved';

export interface SoftwareClassification {
  status: SoftwareStatus;
  /** The catalogue title that decided, when one did. */
  title?: string;
  /** Why, readable, for alert details and the host page. */
  reason: string;
}

interface CompiledTitle {
  title: CatalogueTitle;
  name?: GlobMatcher;
  publisher?: GlobMatcher;
  sources?: ReadonlySet<SoftwareItem['source']>;
  range?: VersionRange;
}

const compiledCatalogues = new WeakMap<SoftwareCatalogue, CompiledTitle[]>();

/** Compile a catalogue's globs and ranges once; catalogues are treated as immutable once parsed. */
function compile(catalogue: SoftwareCatalogue): CompiledTitle[] {
  let compiled = compiledCatalogues.get(catalogue);
  if (!compiled) {
    compiled = catalogue.titles.map((title) => {
      const { name, publisher, source } = title.match;
      const c: CompiledTitle = { title };
      if (name !== undefined) c.name = compileGlobs(name);
      if (publisher !== undefined) c.publisher = compileGlobs(publisher);
      if (source !== undefined) c.sources = new Set(source);
      if (title.versions !== undefined) c.range = parseVersionRange(title.versions);
      return c;
    });
    compiledCatalogues.set(catalogue, compiled);
  }
  return compiled;
}

function titleMatches(t: CompiledTitle, item: SoftwareItem): boolean {
  if (t.sources && !t.sources.has(item.source)) return false;
  if (t.name && !t.name(item.name)) return false;
  if (t.publisher && (item.publisher === undefined || !t.publisher(item.publisher))) return false;
  if (t.range && !satisfies(item.version, t.range, comparatorFor(item.source))) return false;
  return true;
}

function classifyOne(item: SoftwareItem, catalogue: SoftwareCatalogue): SoftwareClassification {
  const titles = compile(catalogue);
  const prohibited = titles.find((t) => t.title.status === 'prohibited' && titleMatches(t, item));
  if (prohibited) {
    const { title, note } = prohibited.title;
    return { status: 'prohibited', title, reason: `prohibited by the catalogue title "${title}"${note ? `: ${note}` : ''}` };
  }
  const first = titles.find((t) => titleMatches(t, item));
  if (first) {
    const { title, status } = first.title;
    return { status, title, reason: `${status} by the catalogue title "${title}"` };
  }
  const vendor = catalogue.defaults.approveOsVendor ? osVendorOf(item) : undefined;
  if (vendor !== undefined) return { status: 'approved', reason: `the OS vendor's own package: ${vendor}` };
  const unless = catalogue.defaults.approveOsVendor ? ' and it is not an OS vendor package' : '';
  return { status: 'unapproved', reason: `no catalogue title covers ${item.source}:${item.name} ${item.version}${unless}`.replace(/ +$/, '') };
}

const SEVERITY: Record<SoftwareStatus, number> = { approved: 0, licensed: 1, unapproved: 2, prohibited: 3 };

/** The versions of an item: one, or several joined by `", "` when the agent merged installs. */
export function versionsOf(item: SoftwareItem): string[] {
  const versions = item.version.split(', ').filter((v) => v !== '');
  return versions.length > 0 ? versions : [item.version];
}

/** Results remembered per catalogue: a fleet installs the same packages over and over. */
const memo = new WeakMap<SoftwareCatalogue, Map<string, SoftwareClassification>>();
/** Entries remembered per catalogue before the memo starts again (bounds memory). */
const MEMO_MAX = 200_000;

/** Classify one installed item against the catalogue (the rules are in this file's header). */
export function classifySoftware(item: SoftwareItem, catalogue: SoftwareCatalogue): SoftwareClassification {
  // A package shared by many hosts' lists keeps its last classification on itself.
  const meta = sharedMeta(item);
  if (meta?.classifiedFor === catalogue) return meta.classification as SoftwareClassification;
  const result = memoised(item, catalogue);
  if (meta) {
    meta.classifiedFor = catalogue;
    meta.classification = result;
  }
  return result;
}

function memoised(item: SoftwareItem, catalogue: SoftwareCatalogue): SoftwareClassification {
  let cache = memo.get(catalogue);
  if (!cache) memo.set(catalogue, (cache = new Map()));
  const key = classificationKey(item);
  const known = cache.get(key);
  if (known) return known;
  const result = classifyUncached(item, catalogue);
  if (cache.size >= MEMO_MAX) cache.clear();
  cache.set(key, result);
  return result;
}

/** Each list's classification (in order) under the catalogue it was classified against. */
const listMemo = new WeakMap<readonly SoftwareItem[], { catalogue: SoftwareCatalogue; results: readonly SoftwareClassification[] }>();

/**
 * Every item of a list classified, in order — once per list and catalogue: a snapshot's list is
 * judged for findings and for licences, and building each item's memo key twice per snapshot was
 * ~4 % of the main process's time in a fleet ramp. Lists are not changed once made (a changed
 * length is classified afresh).
 */
export function classifyList(items: readonly SoftwareItem[], catalogue: SoftwareCatalogue): readonly SoftwareClassification[] {
  const known = listMemo.get(items);
  if (known && known.catalogue === catalogue && known.results.length === items.length) return known.results;
  const results = items.map((item) => classifySoftware(item, catalogue));
  listMemo.set(items, { catalogue, results });
  return results;
}

function classifyUncached(item: SoftwareItem, catalogue: SoftwareCatalogue): SoftwareClassification {
  const versions = versionsOf(item);
  if (versions.length === 1) return classifyOne(item, catalogue);
  let worst: SoftwareClassification | undefined;
  for (const version of versions) {
    const c = classifyOne({ ...item, version }, catalogue);
    if (!worst || SEVERITY[c.status] > SEVERITY[worst.status]) worst = { ...c, reason: `version ${version}: ${c.reason}` };
  }
  return worst ?? classifyOne(item, catalogue);
}
