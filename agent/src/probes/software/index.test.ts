import { cp, mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeResult, SoftwareItem } from '@vigil/shared';
import type { ProbeSources } from '../probe.js';
import { readSoftware, readSoftwareDetailed, softwareChangeStamp } from './index.js';
import { fakeRunner, fixtureDir, readFixture, recordingLog } from './test-support/fakes.js';

const temps: string[] = [];
afterEach(async () => {
  for (const d of temps.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'vigil-sw-'));
  temps.push(d);
  return d;
}

function sources(over: Partial<ProbeSources>): ProbeSources {
  return { platform: 'linux', sysfsRoot: '/sys', dpkgStatus: '/nonexistent', fsRoot: '/nonexistent', runner: fakeRunner({}), log: recordingLog().log, ...over };
}

describe('readSoftware on Linux', () => {
  it('merges dpkg, rpm, snap and flatpak into one sorted list that fits the wire schema', async () => {
    const dir = await tempDir();
    await cp(path.join(fixtureDir('linux'), 'dpkg-status'), path.join(dir, 'status'));
    const runner = fakeRunner({
      snap: { stdout: readFixture('linux', 'snap-list-ascii.txt') },
      flatpak: { stdout: readFixture('linux', 'flatpak-list.tsv') },
    });
    const out = await readSoftware(sources({ dpkgStatus: path.join(dir, 'status'), runner }));
    expect(Array.isArray(out)).toBe(true);
    const items = out as SoftwareItem[];
    expect(new Set(items.map((i) => i.source))).toEqual(new Set(['dpkg', 'snap', 'flatpak']));
    const keys = items.map((i) => `${i.source} ${i.name} ${i.arch ?? ''}`);
    expect(keys).toEqual([...keys].sort());
    expect(new Set(keys).size).toBe(keys.length);
    probeResult(SoftwareItem).parse(items);
    // Flatpak refs of one app on several branches/installations are one item with every version.
    expect(items.find((i) => i.name === 'org.freedesktop.Platform.GL.default')?.version).toBe('25.0.7, 25.3.5, 26.0.6, 26.0.8');
  });

  it('is unknown, with the reasons, when no source could be read', async () => {
    const runner = fakeRunner({ rpm: { code: 1, error: 'failed', stderr: 'rpmdb open failed' } });
    const res = await readSoftwareDetailed(sources({ runner }));
    expect(res.outcome).toEqual({ status: 'unknown', reason: expect.stringContaining('rpmdb open failed') });
    expect(res.failedSources).toEqual(['rpm']);
  });

  it('is unknown when there is no package database at all, not an empty list', async () => {
    expect(await readSoftware(sources({}))).toEqual({ status: 'unknown', reason: 'no supported package database found on linux' });
  });

  it('is unknown on a platform it does not read', async () => {
    expect(await readSoftware(sources({ platform: 'aix' }))).toMatchObject({ status: 'unknown' });
  });
});

describe('softwareChangeStamp', () => {
  it('changes when the dpkg status file is touched, and only then', async () => {
    const dir = await tempDir();
    const status = path.join(dir, 'status');
    await writeFile(status, readFixture('linux', 'dpkg-status'));
    const src = sources({ dpkgStatus: status, fsRoot: dir });
    const first = await softwareChangeStamp(src);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await softwareChangeStamp(src)).toBe(first);
    const later = new Date(Date.now() + 5_000);
    await utimes(status, later, later);
    expect(await softwareChangeStamp(src)).not.toBe(first);
  });

  it('changes when an update journal entry appears, or a flatpak installation is modified', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'status'), '');
    const src = sources({ dpkgStatus: path.join(dir, 'status'), fsRoot: dir });
    const a = await softwareChangeStamp(src);
    await mkdir(path.join(dir, 'updates'));
    const b = await softwareChangeStamp(src);
    await mkdir(path.join(dir, 'home/alice/.local/share/flatpak'), { recursive: true });
    await writeFile(path.join(dir, 'home/alice/.local/share/flatpak/.changed'), '');
    const c = await softwareChangeStamp(src);
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('changes on macOS when an app bundle\'s Info.plist changes', async () => {
    const dir = await tempDir();
    const plist = path.join(dir, 'Applications/Flowdock.app/Contents/Info.plist');
    await mkdir(path.dirname(plist), { recursive: true });
    await writeFile(plist, readFixture('darwin', 'Flowdock.Info.plist'));
    const src = sources({ platform: 'darwin', fsRoot: dir });
    const first = await softwareChangeStamp(src);
    await writeFile(plist, readFixture('darwin', 'Flowdock.Info.plist').replace('0.0.1', '0.0.2'));
    expect(await softwareChangeStamp(src)).not.toBe(first);
  });

  it('is empty on Windows, where the agent relies on its slow interval', async () => {
    expect(await softwareChangeStamp(sources({ platform: 'win32' }))).toBe('');
  });
});
