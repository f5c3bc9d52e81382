import type { SoftwareItem } from '@vigil/shared';

/**
 * Keys for software items, for the in-memory caches that see the same package on host after host.
 * Each value is length-prefixed (`-` when absent), so a key is one-to-one with the values it is
 * made of whatever characters they hold: a name or version carrying a separator cannot make two
 * different items share a key (and so a classification or a stored id).
 */
const part = (v: string | undefined): string => (v === undefined ? '-' : `${v.length}:${v}`);

const META = Symbol('vigil.sharedItem');

/**
 * What is kept on a shared item (`sharedItem`): its keys, made once, and the last answer of each
 * in-memory cache about it, tagged with what it holds for (a cache's generation, a catalogue), so a
 * package seen on host after host is looked up once per process rather than once per host.
 */
export interface SharedItemMeta {
  readonly itemKey: string;
  readonly classificationKey: string;
  /** The inventory's stored id, valid while `idFor` is that inventory's current generation. */
  idFor?: object;
  id?: number;
  /** The classification under `classifiedFor` (a catalogue). */
  classifiedFor?: object;
  classification?: unknown;
}
interface WithMeta {
  [META]?: SharedItemMeta;
}

const classificationKeyOf = (i: SoftwareItem): string => `${part(i.source)}${part(i.name)}${part(i.version)}${part(i.publisher)}`;
const itemKeyOf = (i: SoftwareItem): string => `${classificationKeyOf(i)}${part(i.installedAt)}${part(i.arch)}`;

/** A shared item's meta (undefined for any other item). */
export function sharedMeta(item: SoftwareItem): SharedItemMeta | undefined {
  return (item as WithMeta)[META];
}

/** One-to-one with what classification reads of an item: source, name, version and publisher. */
export function classificationKey(item: SoftwareItem): string {
  return (item as WithMeta)[META]?.classificationKey ?? classificationKeyOf(item);
}

/** One-to-one with every field of an item: equal keys, equal items. */
export function itemKey(item: SoftwareItem): string {
  return (item as WithMeta)[META]?.itemKey ?? itemKeyOf(item);
}

/**
 * An item shared by many lists (the gateway's item dictionary, `ipc.ts`): its meta is kept on it
 * (not enumerable, so its JSON is unchanged), and it is frozen, since every list that holds it
 * sees any change.
 */
export function sharedItem(item: SoftwareItem): SoftwareItem {
  const meta: SharedItemMeta = { itemKey: itemKeyOf(item), classificationKey: classificationKeyOf(item) };
  Object.defineProperty(item, META, { value: meta });
  return Object.freeze(item);
}
