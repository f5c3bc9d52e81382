import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SoftwareItem } from '@vigil/shared/agent';
import type { CommandRunner } from '../command-runner.js';
import type { ProbeSources } from '../probe.js';
import { pushItem } from './software-item.js';
import { commandProblem, type SourceResult } from './source-result.js';

/**
 * Installed Flatpak applications. `flatpak list` run by the agent sees the system installation
 * and the agent user's own; users install apps into `~/.local/share/flatpak` without admin rights,
 * so it is also run as each local user who has such an installation (needs the agent to be root).
 *
 * Output piped (not a terminal) is one row per ref, cells separated by tabs, no title row. The
 * columns are asked for explicitly, in the order flatpak uses by default, with arch last.
 */
export const FLATPAK_COLUMNS = 'name,application,version,branch,origin,installation,arch';

/** Parse piped `flatpak list` rows (6 default columns, or 7 with arch). Name is the application ID: stable, unlike the localised title. */
export function parseFlatpakList(text: string): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  for (const line of text.split(/\r?\n/)) {
    const cols = line.split('\t');
    if (cols.length !== 6 && cols.length !== 7) continue;
    pushItem(items, { name: cols[1], version: cols[2], source: 'flatpak', arch: cols[6] });
  }
  return items;
}

interface LocalUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Users from `<fsRoot>/etc/passwd` that have a per-user Flatpak installation. */
async function usersWithFlatpak(fsRoot: string): Promise<LocalUser[]> {
  let passwd: string;
  try {
    passwd = await readFile(path.join(fsRoot, 'etc/passwd'), 'utf8');
  } catch {
    return [];
  }
  const users: LocalUser[] = [];
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    if (!name || !home || !/^\d+$/.test(uid ?? '') || !/^\d+$/.test(gid ?? '')) continue;
    try {
      if ((await stat(path.join(fsRoot, home, '.local/share/flatpak'))).isDirectory()) {
        users.push({ name, uid: Number(uid), gid: Number(gid), home });
      }
    } catch {
      // no per-user installation
    }
  }
  return users;
}

const listArgs = (scope: string[]) => ['list', ...scope, '--app', `--columns=${FLATPAK_COLUMNS}`];

/**
 * The flatpak source: absent without the flatpak command, failed when the agent's own listing
 * (system installation) fails; a user's installation that cannot be listed is logged and skipped.
 */
export async function readFlatpak(runner: CommandRunner, fsRoot: string, log: ProbeSources['log']): Promise<SourceResult> {
  const own = await runner.run('flatpak', listArgs([]), { timeoutMs: 30_000 });
  const problem = commandProblem(own, 'flatpak list');
  if (problem === 'absent') return { source: 'flatpak', status: 'absent' };
  // The system installation is the main one: without it the source counts as unread.
  if (problem) return { source: 'flatpak', status: 'failed', reason: problem };
  const items = parseFlatpakList(own.stdout);

  const myUid = process.getuid?.();
  for (const user of await usersWithFlatpak(fsRoot)) {
    if (user.uid === myUid) continue; // already in the agent's own listing
    if (myUid !== 0) {
      log.debug({ user: user.name }, 'not root: cannot list per-user flatpak installation');
      continue;
    }
    const res = await runner.run('flatpak', listArgs(['--user']), {
      timeoutMs: 30_000,
      uid: user.uid,
      gid: user.gid,
      env: { HOME: user.home },
    });
    const p = commandProblem(res, `flatpak list --user (${user.name})`);
    if (p) {
      log.warn({ user: user.name, reason: p }, 'per-user flatpak installation could not be listed');
      continue;
    }
    items.push(...parseFlatpakList(res.stdout));
  }
  return { source: 'flatpak', status: 'ok', items };
}
