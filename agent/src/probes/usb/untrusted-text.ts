import { cleanText as cleanUntrusted } from '../untrusted-text.js';

/**
 * Text a USB device controls (its manufacturer, product and serial strings) or that the OS
 * derived from it. It is never interpreted here: control characters are removed, whitespace
 * trimmed and the length capped so it fits the shared schema. Escaping for HTML or CSV happens
 * where it is displayed, not here.
 */

/** Bidi marks (ALM, LRM, RLM): stripped from device strings on top of what every probe strips. */
const MARKS = /[\u061c\u200e\u200f]/g;
/** A surrogate half without its partner (invalid UTF-16 from a broken descriptor). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Cleans one untrusted device string with the shared `cleanText`, after replacing lone surrogates
 * with U+FFFD and removing bidi marks; no whitespace is left at a cut. Anything that is not a
 * string becomes `''`.
 */
export function cleanText(raw: unknown, max = 256): string {
  if (typeof raw !== 'string') return '';
  return cleanUntrusted(raw.replace(LONE_SURROGATE, '\ufffd').replace(MARKS, ''), max).trimEnd();
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
