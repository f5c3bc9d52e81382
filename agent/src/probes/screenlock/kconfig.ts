/**
 * A reader for KDE's KConfig INI files (kscreenlockerrc), covering what matters for reading
 * settings faithfully, including the kiosk markers administrators use to lock them:
 *
 * - `[Group]` headers, nested groups as `[A][B]`; `[Group][$i]` makes the group immutable;
 * - a `[$i]` line before any group makes the whole file immutable;
 * - `Key=value` (whitespace around key and value trimmed), `Key[$i]=value` makes one key immutable,
 *   `Key[de]=…` localised entries are ignored; `#` comments and blank lines are skipped.
 *
 * Immutable means a configuration file read later (the user's, over /etc/xdg) cannot override it.
 */

export interface KEntry {
  value: string;
  immutable: boolean;
}

export interface KGroup {
  immutable: boolean;
  entries: Map<string, KEntry>;
}

export interface KConfigFile {
  immutable: boolean;
  groups: Map<string, KGroup>;
}

/** Longest line considered; longer lines are skipped rather than parsed. */
const MAX_LINE = 4096;

function groupOf(file: KConfigFile, name: string): KGroup {
  let g = file.groups.get(name);
  if (!g) {
    g = { immutable: false, entries: new Map() };
    file.groups.set(name, g);
  }
  return g;
}

/** Parse `[A][B][$i]` into the group name (`A/B`) and whether `$i` was present. */
function parseHeader(line: string): { name: string; immutable: boolean } | undefined {
  const parts = line.match(/\[[^\]]*\]/g);
  if (!parts || parts.join('') !== line) return undefined;
  const names: string[] = [];
  let immutable = false;
  for (const p of parts) {
    const inner = p.slice(1, -1);
    if (inner === '$i') immutable = true;
    else if (inner.startsWith('$')) continue;
    else names.push(inner);
  }
  return { name: names.join('/'), immutable };
}

/** Parse the text of one KConfig file. Never throws; unreadable lines are skipped. */
export function parseKConfig(text: string): KConfigFile {
  const file: KConfigFile = { immutable: false, groups: new Map() };
  let current: KGroup | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (raw.length > MAX_LINE) continue;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('[')) {
      if (line === '[$i]' && !current) {
        file.immutable = true;
        continue;
      }
      const header = parseHeader(line);
      if (!header) {
        current = undefined;
        continue;
      }
      current = groupOf(file, header.name);
      if (header.immutable) current.immutable = true;
      continue;
    }
    if (!current) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const keyPart = line.slice(0, eq).trim();
    const m = /^([^[\]]+)((?:\[[^\]]*\])*)$/.exec(keyPart);
    if (!m?.[1]) continue;
    const options = m[2] ?? '';
    const opts: string[] = options.match(/\[[^\]]*\]/g) ?? [];
    if (opts.some((o) => !o.startsWith('[$'))) continue; // localised entry
    const key = m[1].trim();
    const prior = current.entries.get(key);
    if (prior?.immutable) continue;
    current.entries.set(key, { value: line.slice(eq + 1).trim(), immutable: opts.includes('[$i]') });
  }
  return file;
}

/** KConfig's spellings of a boolean. */
export function kconfigBool(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (v === 'true' || v === 'on' || v === 'yes' || v === '1') return true;
  if (v === 'false' || v === 'off' || v === 'no' || v === '0') return false;
  return undefined;
}
