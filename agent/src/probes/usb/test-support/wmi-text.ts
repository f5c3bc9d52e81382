/**
 * Turns real captured WMI listings of Win32_PnPEntity (PowerShell `Format-List` / `Select-Object *`
 * text, or `wmic ... get /value`) into the JSON the agent's PowerShell prints: the same
 * properties, arrays as arrays, and Windows PowerShell 5.1's escaping of `&`, `<`, `>` and `'`.
 * Test support only: the agent itself never parses these text formats.
 */
function parseArray(raw: string): string[] {
  const quoted = [...raw.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
  if (quoted.length > 0) return quoted; // wmic: {"a","b"}
  const inner = raw.replace(/^\{/, '').replace(/\}$/, '').trim();
  return inner === '' ? [] : inner.split(', '); // Format-List: {a, b}
}

function parseBlock(block: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s*: ?|=)(.*)$/.exec(line);
    if (m?.[1] && !props.has(m[1])) props.set(m[1], (m[2] ?? '').replace(/&amp;/g, '&').trimEnd());
  }
  return props;
}

export function wmiTextToJson(text: string): string {
  const records = text
    .split(/\r?\n\s*\r?\n/)
    .map(parseBlock)
    .filter((p) => (p.get('CreationClassName') ?? p.get('__CLASS')) === 'Win32_PnPEntity' && p.get('PNPDeviceID'))
    .map((p) => {
      const present = p.get('Present');
      return {
        PNPDeviceID: p.get('PNPDeviceID'),
        Name: p.get('Name') || null,
        ...(present ? { Present: /^true$/i.test(present) } : {}),
        Service: p.get('Service') || null,
        CompatibleID: parseArray(p.get('CompatibleID') ?? ''),
        HardwareID: parseArray(p.get('HardwareID') ?? ''),
      };
    });
  return JSON.stringify(records).replace(/[&<>']/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
