import type { SoftwareItem } from '@vigil/shared/agent';
import type { CommandRunner } from '../command-runner.js';
import { pushItem } from './software-item.js';
import { commandProblem, type SourceResult } from './source-result.js';

/**
 * Installed snaps from `snap list --unicode=never --color=never`. Every column of that table is a
 * single token (snap names, versions, revisions, channels and publisher user names contain no
 * spaces; notes are comma-separated), so rows are split on whitespace. Disabled revisions (only
 * listed with `--all`) are not installed software and are skipped.
 */

/** The verification marks snap appends to a publisher: `*`/`**` in ASCII, `✓`/`✪` in Unicode. */
const MARKS = /[*\u2713\u272a]+$/u;

export function parseSnapList(text: string): SoftwareItem[] {
  const items: SoftwareItem[] = [];
  const lines = text.split(/\r?\n/);
  const header = lines.findIndex((l) => /^Name\s+Version\s+Rev\s/.test(l));
  if (header < 0) return items;
  for (const line of lines.slice(header + 1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 6) continue;
    const [name, version, , , publisher, notes] = cols;
    if ((notes ?? '').split(',').includes('disabled')) continue;
    const pub = (publisher ?? '').replace(MARKS, '');
    pushItem(items, { name, version, source: 'snap', publisher: pub === '-' ? undefined : pub });
  }
  return items;
}

/** The snap source: absent without the snap command; failed when snapd cannot be reached. */
export async function readSnap(runner: CommandRunner): Promise<SourceResult> {
  const res = await runner.run('snap', ['list', '--unicode=never', '--color=never'], { timeoutMs: 30_000 });
  const problem = commandProblem(res, 'snap list');
  if (problem === 'absent') return { source: 'snap', status: 'absent' };
  if (problem) return { source: 'snap', status: 'failed', reason: problem };
  // With nothing installed snap prints only a hint on stderr and exits 0.
  return { source: 'snap', status: 'ok', items: parseSnapList(res.stdout) };
}
