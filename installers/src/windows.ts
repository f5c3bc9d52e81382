import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { assembleAgentTree, listFiles } from './agent-tree.js';
import { TEMPLATE } from './paths.js';
import type { Runtime } from './runtime.js';
import type { StagedApp } from './stage-app.js';

/** WinSW 2 as the node-windows package ships it (bin/winsw/winsw.exe). */
export function winswExecutable(): string {
  const pkg = createRequire(import.meta.url).resolve('node-windows/package.json');
  return path.join(path.dirname(pkg), 'bin/winsw/winsw.exe');
}

/** A stable id from a path: the same file keeps its component GUID across versions (MSI upgrades). */
const hash = (kind: string, rel: string) => crypto.createHash('sha256').update(`vigil-agent:${kind}:${rel}`).digest('hex');
export const componentGuid = (rel: string) => {
  const h = hash('component', rel);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
};
const fileId = (rel: string) => `f${hash('file', rel).slice(0, 30)}`;
const dirId = (rel: string) => `d${hash('dir', rel).slice(0, 30)}`;
const xmlAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The runtime, which the MSI's custom actions run. */
export const MSI_NODE = 'node/bin/node.exe';

/**
 * The .wxs for `files` (relative paths with '/', as wixl reads them from its working directory),
 * one component per file under INSTALLDIR.
 */
export function wixSource(version: string, files: readonly string[]): string {
  if (!files.includes(MSI_NODE)) throw new Error(`the MSI needs ${MSI_NODE}`);
  interface Dir {
    dirs: Map<string, Dir>;
    files: string[];
  }
  const root: Dir = { dirs: new Map(), files: [] };
  for (const rel of files) {
    const parts = rel.split('/');
    let d = root;
    for (const p of parts.slice(0, -1)) {
      let next = d.dirs.get(p);
      if (!next) d.dirs.set(p, (next = { dirs: new Map(), files: [] }));
      d = next;
    }
    d.files.push(rel);
  }
  const refs: string[] = [];
  const render = (d: Dir, rel: string, indent: string): string[] => {
    const out: string[] = [];
    for (const f of d.files) {
      const id = fileId(f);
      refs.push(`      <ComponentRef Id="c${id.slice(1)}" />`);
      out.push(
        `${indent}<Component Id="c${id.slice(1)}" Guid="${componentGuid(f)}" Win64="yes">`,
        `${indent}  <File Id="${id}" Name="${xmlAttr(path.posix.basename(f))}" Source="${xmlAttr(f)}" KeyPath="yes" />`,
        `${indent}</Component>`,
      );
    }
    for (const [name, sub] of [...d.dirs].sort(([a], [b]) => a.localeCompare(b))) {
      const subRel = rel ? `${rel}/${name}` : name;
      out.push(`${indent}<Directory Id="${dirId(subRel)}" Name="${xmlAttr(name)}">`, ...render(sub, subRel, `${indent}  `), `${indent}</Directory>`);
    }
    return out;
  };
  const dirs = render(root, '', '            ');
  // MSI ProductVersion: three numeric fields (a pre-release suffix is dropped).
  const msiVersion = (/^\d+\.\d+\.\d+/.exec(version) ?? ['0.0.0'])[0];
  return fs
    .readFileSync(path.join(TEMPLATE.windows, 'vigil-agent.wxs'), 'utf8')
    .replaceAll('@VERSION@', msiVersion)
    .replaceAll('@NODE_FILE_ID@', fileId(MSI_NODE))
    .replace('@DIRECTORIES@', dirs.join('\n'))
    .replace('@COMPONENT_REFS@', refs.join('\n'));
}

/** Puts the Windows files around an assembled agent tree: WinSW, its XML, the scripts. */
export function addWindowsServiceFiles(dir: string, winsw = winswExecutable()): void {
  fs.mkdirSync(path.join(dir, 'service'), { recursive: true });
  fs.copyFileSync(winsw, path.join(dir, 'service/vigil-agent-service.exe'));
  const config = `${winsw}.config`;
  if (fs.existsSync(config)) fs.copyFileSync(config, path.join(dir, 'service/vigil-agent-service.exe.config'));
  fs.copyFileSync(path.join(TEMPLATE.windows, 'vigil-agent-service.xml'), path.join(dir, 'service/vigil-agent-service.xml'));
  fs.copyFileSync(path.join(TEMPLATE.windows, 'msi-action.js'), path.join(dir, 'service/msi-action.js'));
  for (const s of ['install.ps1', 'uninstall.ps1']) fs.copyFileSync(path.join(TEMPLATE.windows, s), path.join(dir, s));
}

export function hasWixl(): boolean {
  try {
    execFileSync('wixl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds an MSI from an assembled Windows tree with wixl. */
export function buildMsi(treeDir: string, version: string, workDir: string, file: string): string {
  const wxs = path.join(workDir, 'vigil-agent.wxs');
  fs.mkdirSync(workDir, { recursive: true });
  fs.writeFileSync(wxs, wixSource(version, listFiles(treeDir).map((f) => f.split(path.sep).join('/'))));
  // wixl resolves relative sources against its working directory (absolute ones trip it up).
  execFileSync('wixl', ['-a', 'x64', '-o', path.resolve(file), wxs], { cwd: treeDir, stdio: ['ignore', 'ignore', 'inherit'] });
  return file;
}

export interface WindowsResult {
  dir: string;
  msi?: string;
}

/** `vigil-agent-<version>-win-x64/` (install.ps1 runs from it) and, with wixl, `vigil-agent-<version>-x64.msi`. */
export function buildWindows(app: StagedApp, runtime: Runtime, workDir: string, outDir: string, opts: { msi: boolean }): WindowsResult {
  const dir = path.join(outDir, `vigil-agent-${app.version}-win-x64`);
  fs.rmSync(dir, { recursive: true, force: true });
  assembleAgentTree(dir, app, runtime, { launcher: path.join(TEMPLATE.launcher, 'vigil-agent-service.js') });
  addWindowsServiceFiles(dir);
  if (!opts.msi || !hasWixl()) return { dir };
  return { dir, msi: buildMsi(dir, app.version, path.join(workDir, 'msi'), path.join(outDir, `vigil-agent-${app.version}-x64.msi`)) };
}
