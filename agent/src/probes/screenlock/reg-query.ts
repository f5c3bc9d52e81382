import type { CommandResult } from '../command-runner.js';
import { parseRegQuery as parseRegKeys, regValues, type RegValue } from '../windows/reg-query.js';
import { commandFailure } from './setting-fact.js';

/**
 * How the screen-lock probe reads `reg query` answers. Parsing is the shared
 * `windows/reg-query.ts`; what is screen-lock's own is the classification of one query's result
 * (values, missing, or failed with the reason wording every screen-lock `unknown` uses).
 */

export { regNumber, regValues, type RegValue } from '../windows/reg-query.js';

/** Key path (as printed) → lower-cased value name → value. Values before any key line go under `''`. */
export type RegKeys = Map<string, Map<string, RegValue>>;

/** The shared parse seen by key path: keys with the same path merged, keys without values left out. */
export function parseRegQuery(text: string): RegKeys {
  const keys: RegKeys = new Map();
  for (const key of parseRegKeys(text)) {
    if (key.values.size === 0) continue;
    const values = keys.get(key.path) ?? new Map<string, RegValue>();
    for (const [k, v] of key.values) values.set(k, v);
    keys.set(key.path, values);
  }
  return keys;
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
