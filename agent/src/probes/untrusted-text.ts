/**
 * Cleaning text that someone other than the agent wrote (package names and vendors, device
 * strings, registry data) before it goes into a fact: control characters and the bidirectional
 * embedding/override/isolate characters are removed, whitespace is trimmed, and the length is
 * capped without splitting a surrogate pair, so what a probe returns fits the shared schema.
 * The text is never interpreted here; escaping for HTML or CSV happens where it is displayed.
 */

/** C0/C1 controls, DEL, and the bidi embedding/override/isolate characters used to spoof text. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Strip unsafe characters, trim, and cut to `max` UTF-16 units without leaving half of a
 * surrogate pair at the end. Anything that is not a string (absent fields) becomes `''`.
 */
export function cleanText(value: unknown, max: number): string {
  if (typeof value !== 'string') return '';
  let s = value.replace(UNSAFE, '').trim();
  if (s.length > max) {
    s = s.slice(0, max);
    const last = s.charCodeAt(s.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) s = s.slice(0, -1);
  }
  return s;
}
