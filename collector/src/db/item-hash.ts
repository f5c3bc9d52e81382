/**
 * The lookup key of a distinct software item (`software_items.item_hash`): a 53-bit hash of its
 * JSON text (cyrb53, public domain), so an item is found through a small integer index instead of
 * a unique index on the whole JSON. Not unique: a lookup compares the text too. Stored in the
 * database, so it must never change (a new function would need a migration recomputing it).
 */
export function itemHash(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
