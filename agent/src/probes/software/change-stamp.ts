import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ProbeSources } from '../probe.js';

/**
 * A cheap fingerprint of the package databases, so the agent re-reads the inventory only when it
 * changes (plus a slow safety interval): a handful of `stat` calls, no parsing, no child process.
 * Any change in mtime, ctime, size or inode of a watched path (or its appearing/disappearing)
 * changes the stamp. Windows has no cheap equivalent for the registry from Node: '' there, so the
 * agent relies on its slow interval.
 */

async function fingerprint(p: string): Promise<string> {
  try {
    const s = await stat(p);
    return `${p} ${s.mtimeMs}:${s.ctimeMs}:${s.size}:${s.ino}`;
  } catch {
    return `${p} -`;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort().map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** Files whose stat changes whenever packages are installed, removed or upgraded on Linux. */
async function linuxPaths(src: ProbeSources): Promise<string[]> {
  const root = (p: string) => path.join(src.fsRoot, p);
  const paths = [
    src.dpkgStatus,
    path.join(path.dirname(src.dpkgStatus), 'updates'),
    root('var/lib/rpm'),
    root('usr/lib/sysimage/rpm'),
    root('var/lib/snapd/snaps'),
    root('var/lib/flatpak/.changed'),
  ];
  // rpm rewrites its database files in place; the directory mtime alone would miss that.
  paths.push(...(await list(root('var/lib/rpm'))), ...(await list(root('usr/lib/sysimage/rpm'))));
  // flatpak touches `.changed` in every installation it modifies, per-user ones included.
  for (const home of await list(root('home'))) paths.push(path.join(home, '.local/share/flatpak/.changed'));
  return paths;
}

/** Application folders (each bundle's Info.plist) and Homebrew's Cellar/Caskroom entries on macOS. */
async function darwinPaths(src: ProbeSources): Promise<string[]> {
  const root = (p: string) => path.join(src.fsRoot, p);
  const appDirs = [root('Applications'), ...(await list(root('Users'))).map((u) => path.join(u, 'Applications'))];
  const paths: string[] = [];
  for (const dir of appDirs) {
    paths.push(dir);
    for (const entry of await list(dir)) paths.push(entry.endsWith('.app') ? path.join(entry, 'Contents/Info.plist') : entry);
  }
  for (const kegs of ['opt/homebrew/Cellar', 'opt/homebrew/Caskroom', 'usr/local/Cellar', 'usr/local/Caskroom']) {
    paths.push(root(kegs), ...(await list(root(kegs))));
  }
  return paths;
}

/** The stamp for `src.platform`: a hex digest, or '' where no cheap signal exists. */
export async function softwareChangeStamp(src: ProbeSources): Promise<string> {
  let paths: string[];
  if (src.platform === 'linux') paths = await linuxPaths(src);
  else if (src.platform === 'darwin') paths = await darwinPaths(src);
  else return '';
  const lines = await Promise.all(paths.map(fingerprint));
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
