import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SoftwareItem } from '@vigil/shared';
import { FLATPAK_COLUMNS, parseFlatpakList, readFlatpak } from './linux-flatpak.js';
import { fakeRunner, readFixture, recordingLog, type Call } from './test-support/fakes.js';

const temps: string[] = [];
afterEach(async () => {
  for (const d of temps.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('flatpak list (real piped capture)', () => {
  const items = parseFlatpakList(readFixture('linux', 'flatpak-list.tsv'));

  it('reads every row, keeping the application ID as name', () => {
    expect(items).toHaveLength(67);
    for (const i of items) SoftwareItem.parse(i);
    expect(items[0]).toEqual({ name: 'cn.wps.wps_365', version: '12.1.2.24722', source: 'flatpak' });
    // A localised title does not matter: the ID identifies the app.
    expect(items.find((i) => i.name === 'io.missioncenter.MissionCenter')?.version).toBe('1.1.0');
  });

  it('keeps rows whose version is empty', () => {
    expect(items.find((i) => i.name === 'com.sigmafilemanager.app')).toEqual({ name: 'com.sigmafilemanager.app', version: '', source: 'flatpak' });
  });

  it('takes the architecture from the seventh column the agent asks for', () => {
    const row = 'Firefox\torg.mozilla.firefox\t146.0.1\tstable\tflathub\tsystem\tx86_64';
    expect(parseFlatpakList(row)).toEqual([{ name: 'org.mozilla.firefox', version: '146.0.1', source: 'flatpak', arch: 'x86_64' }]);
  });
});

describe('reading flatpak', () => {
  it('lists apps with explicit columns, then each other user with a per-user installation as that user', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'vigil-flatpak-'));
    temps.push(root);
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/bash\n');
    await mkdir(path.join(root, 'home/alice/.local/share/flatpak'), { recursive: true });
    const calls: Call[] = [];
    const rows = readFixture('linux', 'flatpak-list.tsv').split('\n');
    const runner = fakeRunner({ flatpak: (args) => ({ stdout: args.includes('--user') ? `${rows[1]}\n` : `${rows[0]}\n` }) }, calls);
    const res = await readFlatpak(runner, root, recordingLog().log);
    expect(calls[0]?.args).toEqual(['list', '--app', `--columns=${FLATPAK_COLUMNS}`]);
    if (process.getuid?.() === 0) {
      expect(calls[1]?.args).toEqual(['list', '--user', '--app', `--columns=${FLATPAK_COLUMNS}`]);
      expect(calls[1]?.opts).toMatchObject({ uid: 1000, gid: 1000, env: { HOME: '/home/alice' } });
      expect(calls).toHaveLength(2); // bob has no installation
      expect(res.status === 'ok' && res.items.map((i) => i.name)).toEqual(['cn.wps.wps_365', 'com.adilhanney.saber']);
    } else {
      expect(calls).toHaveLength(1);
    }
  });

  it.runIf(process.getuid?.() === 0)('keeps the system listing when a user\'s listing fails, with a warning', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'vigil-flatpak-'));
    temps.push(root);
    await mkdir(path.join(root, 'etc'), { recursive: true });
    await writeFile(path.join(root, 'etc/passwd'), 'alice:x:1000:1000:Alice:/home/alice:/bin/bash\n');
    await mkdir(path.join(root, 'home/alice/.local/share/flatpak'), { recursive: true });
    const row = readFixture('linux', 'flatpak-list.tsv').split('\n')[0];
    const runner = fakeRunner({ flatpak: (args) => (args.includes('--user') ? { code: 1, error: 'failed' } : { stdout: `${row}\n` }) });
    const { log, warnings } = recordingLog();
    const res = await readFlatpak(runner, root, log);
    expect(res).toEqual({ source: 'flatpak', status: 'ok', items: [expect.objectContaining({ name: 'cn.wps.wps_365' })] });
    expect(warnings).toHaveLength(1);
  });

  it('is absent without flatpak, and failed when the system listing fails', async () => {
    expect(await readFlatpak(fakeRunner({}), '/nonexistent', recordingLog().log)).toEqual({ source: 'flatpak', status: 'absent' });
    const res = await readFlatpak(fakeRunner({ flatpak: { code: 1, error: 'failed', stderr: 'error: boom' } }), '/nonexistent', recordingLog().log);
    expect(res).toMatchObject({ source: 'flatpak', status: 'failed' });
  });
});
