/**
 * The one parser for `reg query` text output, shared by every probe that reads the Windows
 * registry (screen lock, installed software):
 *
 * ```
 * HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\{…}
 *     DisplayName    REG_SZ    Microsoft .NET Host - 5.0.7 (x64)
 *     Contact    REG_SZ
 *     HKEY_CURRENT_USER\Control Panel\Desktop\Colors
 * ```
 *
 * A line starting with `HKEY_` (indented when reg lists the subkeys of the key it was asked for)
 * starts a key; a value line is `<name>    <REG_TYPE>    <data>` with four-space separators (data
 * may be empty and may hold spaces). Value lines before any key line (`reg query … /v` output cut
 * to its value) belong to a key whose path is `''`. Value names are case-insensitive in the
 * registry, so they are keyed lower-cased; `name` keeps them as printed. CRLF and LF both work.
 */

export interface RegValue {
  /** The value name as reg printed it. */
  name: string;
  /** `REG_SZ`, `REG_DWORD`, … */
  type: string;
  /** The data as printed, trimmed (`''` when the value has no data). */
  data: string;
}

export interface RegKey {
  /** The key path as printed (`HKEY_LOCAL_MACHINE\…`), or `''` for values printed without one. */
  path: string;
  /** Lower-cased value name → value. */
  values: Map<string, RegValue>;
}

const VALUE_LINE = /^\s*(\S.*?) {4}(REG_[A-Z0-9_]+)(?: {4}(.*))?$/;

/** Every key of the output in the order printed, each with its values (keys without values too). */
export function parseRegQuery(text: string): RegKey[] {
  const keys: RegKey[] = [];
  let current: RegKey | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    const m = VALUE_LINE.exec(line);
    if (!m && /^\s*HKEY_/.test(line)) {
      current = { path: line.trim(), values: new Map() };
      keys.push(current);
      continue;
    }
    if (!m?.[1] || !m[2]) continue;
    if (!current) {
      current = { path: '', values: new Map() };
      keys.push(current);
    }
    current.values.set(m[1].toLowerCase(), { name: m[1], type: m[2], data: (m[3] ?? '').trim() });
  }
  return keys;
}

/** All values of the output merged, later keys winning (for a query of one key). */
export function regValues(text: string): Map<string, RegValue> {
  const merged = new Map<string, RegValue>();
  for (const key of parseRegQuery(text)) for (const [k, v] of key.values) merged.set(k, v);
  return merged;
}

/** A REG_DWORD/REG_QWORD (`0x384`) or decimal REG_SZ/REG_EXPAND_SZ (`900`) as a whole number, else undefined. */
export function regNumber(v: RegValue | undefined): number | undefined {
  if (!v) return undefined;
  const d = v.data.trim();
  if ((v.type === 'REG_DWORD' || v.type === 'REG_QWORD') && /^0x[0-9a-f]{1,8}$/i.test(d)) return Number.parseInt(d.slice(2), 16);
  if ((v.type === 'REG_SZ' || v.type === 'REG_EXPAND_SZ') && /^\d{1,10}$/.test(d)) {
    const n = Number(d);
    return n <= 2_147_483_647 ? n : undefined;
  }
  return undefined;
}
