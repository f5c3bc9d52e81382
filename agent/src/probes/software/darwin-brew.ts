import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SoftwareItem } from '@vigil/shared/agent';
import type { CommandRunner, RunOptions } from '../command-runner.js';
import type { ProbeSources } from '../probe.js';
import { pushItem } from './software-item.js';
import { commandProblem, type SourceResult } from './source-result.js';

/**
 * Homebrew formulae and casks from `brew list --formula --versions` and `brew list --cask
 * --versions` (one line per package: name, then every installed version).
 *
 * Homebrew refuses to run as root, and the agent runs as root: brew is run as the owner of its
 * prefix. Casks are named `cask:<token>` so that a formula and a cask with the same token (the
 * `docker` CLI and the Docker Desktop cask) stay two packages; the schema has no field for the kind.
 */

/** Where Homebrew lives: Apple silicon, then Intel (where the repository sits in /usr/local/Homebrew). */
const INSTALLS = [
  { prefix: 'opt/homebrew', brew: 'opt/homebrew/bin/brew' },
  { prefix: 'usr/local/Homebrew', brew: 'usr/local/bin/brew' },
];

export function parseBrewList(text: string, kind: 'formula' | 'cask'): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  for (const line of text.split(/\r?\n/)) {
    const [name, ...versions] = line.trim().split(/\s+/);
    if (!name) continue;
    pushItem(items, { name: kind === 'cask' ? `cask:${name}` : name, version: versions.join(', '), source: 'brew' });
  }
  return items;
}

/** The home folder under /Users owned by `uid`, for brew's HOME. */
async function homeOf(fsRoot: string, uid: number): Promise<string | undefined> {
  try {
    for (const u of await readdir(path.join(fsRoot, 'Users'))) {
      if ((await stat(path.join(fsRoot, 'Users', u))).uid === uid) return path.join('/Users', u);
    }
  } catch {
    // no /Users
  }
  return undefined;
}

/** The brew source: absent when no Homebrew prefix exists; failed when an existing brew cannot list. */
export async function readBrew(fsRoot: string, runner: CommandRunner, log: ProbeSources['log']): Promise<SourceResult> {
  const items: SoftwareItem[] = [];
  let found = 0;
  const failures: string[] = [];
  for (const install of INSTALLS) {
    let owner: { uid: number; gid: number };
    try {
      owner = await stat(path.join(fsRoot, install.prefix));
    } catch {
      continue;
    }
    found++;
    const opts: RunOptions = {
      timeoutMs: 60_000,
      env: { HOMEBREW_NO_AUTO_UPDATE: '1', HOMEBREW_NO_ANALYTICS: '1', HOMEBREW_NO_ENV_HINTS: '1', HOME: (await homeOf(fsRoot, owner.uid)) ?? '/var/empty' },
    };
    // brew refuses to run as root: run it as whoever owns the prefix.
    if (process.getuid?.() === 0 && owner.uid !== 0) Object.assign(opts, { uid: owner.uid, gid: owner.gid });
    const brew = path.join(fsRoot, install.brew);
    for (const kind of ['formula', 'cask'] as const) {
      const res = await runner.run(brew, ['list', `--${kind}`, '--versions'], opts);
      const problem = commandProblem(res, `brew list --${kind}`);
      if (problem) {
        failures.push(problem === 'absent' ? `${brew} missing` : problem);
        log.debug({ brew, kind, problem }, 'brew list failed');
        continue;
      }
      items.push(...parseBrewList(res.stdout, kind));
    }
  }
  if (found === 0) return { source: 'brew', status: 'absent' };
  if (failures.length > 0) return { source: 'brew', status: 'failed', reason: failures.join('; ') };
  return { source: 'brew', status: 'ok', items };
}
