import { LIMITS, type SoftwareItem } from '@vigil/shared/agent';
import { cleanText } from '../untrusted-text.js';

/**
 * Building a `SoftwareItem` from untrusted strings (package names, vendors, versions written by
 * whoever built the package): control characters and bidirectional overrides are removed,
 * whitespace is trimmed and every field is cut to the length the shared schema allows, so what a
 * probe returns always passes `SoftwareItem.parse`. The cleaning itself is the shared
 * `../untrusted-text.ts`; this module holds the field limits and the item rules.
 */

export { cleanText } from '../untrusted-text.js';

export const MAX_NAME = 512;
export const MAX_VERSION = 256;
export const MAX_PUBLISHER = 512;
export const MAX_ARCH = LIMITS.label;

export interface RawSoftware {
  name: string | undefined;
  version: string | undefined;
  source: SoftwareItem['source'];
  publisher?: string | undefined;
  arch?: string | undefined;
  /** Epoch milliseconds, when the source knows it. */
  installedAtMs?: number | undefined;
}

/** A clean item, or undefined when nothing usable is left of the name. */
export function makeItem(raw: RawSoftware): SoftwareItem | undefined {
  const name = cleanText(raw.name, MAX_NAME);
  if (name === '') return undefined;
  const item: SoftwareItem = { name, version: cleanText(raw.version, MAX_VERSION), source: raw.source };
  const publisher = cleanText(raw.publisher, MAX_PUBLISHER);
  if (publisher !== '') item.publisher = publisher;
  const arch = cleanText(raw.arch, MAX_ARCH);
  if (arch !== '') item.arch = arch;
  const ms = raw.installedAtMs;
  // Dates before 1980 or after 2100 are clock garbage, not install times.
  if (ms !== undefined && Number.isFinite(ms) && ms >= 315_532_800_000 && ms < 4_102_444_800_000) {
    item.installedAt = new Date(ms).toISOString();
  }
  return item;
}

/** Push `makeItem(raw)` when it yields an item. */
export function pushItem(out: SoftwareItem[], raw: RawSoftware): void {
  const item = makeItem(raw);
  if (item) out.push(item);
}
