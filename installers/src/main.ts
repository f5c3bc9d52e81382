import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildDeb } from './deb.js';
import { buildMacos } from './macos.js';
import { DEFAULT_OUT_DIR } from './paths.js';
import { buildRpm, canBuildRpm } from './rpm.js';
import { ensureRuntime, readRuntimePins, TARGETS, type Target } from './runtime.js';
import { stageAgentApp } from './stage-app.js';
import { buildWindows } from './windows.js';

/** `npm run package`: the only place that reads argv; builds every artefact into --out. */

const USAGE = `vigil-package — builds the Vigil agent's installers with a bundled Node runtime

Usage: npm run package [-- options]

Options:
  --target <t>     linux-x64, win-x64 or darwin-x64; repeatable (default: all three)
  --format <f>     only these formats: deb, rpm, windows, msi, macos; repeatable (default: all that can be built here)
  --version <v>    package version (default: the agent's package.json version)
  --out <dir>      output directory (default: installers/out)
  --fast           compress .deb/.rpm with gzip -1 instead of xz (seconds instead of minutes; larger)
  --help`;

function main(): void {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', multiple: true },
      format: { type: 'string', multiple: true },
      version: { type: 'string' },
      out: { type: 'string' },
      fast: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const errors: string[] = [];
  const targets = (values.target ?? [...TARGETS]).flatMap((t) => t.split(','));
  for (const t of targets) if (!TARGETS.includes(t as Target)) errors.push(`--target: unknown target ${t}`);
  const formats = new Set((values.format ?? ['deb', 'rpm', 'windows', 'msi', 'macos']).flatMap((f) => f.split(',')));
  for (const f of formats) if (!['deb', 'rpm', 'windows', 'msi', 'macos'].includes(f)) errors.push(`--format: unknown format ${f}`);
  if (values.version !== undefined && !/^\d+\.\d+\.\d+([~+.-][0-9A-Za-z.~+-]+)?$/.test(values.version)) errors.push('--version: must look like 1.2.3');
  if (errors.length) {
    process.stderr.write(`vigil-package: ${errors.join('\n')}\n`);
    process.exit(2);
  }
  const out = path.resolve(values.out ?? DEFAULT_OUT_DIR);
  const work = path.join(out, '.work');
  const log = (m: string) => process.stderr.write(`vigil-package: ${m}\n`);
  const pins = readRuntimePins();
  const compression = values.fast ? 'fast' : 'small';

  const app = stageAgentApp(path.join(work, 'app'), values.version ? { version: values.version } : {});
  log(`staged agent ${app.version} with ${app.packages.length} packages${app.skippedNative.length ? ` (left out native addons: ${app.skippedNative.map((f) => path.basename(f)).join(', ')})` : ''}`);
  const built: string[] = [];
  for (const target of targets as Target[]) {
    const wants = target === 'linux-x64' ? ['deb', 'rpm'] : target === 'win-x64' ? ['windows', 'msi'] : ['macos'];
    if (!wants.some((f) => formats.has(f))) continue;
    const runtime = ensureRuntime(target, pins.targets[target], undefined, log);
    if (target === 'linux-x64') {
      if (formats.has('deb')) built.push(buildDeb(app, runtime, work, out, compression).file);
      if (formats.has('rpm')) {
        if (canBuildRpm()) built.push(buildRpm(app, runtime, work, out, compression));
        else log('rpmbuild not found: no .rpm (apt-get install rpm)');
      }
    } else if (target === 'win-x64') {
      const r = buildWindows(app, runtime, work, out, { msi: formats.has('msi') });
      built.push(r.dir, ...(r.msi ? [r.msi] : []));
      if (formats.has('msi') && !r.msi) log('wixl not found: no .msi (apt-get install wixl)');
    } else {
      built.push(...buildMacos(app, runtime, work, out));
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
  for (const f of built) {
    const size = fs.statSync(f).isDirectory() ? '(directory)' : `${(fs.statSync(f).size / 1024 / 1024).toFixed(1)} MiB`;
    process.stdout.write(`${path.relative(process.cwd(), f)}  ${size}\n`);
  }
}

main();
