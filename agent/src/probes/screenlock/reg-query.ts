import type { CommandResult } from '../command-runner.js';
import { commandFailure } from './setting-fact.js';

/**
 * Parser for `reg query` text output:
 *
 * ```
 * HKEY_USERS\S-1-5-21-…\Control Panel\Desktop
 *     ScreenSaveTimeOut    REG_SZ    300
 *     WallPaper    REG_SZ
 * ```
 *
 * A line starting with `HKEY_` names the key the following values belong to; a value line is
 * `<name>    <REG_TYPE>    <data>` with four-space separators (data may be empty and may hold
 * spaces). Value names are case-insensitive in the registry, so they are looked up lower-cased.
 */

export interface RegValue {
  name: string;
  type: string;
  data: string;
}

/** Key path (as printed) → lower-cased value name → value. Values before any key line go under `''`. */
export type RegKeys = Map<string, Map<string, RegValue>>;

const VALUE_LINE = /^\s*(\S.*?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/;

export function parseRegQuery(text: string): RegKeys {
  const keys: RegKeys = new Map();
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    if (/^\s*HKEY_/.test(line) && !VALUE_LINE.test(line)) {
      current = line.trim();
      continue;
    }
    const m = VALUE_LINE.exec(line);
    if (!m?.[1] || !m[2]) continue;
    let values = keys.get(current);
    if (!values) {
      values = new Map();
      keys.set(current, values);
    }
    values.set(m[1].toLowerCase(), { name: m[1], type: m[2], data: (m[3] ?? '').trim() });
  }
  return keys;
}

/** All values of the output merged (for a query of one key). */
export function regValues(text: string): Map<string, RegValue> {
  const merged = new Map<string, RegValue>();
  for (const values of parseRegQuery(text).values()) for (const [k, v] of values) merged.set(k, v);
  return merged;
}

/** What one `reg query` said: values, "no such key or value", or a failure with why. */
export type RegAnswer = { kind: 'values'; values: Map<string, RegValue> } | { kind: 'absent' } | { kind: 'failed'; reason: string };

/**
 * Classify a `reg query` result. reg exits 1 both for a missing key/value and for other errors
 * (access denied…); only the English "unable to find" message is taken as missing — on a
 * localised Windows a missing key is therefore reported as a failure (unknown), never as absent.
 */
export function regAnswer(label: string, r: CommandResult, timeoutMs: number): RegAnswer {
  if (!r.error && r.code === 0) return { kind: 'values', values: regValues(r.stdout) };
  // The runner marks any non-zero exit as `failed`; reg's exit code 1 with this text means missing.
  if (r.error === 'failed' && r.code === 1 && /unable to find the specified registry key or value/i.test(`${r.stderr}\n${r.stdout}`)) {
    return { kind: 'absent' };
  }
  return { kind: 'failed', reason: commandFailure(label, r, timeoutMs) };
}

/** A REG_DWORD (`0x384`) or decimal REG_SZ (`900`) as a whole number, else undefined. */
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
