import type { SoftwareItem } from '@vigil/shared';

/**
 * Keys for software items, for the in-memory caches that see the same package on host after host.
 * Each value is length-prefixed (`-` when absent), so a key is one-to-one with the values it is
 * made of whatever characters they hold: a name or version carrying a separator cannot make two
 * different items share a key (and so a classification or a stored id).
 */
const part = (v: string | undefined): string => (v === undefined ? '-' : `${v.length}:${v}`);

const ITEM_KEY = Symbol('vigil.itemKey');
const CLASSIFICATION_KEY = Symbol('vigil.classificationKey');
interface Keyed {
  [ITEM_KEY]?: string;
  [CLASSIFICATION_KEY]?: string;
}

const classificationKeyOf = (i: SoftwareItem): string => `${part(i.source)}${part(i.name)}${part(i.version)}${part(i.publisher)}`;
const itemKeyOf = (i: SoftwareItem): string => `${classificationKeyOf(i)}${part(i.installedAt)}${part(i.arch)}`;

/** One-to-one with what classification reads of an item: source, name, version and publisher. */
export function classificationKey(item: SoftwareItem): string {
  return (item as Keyed)[CLASSIFICATION_KEY] ?? classificationKeyOf(item);
}

/** One-to-one with every field of an item: equal keys, equal items. */
export function itemKey(item: SoftwareItem): string {
  return (item as Keyed)[ITEM_KEY] ?? itemKeyOf(item);
}

/**
 * An item shared by many lists (the gateway's item dictionary, `ipc.ts`): its keys are made once
 * and kept on it (not enumerable, so its JSON is unchanged), and it is frozen, since every list
 * that holds it sees any change.
 */
export function sharedItem(item: SoftwareItem): SoftwareItem {
  Object.defineProperty(item, ITEM_KEY, { value: itemKeyOf(item) });
  Object.defineProperty(item, CLASSIFICATION_KEY, { value: classificationKeyOf(item) });
  return Object.freeze(item);
}
