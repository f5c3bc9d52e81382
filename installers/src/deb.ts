import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { assembleAgentTree, installedSizeKiB } from './agent-tree.js';
import { TEMPLATE } from './paths.js';
import type { Runtime } from './runtime.js';
import type { StagedApp } from './stage-app.js';

export const DEB_PACKAGE = 'vigil-agent';
export const PREFIX = '/opt/vigil-agent';

/** Debian's name for a Node target's architecture. */
const DEB_ARCH: Record<string, string> = { 'linux-x64': 'amd64' };

export function debControl(version: string, arch: string, installedKiB: number): string {
  return [
    `Package: ${DEB_PACKAGE}`,
    `Version: ${version}`,
    `Architecture: ${arch}`,
    'Maintainer: Vigil maintainers <vigil@example.org>',
    `Installed-Size: ${installedKiB}`,
    // The bundled node links against glibc and libstdc++ only.
    'Depends: libc6 (>= 2.28), libstdc++6 (>= 10), init-system-helpers (>= 1.54)',
    'Section: admin',
    'Priority: optional',
    'Homepage: https://github.com/vigil/vigil',
    'Description: Vigil endpoint policy agent',
    ' Reports this machine\'s USB devices, installed software, screen-lock',
    ' settings and session lock/idle state to a Vigil collector, which judges',
    ' them against the acceptable-use policy. Bundles its own Node.js runtime',
    ' in /opt/vigil-agent. Settings at install time: VIGIL_COLLECTOR_URL,',
    ' VIGIL_ENROL_SECRET and VIGIL_CA_CERT.',
    '',
  ].join('\n');
}

const COPYRIGHT = (nodeVersion: string) => `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: vigil
Source: https://github.com/vigil/vigil

Files: *
Copyright: 2026 Vigil contributors
License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.

Files: opt/vigil-agent/node/*
Copyright: Node.js contributors and others, see /opt/vigil-agent/node/LICENSE
License: MIT-and-others
 Node.js ${nodeVersion}; the full licence text, with those of its bundled components, is in
 /opt/vigil-agent/node/LICENSE.

Files: opt/vigil-agent/app/node_modules/*
Copyright: the authors of each package, see its licence file
License: various (MIT, ISC, Apache-2.0)
 Each package's licence is in its directory under /opt/vigil-agent/app/node_modules.
`;

const CHANGELOG = (version: string) => `vigil-agent (${version}) stable; urgency=medium

  * Release ${version}.

 -- Vigil maintainers <vigil@example.org>  Mon, 07 Dec 2026 00:00:00 +0000
`;

/** Lintian tags that are true of an agent bundling its own runtime and built outside Debian. */
const LINTIAN_OVERRIDES = `# A self-contained agent: its own Node runtime and modules under /opt, built outside the Debian archive.
vigil-agent: dir-or-file-in-opt *
# Node's official build, as nodejs.org ships it.
vigil-agent: unstripped-binary-or-object [opt/vigil-agent/node/bin/node]
vigil-agent: embedded-library zlib [opt/vigil-agent/node/bin/node]
vigil-agent: hardening-no-pie [opt/vigil-agent/node/bin/node]
# Scripts with a "node" shebang are run by the bundled runtime, not Debian's nodejs.
vigil-agent: missing-dep-for-interpreter node (does not satisfy nodejs:any) *
`;

export interface DebResult {
  file: string;
  root: string;
}

/** Builds `vigil-agent_<version>_<arch>.deb` with dpkg-deb (root-owned files, xz). */
/** `small`: xz (release artefacts); `fast`: gzip -1 (tests and development builds, seconds instead of minutes). */
export type Compression = 'small' | 'fast';

export function buildDeb(app: StagedApp, runtime: Runtime, workDir: string, outDir: string, compression: Compression = 'small'): DebResult {
  const arch = DEB_ARCH[runtime.target];
  if (!arch) throw new Error(`no .deb for ${runtime.target}`);
  const root = path.join(workDir, 'deb-root');
  fs.rmSync(root, { recursive: true, force: true });
  const opt = path.join(root, PREFIX);
  assembleAgentTree(opt, app, runtime, { wrapperPrefix: PREFIX });
  fs.copyFileSync(path.join(TEMPLATE.linux, 'vigil-agent-configure'), path.join(opt, 'bin/vigil-agent-configure'));
  fs.chmodSync(path.join(opt, 'bin/vigil-agent-configure'), 0o755);
  fs.mkdirSync(path.join(opt, 'lib'), { recursive: true });
  fs.copyFileSync(path.join(TEMPLATE.linux, 'vigil-agent-retire.cjs'), path.join(opt, 'lib/vigil-agent-retire.cjs'));
  fs.chmodSync(path.join(opt, 'lib/vigil-agent-retire.cjs'), 0o644);

  const unitDir = path.join(root, 'lib/systemd/system');
  fs.mkdirSync(unitDir, { recursive: true });
  fs.copyFileSync(path.join(TEMPLATE.linux, 'vigil-agent.service'), path.join(unitDir, 'vigil-agent.service'));
  fs.chmodSync(path.join(unitDir, 'vigil-agent.service'), 0o644);

  const doc = path.join(root, 'usr/share/doc', DEB_PACKAGE);
  fs.mkdirSync(doc, { recursive: true });
  fs.writeFileSync(path.join(doc, 'copyright'), COPYRIGHT(runtime.version), { mode: 0o644 });
  fs.writeFileSync(path.join(doc, 'changelog.gz'), zlib.gzipSync(CHANGELOG(app.version), { level: 9 }), { mode: 0o644 });
  const overrides = path.join(root, 'usr/share/lintian/overrides');
  fs.mkdirSync(overrides, { recursive: true });
  fs.writeFileSync(path.join(overrides, DEB_PACKAGE), LINTIAN_OVERRIDES, { mode: 0o644 });

  const control = path.join(root, 'DEBIAN');
  fs.mkdirSync(control);
  const size = installedSizeKiB(root) - installedSizeKiB(control);
  fs.writeFileSync(path.join(control, 'control'), debControl(app.version, arch, size), { mode: 0o644 });
  for (const script of ['postinst', 'prerm', 'postrm']) {
    fs.copyFileSync(path.join(TEMPLATE.linux, 'debian', script), path.join(control, script));
    fs.chmodSync(path.join(control, script), 0o755);
  }
  // Directories 0755 whatever the umask.
  const fixDirs = (d: string) => {
    fs.chmodSync(d, 0o755);
    for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) fixDirs(path.join(d, e.name));
  };
  fixDirs(root);

  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${DEB_PACKAGE}_${app.version}_${arch}.deb`);
  const z = compression === 'fast' ? ['-Zgzip', '-z1'] : ['-Zxz', '-z6'];
  execFileSync('dpkg-deb', ['--root-owner-group', ...z, '--build', root, file], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { file, root };
}
