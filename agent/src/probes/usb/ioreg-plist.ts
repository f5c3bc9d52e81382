/**
 * A small reader for the XML property lists `ioreg -a` prints. Only what plists contain is
 * supported (dict, array, string, integer, real, true, false, data, date); anything else is an
 * error. Strings come back decoded, so a device-supplied name can never break the structure.
 */

export type PlistValue = string | number | boolean | Uint8Array | PlistValue[] | PlistDict;
export type PlistDict = Map<string, PlistValue>;

const TOKEN = /<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<!--[\s\S]*?-->|<(\/?)([A-Za-z]+)[^>]*?(\/?)>|([^<]+)/g;
const MAX_DEPTH = 256;

interface Tag {
  kind: 'open' | 'close' | 'empty';
  name: string;
}
type Token = Tag | { kind: 'text'; text: string };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|lt|gt|amp|quot|apos);/gi, (whole, e: string) => {
    const lower = e.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[lower] ?? whole;
  });
}

function tokenize(xml: string): Token[] {
  const tokens: Token[] = [];
  for (const m of xml.matchAll(TOKEN)) {
    if (m[2]) tokens.push({ kind: m[3] ? 'empty' : m[1] ? 'close' : 'open', name: m[2] });
    else if (m[4] !== undefined) tokens.push({ kind: 'text', text: m[4] });
  }
  return tokens;
}

class Reader {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  /** Next tag, skipping whitespace between elements. */
  private nextTag(): Tag {
    for (;;) {
      const t = this.tokens[this.i++];
      if (!t) throw new Error('plist ended early');
      if (t.kind !== 'text') return t;
      if (t.text.trim() !== '') throw new Error('text outside an element');
    }
  }

  private text(name: string): string {
    let out = '';
    for (;;) {
      const t = this.tokens[this.i++];
      if (!t) throw new Error(`<${name}> not closed`);
      if (t.kind === 'text') out += t.text;
      else if (t.kind === 'close' && t.name === name) return decodeEntities(out);
      else throw new Error(`unexpected <${t.name}> inside <${name}>`);
    }
  }

  value(depth: number, tag = this.nextTag()): PlistValue {
    if (depth > MAX_DEPTH) throw new Error('plist nested too deeply');
    if (tag.kind === 'close') throw new Error(`unexpected </${tag.name}>`);
    const empty = tag.kind === 'empty';
    switch (tag.name) {
      case 'dict': {
        const dict: PlistDict = new Map();
        if (empty) return dict;
        for (let t = this.nextTag(); !(t.kind === 'close' && t.name === 'dict'); t = this.nextTag()) {
          if (t.name !== 'key' || t.kind !== 'open') throw new Error('dict entry without <key>');
          const key = this.text('key');
          dict.set(key, this.value(depth + 1));
        }
        return dict;
      }
      case 'array': {
        const list: PlistValue[] = [];
        if (empty) return list;
        for (let t = this.nextTag(); !(t.kind === 'close' && t.name === 'array'); t = this.nextTag()) list.push(this.value(depth + 1, t));
        return list;
      }
      case 'true':
      case 'false':
        if (!empty) this.text(tag.name);
        return tag.name === 'true';
      case 'string':
      case 'date':
        return empty ? '' : this.text(tag.name);
      case 'integer':
      case 'real': {
        const n = Number(empty ? '' : this.text(tag.name).trim());
        if (!Number.isFinite(n)) throw new Error(`bad <${tag.name}>`);
        return n;
      }
      case 'data':
        return empty ? new Uint8Array() : new Uint8Array(Buffer.from(this.text('data').replace(/\s+/g, ''), 'base64'));
      default:
        throw new Error(`unsupported <${tag.name}>`);
    }
  }

  document(): PlistValue {
    const first = this.nextTag();
    if (first.name !== 'plist' || first.kind !== 'open') return this.value(0, first);
    const v = this.value(0);
    const end = this.nextTag();
    if (end.name !== 'plist' || end.kind !== 'close') throw new Error('plist has more than one value');
    return v;
  }
}

/** Parses an XML property list; throws on anything malformed. */
export function parsePlist(xml: string): PlistValue {
  return new Reader(tokenize(xml)).document();
}
