import type { SoftwareItem } from '@vigil/shared/agent';
import type { CommandRunner } from '../command-runner.js';
import type { ProbeSources } from '../probe.js';
import { parseRegQuery as parseRegKeys } from '../windows/reg-query.js';
import { pushItem } from './software-item.js';
import { commandProblem, type SourceResult } from './source-result.js';

/**
 * Programs from the Windows Uninstall registry keys, read with `reg query <key> /s`: the machine
 * key (64-bit view), its WOW6432Node twin (32-bit programs), and the key of every loaded user hive
 * under HKEY_USERS (per-user installs such as Zoom or VS Code user setup).
 *
 * Which entries count: what "Programs and Features" shows. osquery's `programs` table returns
 * every subkey (its code only de-duplicates key paths), so these rules are the Add/Remove Programs
 * ones instead: no DisplayName → not listed; SystemComponent ≠ 0 → hidden component; ParentKeyName
 * set → an update of another product; ReleaseType Update/Hotfix/Security Update/Service Pack →
 * an update, not a program.
 */

export const UNINSTALL = 'SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall';
export const WOW_UNINSTALL = 'SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall';

/** A key as the rules below read it: its path and its values' data by lower-cased name. */
export interface RegKey {
  path: string;
  values: ReadonlyMap<string, { type: string; data: string }>;
}

/**
 * The shared `reg query` parse (`windows/reg-query.ts`) with each value as `{ type, data }`, the
 * shape this module has always exported.
 */
export function parseRegQuery(text: string): RegKey[] {
  return parseRegKeys(text).map((k) => ({ path: k.path, values: new Map([...k.values].map(([name, v]) => [name, { type: v.type, data: v.data }])) }));
}

const UPDATE_RELEASE_TYPES = new Set(['update', 'hotfix', 'security update', 'service pack']);

const str = (k: RegKey, name: string) => k.values.get(name)?.data.trim() ?? '';
const dword = (k: RegKey, name: string) => {
  const v = str(k, name);
  return v === '' ? 0 : Number.parseInt(v, v.toLowerCase().startsWith('0x') ? 16 : 10);
};

/** Why Add/Remove Programs would not list this key as a program, or undefined if it would. */
export function hiddenReason(k: RegKey): string | undefined {
  if (!/\\Uninstall\\[^\\]+$/i.test(k.path)) return 'not a direct subkey of Uninstall';
  if (str(k, 'displayname') === '') return 'no DisplayName';
  if (dword(k, 'systemcomponent') !== 0) return 'SystemComponent';
  if (str(k, 'parentkeyname') !== '') return 'ParentKeyName (an update)';
  if (UPDATE_RELEASE_TYPES.has(str(k, 'releasetype').toLowerCase())) return 'ReleaseType (an update)';
  return undefined;
}

/** `InstallDate` as written by Windows Installer, YYYYMMDD; anything else is not a date we trust. */
export function installDateMs(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  return back.getUTCMonth() === mo - 1 && back.getUTCDate() === d ? ms : undefined;
}

/** One Add/Remove Programs entry, with everything the registry says that the inventory uses. */
export interface UninstallProgram {
  key: string;
  displayName: string;
  displayVersion: string;
  publisher: string;
  installDate: string;
  installLocation: string;
}

export function uninstallPrograms(output: string): UninstallProgram[] {
  return parseRegKeys(output)
    .filter((k) => hiddenReason(k) === undefined)
    .map((k) => ({
      key: k.path,
      displayName: str(k, 'displayname'),
      displayVersion: str(k, 'displayversion'),
      publisher: str(k, 'publisher'),
      installDate: str(k, 'installdate'),
      installLocation: str(k, 'installlocation'),
    }));
}

/** Items from one `reg query … /s` output; `arch` is `x86` for the WOW6432Node key. */
export function registryItems(output: string, arch?: string): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  for (const p of uninstallPrograms(output)) {
    pushItem(items, {
      name: p.displayName,
      version: p.displayVersion,
      source: 'registry',
      publisher: p.publisher,
      arch,
      installedAtMs: installDateMs(p.installDate),
    });
  }
  return items;
}

/** Loaded user hives from `reg query HKU`: real SIDs only (not `.DEFAULT`, not `_Classes`). */
export function loadedUserSids(output: string): string[] {
  const sids: string[] = [];
  for (const { path } of parseRegKeys(output)) {
    const m = /^HKEY_USERS\\(S-1-[\d-]+)$/.exec(path);
    if (m) sids.push(m[1]!);
  }
  return sids;
}

const query = (runner: CommandRunner, args: string[]) => runner.run('reg', ['query', ...args], { timeoutMs: 60_000, maxBytes: 64 * 1024 * 1024 });

/**
 * The registry source. The machine Uninstall key always exists, so failing to read it fails the
 * source. reg.exe exits 1 both for "key not found" and (localised) errors, so a missing
 * WOW6432Node key (32-bit Windows) or user key is only logged; a timeout still fails the source.
 */
export async function readRegistryPrograms(runner: CommandRunner, log: ProbeSources['log']): Promise<SourceResult> {
  const main = await query(runner, [`HKLM\\${UNINSTALL}`, '/s', '/reg:64']);
  const problem = commandProblem(main, 'reg query HKLM Uninstall');
  if (problem === 'absent') return { source: 'registry', status: 'absent' };
  if (problem) return { source: 'registry', status: 'failed', reason: problem };
  const items = registryItems(main.stdout);

  const optional: { args: string[]; arch?: string }[] = [{ args: [`HKLM\\${WOW_UNINSTALL}`, '/s', '/reg:64'], arch: 'x86' }];
  const hives = await query(runner, ['HKU']);
  for (const sid of hives.code === 0 ? loadedUserSids(hives.stdout) : []) {
    optional.push({ args: [`HKU\\${sid}\\${UNINSTALL}`, '/s'] });
  }
  for (const q of optional) {
    const res = await query(runner, q.args);
    if (res.error === 'timeout') return { source: 'registry', status: 'failed', reason: `reg query ${q.args[0]} timed out` };
    if (res.code !== 0) {
      log.debug({ key: q.args[0], code: res.code }, 'Uninstall key not readable or not present');
      continue;
    }
    items.push(...registryItems(res.stdout, q.arch));
  }
  return { source: 'registry', status: 'ok', items };
}
