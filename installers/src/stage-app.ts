import fs from 'node:fs';
import path from 'node:path';
import { AGENT_DIR, REPO_ROOT } from './paths.js';

interface PackageJson {
  name: string;
  version: string;
  type?: string;
  dependencies?: Record<string, string>;
  files?: string[];
}

const readPackage = (dir: string): PackageJson => JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;

/** Build output the runtime never reads. */
const SKIP_FILE = /(\.d\.[cm]?ts|\.map|\.tsbuildinfo)$/;
/** A compiled addon is built for this machine's OS and Node ABI: never shipped. */
const NATIVE = /\.node$/;

/** Node's lookup of `name` from the package in `fromDir`: the nearest node_modules upwards. */
function resolvePackageDir(name: string, fromDir: string): string {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    if (dir === path.dirname(dir)) throw new Error(`cannot resolve ${name} from ${fromDir}`);
  }
}

/** What a dependency carries for its authors and readers, not for running it. */
const DEPENDENCY_EXTRAS_DIR = new Set(['test', 'tests', '__tests__', 'benchmarks', 'bench', 'docs', 'example', 'examples', '.github']);
const DEPENDENCY_EXTRAS_FILE = /\.(md|markdown|html)$/i;

const isScript = (file: string): boolean => {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    return fs.readSync(fd, head, 0, 2, 0) === 2 && head.toString() === '#!';
  } finally {
    fs.closeSync(fd);
  }
};

/**
 * Copies a package's files: no nested node_modules (the closure walk places those), no build
 * leftovers, no compiled addons; for dependencies (`trim`) no tests, docs or dot files. Files are
 * 0644, or 0755 for scripts with a #! line, whatever modes the tarball had.
 */
function copyTree(src: string, dest: string, trim: boolean, onNative: (file: string) => void, top = true): void {
  fs.mkdirSync(dest, { recursive: true });
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const from = path.join(src, entry.name);
    const to = path.join(dest, entry.name);
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) {
      if (top && entry.name === 'node_modules') continue;
      if (trim && DEPENDENCY_EXTRAS_DIR.has(entry.name)) continue;
      copyTree(from, to, trim, onNative, false);
    } else if (entry.isFile()) {
      if (SKIP_FILE.test(entry.name) || (trim && DEPENDENCY_EXTRAS_FILE.test(entry.name))) continue;
      if (NATIVE.test(entry.name)) {
        onNative(from);
        continue;
      }
      fs.copyFileSync(from, to);
      fs.chmodSync(to, isScript(from) ? 0o755 : 0o644);
    }
  }
}

export interface StagedApp {
  dir: string;
  version: string;
  /** Every package copied, as name@version. */
  packages: string[];
  /** Native addons found and left out. */
  skippedNative: string[];
}

/**
 * Stages the agent with its production dependencies, exactly the versions installed in this
 * workspace (so the artefact runs what the tests ran), laid out as an npm install would:
 * `<dir>/package.json`, `bin/`, `dist/`, `node_modules/…`. Optional dependencies (the native
 * `usb-detection` hotplug addon) are left out: an addon built here matches this machine's OS and
 * Node ABI only, and the agent falls back to polling sysfs without it.
 */
export function stageAgentApp(dir: string, opts: { version?: string; agentDir?: string; repoRoot?: string } = {}): StagedApp {
  const agentDir = opts.agentDir ?? AGENT_DIR;
  const repoRoot = opts.repoRoot ?? REPO_ROOT;
  const agent = readPackage(agentDir);
  const version = opts.version ?? agent.version;
  const skippedNative: string[] = [];
  const packages: string[] = [];
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });

  for (const f of agent.files ?? ['bin', 'dist']) copyTree(path.join(agentDir, f), path.join(dir, f), false, (n) => skippedNative.push(n));
  const app: PackageJson & { private: boolean; description?: string } = {
    name: agent.name,
    version,
    private: true,
    type: agent.type ?? 'module',
    ...(agent.dependencies ? { dependencies: agent.dependencies } : {}),
  };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(app, null, 2)}\n`);

  const rootModules = path.join(fs.realpathSync(repoRoot), 'node_modules');
  /** Where a package found at `real` goes in the stage. */
  const destOf = (real: string, name: string, parentDest: string): string => {
    if (real.startsWith(rootModules + path.sep)) return path.join(dir, 'node_modules', path.relative(rootModules, real));
    // A workspace package (symlinked) or one nested in a workspace: under its dependant.
    return path.join(parentDest, 'node_modules', name);
  };
  const seen = new Map<string, string>();
  const visit = (fromReal: string, fromDest: string, deps: Record<string, string>) => {
    for (const name of Object.keys(deps).sort()) {
      const real = resolvePackageDir(name, fromReal);
      if (seen.has(real)) continue;
      const dest = destOf(real, name, fromDest);
      seen.set(real, dest);
      const pkg = readPackage(real);
      packages.push(`${pkg.name}@${pkg.version}`);
      const isWorkspace = !real.includes(`${path.sep}node_modules${path.sep}`);
      if (isWorkspace) {
        fs.mkdirSync(dest, { recursive: true });
        fs.copyFileSync(path.join(real, 'package.json'), path.join(dest, 'package.json'));
        for (const f of pkg.files ?? ['dist']) copyTree(path.join(real, f), path.join(dest, f), false, (n) => skippedNative.push(n));
      } else {
        copyTree(real, dest, true, (n) => skippedNative.push(n));
      }
      visit(real, dest, pkg.dependencies ?? {});
    }
  };
  visit(fs.realpathSync(agentDir), dir, agent.dependencies ?? {});
  packages.sort();
  return { dir, version, packages, skippedNative };
}
