import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SoftwareItem } from '@vigil/shared/agent';
import { pushItem } from './software-item.js';
import type { SourceResult } from './source-result.js';

/**
 * Installed Debian packages, read straight from dpkg's database: the status file plus the
 * journal of not-yet-checkpointed updates (`<admindir>/updates/NNNN`) that dpkg-query also
 * applies, so the result is exactly what `dpkg-query -W` reports as `installed`.
 */

/** The fields of one status stanza that the inventory needs. */
export interface DpkgRecord {
  package: string;
  /** `want flag status`, e.g. `hold ok installed`. */
  status: string;
  version: string;
  architecture: string;
  maintainer: string;
}

/**
 * Streaming reader of RFC 822-like stanzas: fields are `Name: value` (names case-insensitive),
 * continuation lines start with a space or tab, and a blank line ends a stanza. Only the five
 * fields above are kept, so memory stays flat however long descriptions and conffile lists get.
 */
export class DpkgStanzaReader {
  private rest = '';
  private current: DpkgRecord | undefined;

  constructor(private readonly onRecord: (record: DpkgRecord) => void) {}

  push(chunk: string): void {
    const text = this.rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      this.line(text, start, nl);
      start = nl + 1;
    }
    this.rest = text.slice(start);
  }

  end(): void {
    if (this.rest !== '') this.line(this.rest, 0, this.rest.length);
    this.rest = '';
    this.flush();
  }

  private line(text: string, start: number, end: number): void {
    if (end > start && text.charCodeAt(end - 1) === 13) end--; // tolerate CRLF
    if (end === start) return this.flush();
    const first = text.charCodeAt(start);
    if (first === 32 || first === 9) return; // continuation of a multi-line field we do not keep
    const colon = text.indexOf(':', start);
    if (colon < 0 || colon > end) return;
    const field = text.slice(start, colon).toLowerCase();
    if (field !== 'package' && field !== 'status' && field !== 'version' && field !== 'architecture' && field !== 'maintainer') return;
    const value = text.slice(colon + 1, end).trim();
    const rec = (this.current ??= { package: '', status: '', version: '', architecture: '', maintainer: '' });
    rec[field] = value;
  }

  private flush(): void {
    const rec = this.current;
    this.current = undefined;
    if (rec && rec.package !== '') this.onRecord(rec);
  }
}

/**
 * A version as dpkg prints it: dpkg parses `[epoch:]upstream[-revision]` and writes the epoch back
 * only when it is non-zero or the rest would be ambiguous, so `0:1.2-3` is shown as `1.2-3`.
 * A version dpkg would reject is returned trimmed but otherwise as written.
 */
export function dpkgVersion(raw: string): string {
  const v = raw.trim();
  if (v === '') return v;
  const colon = v.indexOf(':');
  let epoch = 0;
  let rest = v;
  if (colon >= 0) {
    const e = v.slice(0, colon);
    if (!/^\d+$/.test(e)) return v;
    epoch = Number(e);
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (upstream === '' || (dash >= 0 && revision === '')) return v;
  const showEpoch = epoch !== 0 || upstream.includes(':') || revision.includes(':');
  return `${showEpoch ? `${epoch}:` : ''}${upstream}${revision ? `-${revision}` : ''}`;
}

/** dpkg's own key for a package: name (dpkg lowercases it) and architecture. */
const keyOf = (r: DpkgRecord) => `${r.package.toLowerCase()}:${r.architecture}`;

/** Records whose status (third word of `Status:`) is `installed`, held or not, as items. */
export function installedDpkgItems(records: Iterable<DpkgRecord>): SoftwareItem[] {
  const out: SoftwareItem[] = [];
  for (const r of records) {
    if (r.status.split(/\s+/)[2] !== 'installed') continue;
    pushItem(out, {
      name: r.package.toLowerCase(),
      version: dpkgVersion(r.version),
      source: 'dpkg',
      publisher: r.maintainer,
      arch: r.architecture,
    });
  }
  return out;
}

/** Parse a whole status text (fixtures, update journal entries) into `byKey`, later wins. */
export function parseDpkgText(text: string, byKey = new Map<string, DpkgRecord>()): Map<string, DpkgRecord> {
  const reader = new DpkgStanzaReader((r) => byKey.set(keyOf(r), r));
  reader.push(text);
  reader.end();
  return byKey;
}

/** Stream the status file, then apply the update journal the way dpkg does (file names all digits, in order). */
export async function readDpkgRecords(statusPath: string): Promise<Map<string, DpkgRecord>> {
  const byKey = new Map<string, DpkgRecord>();
  const reader = new DpkgStanzaReader((r) => byKey.set(keyOf(r), r));
  const stream = createReadStream(statusPath, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  for await (const chunk of stream) reader.push(chunk as string);
  reader.end();

  const updatesDir = path.join(path.dirname(statusPath), 'updates');
  let names: string[] = [];
  try {
    names = (await readdir(updatesDir)).filter((n) => /^\d+$/.test(n)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  for (const n of names) parseDpkgText(await readFile(path.join(updatesDir, n), 'utf8'), byKey);
  return byKey;
}

/** The dpkg source: absent when there is no status file, failed when it cannot be read. */
export async function readDpkg(statusPath: string): Promise<SourceResult> {
  try {
    const records = await readDpkgRecords(statusPath);
    return { source: 'dpkg', status: 'ok', items: installedDpkgItems(records.values()) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return { source: 'dpkg', status: 'absent' };
    return { source: 'dpkg', status: 'failed', reason: `cannot read ${statusPath}: ${err.code ?? err.message}` };
  }
}
