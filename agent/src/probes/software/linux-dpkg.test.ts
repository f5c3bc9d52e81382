import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SoftwareItem } from '@vigil/shared';
import { dpkgVersion, installedDpkgItems, parseDpkgText, readDpkg } from './linux-dpkg.js';

const run = promisify(execFile);
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/linux/software/', import.meta.url));
const REAL_STATUS = '/var/lib/dpkg/status';
const hasDpkg = existsSync(REAL_STATUS) && existsSync('/usr/bin/dpkg-query');

/** What the real dpkg-query lists as installed, as `name version arch` lines. */
async function dpkgQueryInstalled(admindir?: string): Promise<Set<string>> {
  const args = [...(admindir ? [`--admindir=${admindir}`] : []), '-W', '-f=${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\n'];
  const { stdout } = await run('dpkg-query', args, { maxBuffer: 64 * 1024 * 1024 });
  const out = new Set<string>();
  for (const line of stdout.split('\n')) {
    const [status, name, version, arch] = line.split('\t');
    if (status === 'installed') out.add(`${name} ${version} ${arch}`);
  }
  return out;
}

const asLines = (items: SoftwareItem[]) => new Set(items.map((i) => `${i.name} ${i.version} ${i.arch ?? ''}`));

const temps: string[] = [];
afterEach(async () => {
  for (const d of temps.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A dpkg admin dir holding the fixture status file and, optionally, its update journal. */
async function fixtureAdmindir(withUpdates: boolean): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-dpkg-'));
  temps.push(dir);
  await cp(path.join(FIXTURES, 'dpkg-status'), path.join(dir, 'status'));
  if (withUpdates) await cp(path.join(FIXTURES, 'dpkg-updates'), path.join(dir, 'updates'), { recursive: true });
  return dir;
}

describe.runIf(hasDpkg)('dpkg on this machine', () => {
  it('returns exactly the packages dpkg-query lists as installed, with its versions and architectures', async () => {
    const expected = await dpkgQueryInstalled();
    const res = await readDpkg(REAL_STATUS);
    expect(res.status).toBe('ok');
    const items = res.status === 'ok' ? res.items : [];
    expect(items.length).toBeGreaterThan(0);
    expect(asLines(items)).toEqual(expected);
    // name + arch is dpkg's identity: no duplicates.
    expect(new Set(items.map((i) => `${i.name}:${i.arch ?? ''}`)).size).toBe(items.length);
    for (const i of items) SoftwareItem.parse(i);
  });
});

describe.runIf(hasDpkg)('dpkg fixture (real status stanzas, real dpkg-written states)', () => {
  it('matches dpkg-query run on the same fixture: hold counts, config-files/half-configured/triggers-pending do not', async () => {
    const dir = await fixtureAdmindir(false);
    const res = await readDpkg(path.join(dir, 'status'));
    const items = res.status === 'ok' ? res.items : [];
    expect(asLines(items)).toEqual(await dpkgQueryInstalled(dir));
    const names = items.map((i) => i.name);
    expect(names).toContain('media-types'); // Status: hold ok installed
    expect(names).toContain('fakeroot');
    expect(names).not.toContain('wget'); // deinstall ok config-files
    expect(names).not.toContain('ed'); // deinstall ok half-configured
    expect(names).not.toContain('man-db'); // install ok triggers-pending
  });

  it('applies the update journal like dpkg-query does (fakeroot is half-configured there)', async () => {
    const dir = await fixtureAdmindir(true);
    const res = await readDpkg(path.join(dir, 'status'));
    const items = res.status === 'ok' ? res.items : [];
    expect(items.map((i) => i.name)).not.toContain('fakeroot');
    expect(asLines(items)).toEqual(await dpkgQueryInstalled(dir));
  });
});

describe('dpkg parsing', () => {
  it('keeps versions (with epochs), maintainer as publisher and architecture from the fixture', async () => {
    const dir = await fixtureAdmindir(false);
    const res = await readDpkg(path.join(dir, 'status'));
    const items = res.status === 'ok' ? res.items : [];
    expect(items.find((i) => i.name === 'bsdutils')).toEqual({
      name: 'bsdutils',
      version: '1:2.38.1-5+deb12u3',
      source: 'dpkg',
      publisher: 'util-linux packagers <util-linux@packages.debian.org>',
      arch: 'amd64',
    });
    expect(items.find((i) => i.name === 'adduser')?.arch).toBe('all');
    expect(items).toHaveLength(14);
  });

  it('reads fields case-insensitively, ignores continuation lines and tolerates CRLF', () => {
    const text = 'package: Foo\r\nSTATUS: install ok installed\r\nDescription: x\r\n Version: 9\r\nversion: 0:1.0-1\r\nArchitecture: amd64\r\n\r\n';
    expect(installedDpkgItems(parseDpkgText(text).values())).toEqual([{ name: 'foo', version: '1.0-1', source: 'dpkg', arch: 'amd64' }]);
  });

  it('treats the same package for two architectures as two packages, and a later stanza for one as a replacement', () => {
    const a = 'Package: libx\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n';
    const b = 'Package: libx\nStatus: install ok installed\nArchitecture: i386\nVersion: 1\n\n';
    const c = 'Package: libx\nStatus: deinstall ok config-files\nArchitecture: i386\nVersion: 1\n';
    expect(installedDpkgItems(parseDpkgText(a + b).values()).map((i) => i.arch)).toEqual(['amd64', 'i386']);
    expect(installedDpkgItems(parseDpkgText(a + b + c).values()).map((i) => i.arch)).toEqual(['amd64']);
  });

  it('prints versions the way dpkg does', () => {
    expect(dpkgVersion('1:2.38.1-5')).toBe('1:2.38.1-5');
    expect(dpkgVersion(' 0:1.2-3 ')).toBe('1.2-3');
    expect(dpkgVersion('00:1.2')).toBe('1.2');
    expect(dpkgVersion('0:1:2-3')).toBe('0:1:2-3'); // ambiguous without the epoch
    expect(dpkgVersion('2025b-0+deb12u2')).toBe('2025b-0+deb12u2');
  });

  it('strips control characters from untrusted fields', () => {
    const text = 'Package: evil\nStatus: install ok installed\nVersion: 1\u001b[31m\nMaintainer: A \u202eB\n';
    expect(installedDpkgItems(parseDpkgText(text).values())).toEqual([{ name: 'evil', version: '1[31m', source: 'dpkg', publisher: 'A B' }]);
  });

  it('reports a missing status file as absent, not as a failure', async () => {
    expect(await readDpkg('/nonexistent/vigil/status')).toEqual({ source: 'dpkg', status: 'absent' });
  });

  it('reports an unreadable status file as failed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-dpkg-'));
    temps.push(dir);
    await writeFile(path.join(dir, 'x'), '');
    const res = await readDpkg(dir); // a directory: EISDIR
    expect(res.status).toBe('failed');
  });
});
