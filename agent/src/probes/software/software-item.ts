import { LIMITS, type SoftwareItem } from '@vigil/shared';

/**
 * Building a `SoftwareItem` from untrusted strings (package names, vendors, versions written by
 * whoever built the package): control characters and bidirectional overrides are removed,
 * whitespace is trimmed and every field is cut to the length the shared schema allows, so what a
 * probe returns always passes `SoftwareItem.parse`.
 */

/** C0/C1 controls, DEL, and the bidi embedding/override/isolate characters used to spoof text. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export const MAX_NAME = 512;
export const MAX_VERSION = 256;
export const MAX_PUBLISHER = 512;
export const MAX_ARCH = LIMITS.label;

/** Strip unsafe characters, trim, and cut to `max` UTF-16 units without splitting a surrogate pair. */
export function cleanText(value: string | undefined | null, max: number): string {
  if (value === undefined || value === null) return '';
  let s = value.replace(UNSAFE, '').trim();
  if (s.length > max) {
    s = s.slice(0, max);
    const last = s.charCodeAt(s.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) s = s.slice(0, -1);
  }
  return s;
}

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
