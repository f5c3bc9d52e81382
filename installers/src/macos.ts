import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { assembleAgentTree } from './agent-tree.js';
import { PREFIX } from './deb.js';
import { TEMPLATE } from './paths.js';
import type { Runtime } from './runtime.js';
import type { StagedApp } from './stage-app.js';

export const LAUNCHD_LABEL = 'org.vigil.agent';

/**
 * Lays out what the macOS pkg installs and how to build it on a Mac:
 *   payload/opt/vigil-agent/…                          the agent, its runtime, vigil-agent-configure
 *   payload/Library/LaunchDaemons/org.vigil.agent.plist
 *   scripts/preinstall, scripts/postinstall            pkg scripts
 *   build-pkg.sh, install.sh, uninstall.sh, VERSION
 */
export function layoutMacos(dir: string, app: StagedApp, runtime: Runtime): void {
  fs.rmSync(dir, { recursive: true, force: true });
  const opt = path.join(dir, 'payload', PREFIX);
  assembleAgentTree(opt, app, runtime, { wrapperPrefix: PREFIX, launcher: path.join(TEMPLATE.launcher, 'vigil-agent-service.js') });
  fs.copyFileSync(path.join(TEMPLATE.linux, 'vigil-agent-configure'), path.join(opt, 'bin/vigil-agent-configure'));
  fs.chmodSync(path.join(opt, 'bin/vigil-agent-configure'), 0o755);
  fs.mkdirSync(path.join(opt, 'lib'), { recursive: true });
  fs.copyFileSync(path.join(TEMPLATE.linux, 'vigil-agent-retire.cjs'), path.join(opt, 'lib/vigil-agent-retire.cjs'));
  fs.chmodSync(path.join(opt, 'lib/vigil-agent-retire.cjs'), 0o644);
  const daemons = path.join(dir, 'payload/Library/LaunchDaemons');
  fs.mkdirSync(daemons, { recursive: true });
  fs.copyFileSync(path.join(TEMPLATE.macos, `${LAUNCHD_LABEL}.plist`), path.join(daemons, `${LAUNCHD_LABEL}.plist`));
  fs.chmodSync(path.join(daemons, `${LAUNCHD_LABEL}.plist`), 0o644);
  fs.mkdirSync(path.join(dir, 'scripts'));
  for (const s of ['preinstall', 'postinstall']) {
    fs.copyFileSync(path.join(TEMPLATE.macos, 'scripts', s), path.join(dir, 'scripts', s));
    fs.chmodSync(path.join(dir, 'scripts', s), 0o755);
  }
  for (const s of ['build-pkg.sh', 'install.sh', 'uninstall.sh']) {
    fs.copyFileSync(path.join(TEMPLATE.macos, s), path.join(dir, s));
    fs.chmodSync(path.join(dir, s), 0o755);
  }
  fs.writeFileSync(path.join(dir, 'VERSION'), `${app.version}\n`);
}

/** `vigil-agent-<version>-darwin-x64.tar.gz` (root-owned entries): unpack on a Mac, run build-pkg.sh or install.sh. */
export function buildMacos(app: StagedApp, runtime: Runtime, workDir: string, outDir: string): string[] {
  const name = `vigil-agent-${app.version}-darwin-x64`;
  const dir = path.join(workDir, name);
  layoutMacos(dir, app, runtime);
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${name}.tar.gz`);
  execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '-czf', file, '-C', workDir, name]);
  return [file];
}
