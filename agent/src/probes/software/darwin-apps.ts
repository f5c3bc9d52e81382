import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SoftwareItem } from '@vigil/shared/agent';
import type { CommandRunner } from '../command-runner.js';
import type { ProbeSources } from '../probe.js';
import { isXmlPlist, plistTopLevelStrings } from './darwin-plist.js';
import { makeItem } from './software-item.js';
import type { SourceResult } from './source-result.js';

/**
 * macOS applications: every `*.app` bundle in /Applications and in each user's ~/Applications
 * (also one folder down, where suites such as "Adobe Photoshop 2024/" keep theirs), described by
 * its `Contents/Info.plist`.
 *
 * - name: CFBundleName, else CFBundleDisplayName, else the bundle's folder name without `.app` —
 *   the title a person and the policy catalogue use. The bundle identifier is not a title and the
 *   SoftwareItem schema has no field for it (see the report);
 * - version: CFBundleShortVersionString (the marketing version), else CFBundleVersion;
 * - publisher: not in Info.plist (it lives in the code signature), so left out.
 */

/** Bundles directly in `dir`, and one level down in plain folders. */
async function findBundles(dir: string, depth = 0): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.name.endsWith('.app') && (e.isDirectory() || e.isSymbolicLink())) found.push(full);
    else if (e.isDirectory() && depth === 0) found.push(...(await findBundles(full, 1).catch(() => [])));
  }
  return found;
}

/** Top-level strings of a bundle's Info.plist; binary plists are converted to XML by `plutil`. */
export async function readInfoPlist(bundle: string, runner: CommandRunner): Promise<Map<string, string> | undefined> {
  const file = path.join(bundle, 'Contents', 'Info.plist');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  if (!isXmlPlist(text)) {
    const res = await runner.run('plutil', ['-convert', 'xml1', '-o', '-', file], { timeoutMs: 10_000 });
    if (res.error !== undefined || res.code !== 0) return undefined;
    text = res.stdout;
  }
  return plistTopLevelStrings(text);
}

/** An item from a bundle's plist strings (which may be missing: the folder name still identifies the app). */
export function appItem(bundle: string, info: Map<string, string> | undefined): SoftwareItem | undefined {
  const get = (k: string) => info?.get(k)?.trim() || undefined;
  const folder = path.basename(bundle).replace(/\.app$/, '');
  return makeItem({
    name: get('CFBundleName') ?? get('CFBundleDisplayName') ?? folder,
    version: get('CFBundleShortVersionString') ?? get('CFBundleVersion') ?? '',
    source: 'app',
  });
}

/** /Applications, then ~/Applications of every user folder under /Users. */
async function applicationDirs(fsRoot: string): Promise<string[]> {
  const dirs = [path.join(fsRoot, 'Applications')];
  try {
    for (const u of await readdir(path.join(fsRoot, 'Users'), { withFileTypes: true })) {
      if (u.isDirectory() && !u.name.startsWith('.') && u.name !== 'Shared') dirs.push(path.join(fsRoot, 'Users', u.name, 'Applications'));
    }
  } catch {
    // no /Users: only the system folder
  }
  return dirs;
}

/** The app source: absent without /Applications (not a Mac); a user folder that cannot be read is skipped. */
export async function readApplications(fsRoot: string, runner: CommandRunner, log: ProbeSources['log']): Promise<SourceResult> {
  const [system, ...userDirs] = await applicationDirs(fsRoot);
  const bundles: string[] = [];
  try {
    bundles.push(...(await findBundles(system!)));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { source: 'app', status: 'absent' };
    return { source: 'app', status: 'failed', reason: `cannot list ${system}: ${code ?? String(e)}` };
  }
  for (const dir of userDirs) {
    try {
      bundles.push(...(await findBundles(dir)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log.debug({ dir, err: (e as Error).message }, 'cannot list user Applications');
    }
  }
  const items: SoftwareItem[] = [];
  for (const bundle of bundles) {
    const item = appItem(bundle, await readInfoPlist(bundle, runner));
    if (item) items.push(item);
  }
  return { source: 'app', status: 'ok', items };
}
