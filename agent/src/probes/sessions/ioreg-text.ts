/**
 * Reading property values from `ioreg`'s text output, e.g.
 *   "IOConsoleUsers" = ({"kCGSSessionOnConsoleKey"=Yes,"kCGSSessionUserNameKey"="alice"})
 *
 * The syntax is IOKit's OSSerialize text form: dictionaries `{"k"=v,…}`, arrays `(v,…)`,
 * quoted strings, data `<hex>` or `<"text">`, numbers and `Yes`/`No`. Only what the session probe
 * needs is kept: strings, numbers, booleans, arrays and dictionaries (data is kept as its text).
 */

export type IoValue = string | number | boolean | IoValue[] | { [key: string]: IoValue };

class Reader {
  private pos = 0;
  constructor(private readonly text: string) {}

  value(): IoValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.dictionary();
    if (c === '(') return this.array();
    if (c === '"') return this.string();
    if (c === '<') return this.data();
    return this.bare();
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private expect(c: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== c) throw new Error(`ioreg value: expected '${c}' at ${this.pos}`);
    this.pos++;
  }

  /** Reads items until `close`, separated by commas (a trailing comma is tolerated). */
  private items(close: string, item: () => void): void {
    this.skipSpace();
    while (this.text[this.pos] !== close) {
      if (this.pos >= this.text.length) throw new Error(`ioreg value: missing '${close}'`);
      item();
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== close) throw new Error(`ioreg value: expected ',' or '${close}' at ${this.pos}`);
      this.skipSpace();
    }
    this.pos++;
  }

  private dictionary(): { [key: string]: IoValue } {
    const out: { [key: string]: IoValue } = {};
    this.expect('{');
    this.items('}', () => {
      const key = this.string();
      this.expect('=');
      out[key] = this.value();
    });
    return out;
  }

  private array(): IoValue[] {
    const out: IoValue[] = [];
    this.expect('(');
    this.items(')', () => out.push(this.value()));
    return out;
  }

  private string(): string {
    this.expect('"');
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (c === '"') return out;
      if (c === '\\' && this.pos < this.text.length) out += this.text[this.pos++];
      else out += c;
    }
    throw new Error('ioreg value: unterminated string');
  }

  private data(): string {
    const start = this.pos;
    let quoted = false;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (c === '"') quoted = !quoted;
      else if (c === '>' && !quoted) return this.text.slice(start, this.pos);
    }
    throw new Error('ioreg value: unterminated data');
  }

  private bare(): IoValue {
    const start = this.pos;
    while (this.pos < this.text.length && !',)}'.includes(this.text[this.pos] ?? '')) this.pos++;
    const token = this.text.slice(start, this.pos).trim();
    if (token === '') throw new Error(`ioreg value: empty value at ${start}`);
    if (token === 'Yes') return true;
    if (token === 'No') return false;
    return /^-?\d+$/.test(token) ? Number(token) : token;
  }
}

/** Parses one complete value; throws when the text is not one. */
export function parseIoregValue(text: string): IoValue {
  const reader = new Reader(text);
  const value = reader.value();
  if (!reader.atEnd()) throw new Error('ioreg value: trailing text');
  return value;
}

/**
 * The raw text of property `key` in ioreg output (`"key" = value` on one line, any tree prefix
 * such as `| |` before it), or `undefined` when no line has it. The first occurrence wins.
 */
export function ioregPropertyText(output: string, key: string): string | undefined {
  const marker = `"${key}" = `;
  for (const line of output.split(/\r?\n/)) {
    const at = line.indexOf(marker);
    if (at >= 0 && /^[\s|]*$/.test(line.slice(0, at))) return line.slice(at + marker.length).trim();
  }
  return undefined;
}
