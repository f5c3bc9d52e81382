/**
 * Turns real captured `ioreg -l` text into the XML property list `ioreg -a` prints for the same
 * registry entries: one dict per entry with its simple properties (strings, integers, data,
 * booleans), `IOObjectClass`, `IORegistryEntryName`, and its children under
 * `IORegistryEntryChildren`. Values ioreg printed as dictionaries or lists, and lines a
 * terminal cut short (`$`), are left out. Test support only.
 */
interface Entry {
  name: string;
  cls: string;
  props: Array<[string, string]>;
  children: Entry[];
}

const HEADER = /^([ |]*)(?:\+-o )?(.+?)\s\s<class ([^,>$]+)/;
const PROPERTY = /^[ |]*"([^"]+)" = (.*)$/;

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function valueXml(raw: string): string | undefined {
  if (raw.endsWith('$')) return undefined;
  let m: RegExpExecArray | null;
  if ((m = /^"(.*)"$/.exec(raw))) return `<string>${xmlEscape(m[1] ?? '')}</string>`;
  if ((m = /^<([0-9a-f]*)>$/i.exec(raw))) return `<data>${Buffer.from(m[1] ?? '', 'hex').toString('base64')}</data>`;
  if (/^-?\d+$/.test(raw)) return `<integer>${raw}</integer>`;
  if (raw === 'Yes' || raw === 'No') return raw === 'Yes' ? '<true/>' : '<false/>';
  return undefined;
}

function entryXml(e: Entry): string {
  const parts = [
    `<key>IOObjectClass</key><string>${xmlEscape(e.cls)}</string>`,
    `<key>IORegistryEntryName</key><string>${xmlEscape(e.name.replace(/@[0-9a-f]+$/i, ''))}</string>`,
  ];
  for (const [k, v] of e.props) {
    const x = valueXml(v);
    if (x) parts.push(`<key>${xmlEscape(k)}</key>${x}`);
  }
  if (e.children.length) parts.push(`<key>IORegistryEntryChildren</key><array>${e.children.map(entryXml).join('')}</array>`);
  return `<dict>${parts.join('')}</dict>`;
}

export function ioregTextToPlist(text: string): string {
  const top: Entry[] = [];
  const stack: Array<{ col: number; entry: Entry }> = [];
  let current: Entry | undefined;
  for (const line of text.split(/\r?\n/)) {
    const h = HEADER.exec(line);
    if (h) {
      const col = (h[1] ?? '').length;
      const entry: Entry = { name: h[2] ?? '', cls: (h[3] ?? '').trim(), props: [], children: [] };
      while (stack.length && (stack[stack.length - 1]?.col ?? 0) >= col) stack.pop();
      (stack[stack.length - 1]?.entry.children ?? top).push(entry);
      stack.push({ col, entry });
      current = entry;
      continue;
    }
    const p = PROPERTY.exec(line);
    if (p?.[1] && p[2] !== undefined && current) current.props.push([p[1], p[2]]);
  }
  const body = `<dict><key>IORegistryEntryName</key><string>Root</string><key>IORegistryEntryChildren</key><array>${top.map(entryXml).join('')}</array></dict>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n${body}\n</plist>\n`;
}
