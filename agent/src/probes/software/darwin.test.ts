import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SoftwareItem } from '@vigil/shared';
import { appItem, readApplications } from './darwin-apps.js';
import { parseBrewList, readBrew } from './darwin-brew.js';
import { isXmlPlist, plistTopLevelStrings } from './darwin-plist.js';
import { readDarwinSoftware } from './darwin.js';
import { fakeRunner, readFixture, recordingLog, type Call } from './test-support/fakes.js';
import type { ProbeSources } from '../probe.js';

const temps: string[] = [];
afterEach(async () => {
  for (const d of temps.splice(0)) await rm(d, { recursive: true, force: true });
});

async function place(root: string, rel: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), content);
}

/** A Mac-like tree built from the real Info.plist fixtures. */
async function macRoot(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'vigil-mac-'));
  temps.push(root);
  await place(root, 'Applications/Flowdock.app/Contents/Info.plist', readFixture('darwin', 'Flowdock.Info.plist'));
  await place(root, 'Applications/DockIntellihide.app/Contents/Info.plist', readFixture('darwin', 'DockIntellihide.Info.plist'));
  await place(root, 'Applications/Burp Suite/Burp Suite Community Edition.app/Contents/Info.plist', readFixture('darwin', 'BurpSuite.Info.plist'));
  await place(root, 'Applications/Binary.app/Contents/Info.plist', Buffer.from('bplist00\u00d1\u0001\u0002', 'latin1'));
  await place(root, 'Users/alice/Applications/Airpods To Mac.app/Contents/Info.plist', readFixture('darwin', 'Airpods.Info.plist'));
  await mkdir(path.join(root, 'Users/Shared'), { recursive: true });
  return root;
}

describe('Info.plist (real files)', () => {
  it('reads the top-level strings of an Xcode-built plist', () => {
    const s = plistTopLevelStrings(readFixture('darwin', 'Flowdock.Info.plist'));
    expect(s?.get('CFBundleName')).toBe('Flowdock');
    expect(s?.get('CFBundleShortVersionString')).toBe('0.0.1');
    expect(s?.get('CFBundleIdentifier')).toBe('com.github.electron');
    expect(s?.has('NSHighResolutionCapable')).toBe(false); // <true/>, not a string
  });

  it('does not take keys from nested dictionaries', () => {
    const s = plistTopLevelStrings(readFixture('darwin', 'DockIntellihide.Info.plist'));
    expect(s?.get('CFBundleName')).toBe('Intelihide');
    expect(s?.has('name')).toBe(false); // WindowState > name
    expect(s?.has('x86_64')).toBe(false);
    expect(s?.get('CFBundleSignature')).toBe('aplt');
  });

  it('decodes entities, handles <string/> and arrays, rejects what is not a dictionary plist', () => {
    const xml = '<?xml version="1.0"?><plist><dict><key>A</key><string>R&amp;D &#x263A;</string><key>B</key><string/><key>C</key><array><string>x</string></array><key>D</key><string>d</string></dict></plist>';
    expect([...(plistTopLevelStrings(xml) ?? [])]).toEqual([['A', 'R&D ☺'], ['B', ''], ['D', 'd']]);
    expect(plistTopLevelStrings('<plist><array><string>x</string></array></plist>')).toBeUndefined();
    expect(isXmlPlist('bplist00')).toBe(false);
    expect(isXmlPlist(readFixture('darwin', 'Airpods.Info.plist'))).toBe(true);
  });

  it('names an app by CFBundleName, then CFBundleDisplayName, then its folder', () => {
    const air = plistTopLevelStrings(readFixture('darwin', 'Airpods.Info.plist'));
    expect(appItem('/Applications/X.app', air)).toEqual({ name: 'Airpods To Mac', version: '1.0', source: 'app' });
    expect(appItem('/Applications/X.app', new Map([['CFBundleDisplayName', 'Shown']]))?.name).toBe('Shown');
    const burp = plistTopLevelStrings(readFixture('darwin', 'BurpSuite.Info.plist'));
    expect(appItem('/Applications/Burp Suite Community Edition.app', burp)).toEqual({ name: 'Burp Suite Community Edition', version: '', source: 'app' });
  });
});

describe('reading Applications folders', () => {
  it('finds bundles in /Applications, one folder down, and in users\' ~/Applications; converts binary plists with plutil', async () => {
    const root = await macRoot();
    const calls: Call[] = [];
    const runner = fakeRunner({ plutil: { stdout: readFixture('darwin', 'Flowdock.Info.plist').replace(/Flowdock/g, 'Binary') } }, calls);
    const res = await readApplications(root, runner, recordingLog().log);
    const items = res.status === 'ok' ? res.items : [];
    expect(items.map((i) => `${i.name} ${i.version}`).sort()).toEqual(['Airpods To Mac 1.0', 'Binary 0.0.1', 'Burp Suite Community Edition ', 'Flowdock 0.0.1', 'Intelihide 1.0']);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args).toEqual(['-convert', 'xml1', '-o', '-', path.join(root, 'Applications/Binary.app/Contents/Info.plist')]);
    for (const i of items) SoftwareItem.parse(i);
  });

  it('is absent where there is no /Applications', async () => {
    expect(await readApplications('/nonexistent/vigil', fakeRunner({}), recordingLog().log)).toEqual({ source: 'app', status: 'absent' });
  });
});

describe('Homebrew', () => {
  it('parses brew list --versions (real output), joining several installed versions', () => {
    const items = parseBrewList(readFixture('darwin', 'brew-list-versions.txt'), 'formula');
    expect(items).toHaveLength(14);
    expect(items.find((i) => i.name === 'ca-certificates')).toEqual({ name: 'ca-certificates', version: '2023-12-12', source: 'brew' });
    expect(parseBrewList('python@3.11 3.11.2_1 3.11.3\n', 'formula')[0]?.version).toBe('3.11.2_1, 3.11.3');
    expect(parseBrewList('docker 4.25.0\n', 'cask')[0]?.name).toBe('cask:docker');
  });

  it('runs the prefix\'s brew for formulae and casks without auto-update', async () => {
    const root = await macRoot();
    await mkdir(path.join(root, 'opt/homebrew'), { recursive: true });
    const calls: Call[] = [];
    const runner = fakeRunner({ brew: (args) => ({ stdout: args.includes('--cask') ? 'firefox 120.0\n' : readFixture('darwin', 'brew-list-versions.txt') }) }, calls);
    const res = await readBrew(root, runner, recordingLog().log);
    expect(calls.map((c) => [c.file, ...c.args])).toEqual([
      [path.join(root, 'opt/homebrew/bin/brew'), 'list', '--formula', '--versions'],
      [path.join(root, 'opt/homebrew/bin/brew'), 'list', '--cask', '--versions'],
    ]);
    expect(calls[0]?.opts?.env).toMatchObject({ HOMEBREW_NO_AUTO_UPDATE: '1' });
    expect(res.status === 'ok' && res.items.length).toBe(15);
  });

  it('is absent without a Homebrew prefix', async () => {
    const root = await macRoot();
    expect(await readBrew(root, fakeRunner({}), recordingLog().log)).toEqual({ source: 'brew', status: 'absent' });
  });
});

describe('macOS inventory', () => {
  it('combines apps and brew; a failing brew leaves the apps', async () => {
    const root = await macRoot();
    await mkdir(path.join(root, 'opt/homebrew'), { recursive: true });
    const { log, warnings } = recordingLog();
    const src = { platform: 'darwin', fsRoot: root, runner: fakeRunner({ brew: { code: 1, error: 'failed' } }), log } as unknown as ProbeSources;
    const inv = await readDarwinSoftware(src);
    // plutil is not available here: the binary-plist app is still listed under its folder name.
    expect(Array.isArray(inv.outcome) && inv.outcome.map((i) => i.name).sort()).toEqual(['Airpods To Mac', 'Binary', 'Burp Suite Community Edition', 'Flowdock', 'Intelihide']);
    expect(inv.failedSources).toEqual(['brew']);
    expect(warnings).toHaveLength(1);
  });
});
