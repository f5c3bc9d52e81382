/**
 * The part of an XML property list an inventory needs: the string values of the top-level
 * dictionary (CFBundleName, CFBundleShortVersionString, CFBundleIdentifier…). Nested dictionaries
 * and arrays are skipped, not interpreted, so a `name` key inside `WindowState` cannot be mistaken
 * for the bundle's. Binary plists are not XML: callers convert them first (`plutil -convert xml1`).
 */

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, e: string) => {
    if (e.startsWith('#x')) return safeCodePoint(Number.parseInt(e.slice(2), 16)) ?? whole;
    if (e.startsWith('#')) return safeCodePoint(Number.parseInt(e.slice(1), 10)) ?? whole;
    return ENTITIES[e] ?? whole;
  });
}

const safeCodePoint = (n: number) => (Number.isInteger(n) && n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined);

/** True when the bytes look like an XML plist rather than a binary (`bplist00`) one. */
export function isXmlPlist(text: string): boolean {
  const head = text.replace(/^\uFEFF/, '').trimStart().slice(0, 512);
  return head.startsWith('<?xml') || head.startsWith('<!DOCTYPE plist') || head.startsWith('<plist');
}

/**
 * Top-level string values of an XML plist, or undefined if it is not a plist whose root is a
 * dictionary. `<string/>` is the empty string; non-string values (true, integer, date…) are not
 * returned.
 */
export function plistTopLevelStrings(xml: string): Map<string, string> | undefined {
  // Comments, processing instructions and the doctype carry no data.
  const body = xml.replace(/<!--[\s\S]*?-->/g, '').replace(/<\?[\s\S]*?\?>/g, '').replace(/<!DOCTYPE[^>]*>/i, '');
  const tag = /<(\/?)([A-Za-z]+)\b[^>]*?(\/?)>/g;
  const out = new Map<string, string>();
  let depth = 0; // depth inside the root <dict>: 1 = its direct children
  let rootSeen = false;
  let pendingKey: string | undefined;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const [, closing, nameRaw = '', selfClosing] = m;
    const name = nameRaw.toLowerCase();
    if (name === 'plist') continue;
    if (!rootSeen) {
      if (name !== 'dict' || closing) return undefined;
      rootSeen = true;
      depth = selfClosing ? 0 : 1;
      continue;
    }
    if (depth === 0) break; // the root dictionary is closed
    const container = name === 'dict' || name === 'array';
    if (closing) {
      if (container) depth--;
      continue;
    }
    if (depth > 1) {
      // Inside a nested container: only its nesting matters.
      if (container && !selfClosing) depth++;
      continue;
    }
    // A direct child of the root dictionary.
    if (container) {
      pendingKey = undefined; // a dictionary or array value consumes the pending key
      if (!selfClosing) depth++;
      continue;
    }
    let content = '';
    if (!selfClosing) {
      const end = body.indexOf(`</${nameRaw}>`, tag.lastIndex);
      if (end < 0) return undefined;
      content = decodeEntities(body.slice(tag.lastIndex, end));
      tag.lastIndex = end + nameRaw.length + 3;
    }
    if (name === 'key') {
      pendingKey = content;
    } else {
      if (pendingKey !== undefined && name === 'string') out.set(pendingKey, content);
      pendingKey = undefined;
    }
  }
  return rootSeen ? out : undefined;
}
