/**
 * Text a USB device controls (its manufacturer, product and serial strings) or that the OS
 * derived from it. It is never interpreted here: control characters are removed, whitespace
 * trimmed and the length capped so it fits the shared schema. Escaping for HTML or CSV happens
 * where it is displayed, not here.
 */

/** C0/C1 controls and the bidirectional overrides that can disguise how a string reads. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** A surrogate half without its partner (invalid UTF-16 from a broken descriptor). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Cleans one untrusted string; anything that is not a string becomes `''`. */
export function cleanText(raw: unknown, max = 256): string {
  if (typeof raw !== 'string') return '';
  const s = raw.replace(LONE_SURROGATE, '\ufffd').replace(CONTROL, '').trim();
  if (s.length <= max) return s;
  const cut = s.slice(0, max);
  // Never leave half of a surrogate pair at the end.
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1).trimEnd() : cut.trimEnd();
}

/**
 * A USB id as lowercase hex of `digits` digits (`0781`, `08`), from a number (ioreg), a hex
 * string (sysfs `0781`, Windows `VID_0781`) or a hex string with a prefix and a note
 * (`0x0781  (SanDisk Corporation)`). Anything else is `undefined`, never a guess.
 */
export function hexId(raw: unknown, digits: 2 | 4): string | undefined {
  const max = digits === 4 ? 0xffff : 0xff;
  if (typeof raw === 'number') {
    return Number.isInteger(raw) && raw >= 0 && raw <= max ? raw.toString(16).padStart(digits, '0') : undefined;
  }
  if (typeof raw !== 'string') return undefined;
  const m = /^\s*(?:0x)?([0-9a-f]+)(?:\s|$)/i.exec(raw);
  if (!m?.[1] || m[1].length > digits) return undefined;
  return m[1].toLowerCase().padStart(digits, '0');
}
