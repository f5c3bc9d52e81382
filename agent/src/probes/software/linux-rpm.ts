import type { SoftwareItem } from '@vigil/shared/agent';
import type { CommandRunner } from '../command-runner.js';
import { pushItem } from './software-item.js';
import { commandProblem, type SourceResult } from './source-result.js';

/**
 * Installed RPM packages from `rpm -qa --queryformat …`. The query format and the parser are
 * generated from one column layout, so they cannot drift apart. Fields are separated by the ASCII
 * unit separator and records by the record separator: neither can appear in a tag value that
 * matters, unlike spaces, tabs or newlines (summaries and vendors contain all three).
 */

export type RpmTag = 'EPOCH' | 'NAME' | 'VERSION' | 'RELEASE' | 'ARCH' | 'VENDOR' | 'INSTALLTIME' | (string & {});

export interface RpmLayout {
  columns: readonly RpmTag[];
  fieldSeparator: string;
  recordSeparator: string;
}

/** What the agent asks rpm for. Optional tags use rpm's `%|TAG?{…}:{}|` so a missing tag prints nothing, not `(none)`. */
export const AGENT_RPM_LAYOUT: RpmLayout = {
  columns: ['NAME', 'EPOCH', 'VERSION', 'RELEASE', 'ARCH', 'VENDOR', 'INSTALLTIME'],
  fieldSeparator: '\u001f',
  recordSeparator: '\u001e\n',
};

const OPTIONAL: ReadonlySet<string> = new Set(['EPOCH', 'ARCH', 'VENDOR', 'INSTALLTIME']);

/** The `--queryformat` argument for a layout. */
export function rpmQueryFormat(layout: RpmLayout): string {
  const cols = layout.columns.map((t) => (OPTIONAL.has(t) ? `%|${t}?{%{${t}}}:{}|` : `%{${t}}`));
  return cols.join(layout.fieldSeparator) + layout.recordSeparator;
}

/** `(none)` is how rpm prints an absent tag without the conditional form. */
const tagValue = (v: string | undefined) => (v === undefined || v === '(none)' ? '' : v.trim());

/**
 * Parse rpm output laid out as `layout`. Version is `epoch:version-release` when the package has
 * an epoch tag (even `0`, as rpm's own `%{EVR}` does), else `version-release`. Records with the
 * wrong number of fields are skipped and counted.
 */
export function parseRpmQuery(text: string, layout: RpmLayout): { items: SoftwareItem[]; malformed: number } {
  const at = (tag: RpmTag) => layout.columns.indexOf(tag);
  const idx = { name: at('NAME'), epoch: at('EPOCH'), version: at('VERSION'), release: at('RELEASE'), arch: at('ARCH'), vendor: at('VENDOR'), time: at('INSTALLTIME') };
  // A multi-character separator ending in a newline (for readable output) splits on what precedes it.
  const sep = layout.recordSeparator.length > 1 ? layout.recordSeparator.replace(/\n$/, '') : layout.recordSeparator;
  const items: SoftwareItem[] = [];
  let malformed = 0;
  for (const raw of text.split(sep)) {
    const record = raw.replace(/^\r?\n/, '').replace(/\r$/, '');
    if (record.trim() === '') continue;
    const f = record.split(layout.fieldSeparator);
    if (f.length !== layout.columns.length) {
      malformed++;
      continue;
    }
    const get = (i: number) => (i >= 0 ? tagValue(f[i]) : '');
    const epoch = get(idx.epoch);
    const release = get(idx.release);
    const evr = `${epoch !== '' ? `${epoch}:` : ''}${get(idx.version)}${release !== '' ? `-${release}` : ''}`;
    const seconds = Number(get(idx.time));
    pushItem(items, {
      name: get(idx.name),
      version: evr,
      source: 'rpm',
      publisher: get(idx.vendor),
      arch: get(idx.arch),
      installedAtMs: get(idx.time) !== '' && Number.isInteger(seconds) ? seconds * 1000 : undefined,
    });
  }
  return { items, malformed };
}

/** The rpm source: absent when rpm is not installed; a machine with rpm but no packages is `ok`, empty. */
export async function readRpm(runner: CommandRunner): Promise<SourceResult> {
  const res = await runner.run('rpm', ['-qa', '--queryformat', rpmQueryFormat(AGENT_RPM_LAYOUT)], {
    timeoutMs: 60_000,
    maxBytes: 64 * 1024 * 1024,
  });
  const problem = commandProblem(res, 'rpm -qa');
  if (problem === 'absent') return { source: 'rpm', status: 'absent' };
  if (problem) return { source: 'rpm', status: 'failed', reason: problem };
  const { items, malformed } = parseRpmQuery(res.stdout, AGENT_RPM_LAYOUT);
  if (malformed > 0 && items.length === 0) {
    return { source: 'rpm', status: 'failed', reason: `rpm -qa output not in the requested format (${malformed} records)` };
  }
  return { source: 'rpm', status: 'ok', items };
}
