import fs from 'node:fs';
import path from 'node:path';
import type { Runtime } from './runtime.js';
import type { StagedApp } from './stage-app.js';

/**
 * Flags for the agent's node, wherever an installer starts it (the Linux wrapper below, the macOS
 * launchd plist, the Windows service definition; bench/agent-idle.mjs starts it so too). V8's young
 * generation grows to 16 MB semi-spaces; the agent allocates little, and with 1 MB ones it sat at
 * +37 MiB of RSS over a bare node in a 60 s window at rest instead of +54 MiB, with 0.28 s of CPU
 * instead of 0.31 s (node bench/agent-idle.mjs, 2026-12-07).
 */
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=1'] as const;

/**
 * The installed agent directory, the same on every OS:
 *   node/bin/node[.exe], node/LICENSE   the bundled runtime
 *   app/                                the agent and its production dependencies
 *   bin/vigil-agent                     (Linux, macOS) a shell wrapper running app/bin/vigil-agent.js
 *   service/vigil-agent-service.js      (Windows, macOS) reads the settings file, runs the agent
 */
export function assembleAgentTree(dest: string, app: StagedApp, runtime: Runtime, opts: { wrapperPrefix?: string; launcher?: string } = {}): void {
  fs.mkdirSync(path.join(dest, 'node/bin'), { recursive: true });
  const exe = path.basename(runtime.node);
  fs.copyFileSync(runtime.node, path.join(dest, 'node/bin', exe));
  fs.chmodSync(path.join(dest, 'node/bin', exe), 0o755);
  fs.copyFileSync(runtime.license, path.join(dest, 'node/LICENSE'));
  fs.chmodSync(path.join(dest, 'node/LICENSE'), 0o644);
  fs.cpSync(app.dir, path.join(dest, 'app'), { recursive: true });
  if (opts.wrapperPrefix) {
    fs.mkdirSync(path.join(dest, 'bin'), { recursive: true });
    const prefix = opts.wrapperPrefix;
    fs.writeFileSync(
      path.join(dest, 'bin/vigil-agent'),
      `#!/bin/sh\n# The Vigil agent with its bundled Node runtime.\nexec "${prefix}/node/bin/node" ${AGENT_NODE_FLAGS.join(' ')} "${prefix}/app/bin/vigil-agent.js" "$@"\n`,
      { mode: 0o755 },
    );
  }
  if (opts.launcher) {
    fs.mkdirSync(path.join(dest, 'service'), { recursive: true });
    fs.copyFileSync(opts.launcher, path.join(dest, 'service/vigil-agent-service.js'));
  }
}

/** Sum of file sizes under `dir`, in KiB rounded up (dpkg's Installed-Size). */
export function installedSizeKiB(dir: string): number {
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else bytes += fs.lstatSync(p).size;
    }
  };
  walk(dir);
  return Math.ceil(bytes / 1024);
}

/** Every file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}
