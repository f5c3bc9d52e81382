import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandRunner } from '../probes/command-runner.js';
import type { ProbeSources } from '../probes/probe.js';
import { readSoftware } from '../probes/software/index.js';
import { SoftwareReporter, type SoftwareDiff } from './software-reporter.js';

const fixture = fileURLToPath(new URL('../../../test/fixtures/linux/software/dpkg-status', import.meta.url));
/** Only dpkg here: every other package tool is "not installed". */
const noTools: CommandRunner = { run: async () => ({ stdout: '', stderr: '', code: null, error: 'not-found' }) };
const quiet = { debug() {}, info() {}, warn() {} };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function sources(): ProbeSources {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-software-'));
  dirs.push(dir);
  fs.copyFileSync(fixture, path.join(dir, 'status'));
  return { platform: 'linux', sysfsRoot: '/sys', dpkgStatus: path.join(dir, 'status'), fsRoot: dir, runner: noTools, log: quiet };
}

describe('SoftwareReporter', () => {
  it('sends nothing while the database is unchanged, and a diff when a package is upgraded or removed', async () => {
    const src = sources();
    const diffs: SoftwareDiff[] = [];
    const initial = await readSoftware(src);
    expect(Array.isArray(initial) && initial.length).toBeGreaterThan(5);
    const r = new SoftwareReporter(src, { checkIntervalMs: 3_600_000, fullIntervalMs: 3_600_000, onDiff: (d) => diffs.push(d) });
    await r.start(initial);
    await r.check();
    expect(diffs).toEqual([]);

    const text = fs.readFileSync(src.dpkgStatus, 'utf8');
    const upgraded = text.replace('Package: bash\n', 'Package: bash\n').replace('Version: 5.2.15-2+b8', 'Version: 5.2.15-3');
    const removed = upgraded.replace(/Package: adduser\n[\s\S]*?\n\n/, '');
    fs.writeFileSync(src.dpkgStatus, removed);
    fs.utimesSync(src.dpkgStatus, new Date(), new Date(Date.now() + 5000));
    await r.check();
    r.stop();
    expect(diffs).toHaveLength(1);
    const [d] = diffs;
    expect(d?.installed).toEqual([]);
    expect(d?.removed.map((i) => i.name)).toEqual(['adduser']);
    expect(d?.upgraded.map((u) => [u.from.name, u.from.version, u.to.version])).toEqual([['bash', '5.2.15-2+b8', '5.2.15-3']]);
  });

  it('re-reads on the slow interval even without a change, and reports nothing if nothing changed', async () => {
    const src = sources();
    const diffs: SoftwareDiff[] = [];
    const r = new SoftwareReporter(src, { checkIntervalMs: 3_600_000, fullIntervalMs: 0, onDiff: (d) => diffs.push(d) });
    await r.start(await readSoftware(src));
    await r.check();
    r.stop();
    expect(diffs).toEqual([]);
  });
});
