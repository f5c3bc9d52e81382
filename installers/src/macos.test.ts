import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parsePlist } from 'plist';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_NODE_FLAGS, listFiles } from './agent-tree.js';
import { LAUNCHD_LABEL, layoutMacos } from './macos.js';
import { TEMPLATE } from './paths.js';
import { fakeBuild } from './test-support/fake-build.js';

const tmps: string[] = [];
afterAll(() => {
  for (const t of tmps) fs.rmSync(t, { recursive: true, force: true });
});

interface LaunchDaemon {
  Label: string;
  ProgramArguments: string[];
  EnvironmentVariables: Record<string, string>;
  RunAtLoad: boolean;
  KeepAlive: boolean;
  StandardOutPath: string;
}

describe('macOS LaunchDaemon and pkg layout', () => {
  const text = fs.readFileSync(path.join(TEMPLATE.macos, `${LAUNCHD_LABEL}.plist`), 'utf8');
  const daemon = parsePlist(text) as unknown as LaunchDaemon;

  it('the plist parses as a launchd property list that starts at boot and is kept alive', () => {
    expect(text).toContain('<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"');
    expect(daemon.Label).toBe(LAUNCHD_LABEL);
    expect(daemon.RunAtLoad).toBe(true);
    expect(daemon.KeepAlive).toBe(true);
    expect(daemon.ProgramArguments).toEqual(['/opt/vigil-agent/node/bin/node', ...AGENT_NODE_FLAGS, '/opt/vigil-agent/service/vigil-agent-service.js', '/Library/Application Support/Vigil/agent.env', 'run']);
    expect(daemon.EnvironmentVariables).toEqual({ VIGIL_STATE_DIR: '/Library/Application Support/Vigil/agent', VIGIL_LOG_FORMAT: 'json' });
  });

  it('the parser refuses a broken plist (so parsing means something)', () => {
    expect(() => parsePlist(text.replace('</dict>\n</plist>', '</plist>'))).toThrow();
  });

  it('the payload has every file the plist and the pkg scripts name, with launchd-acceptable modes', () => {
    const { runtime, app, tmp } = fakeBuild('darwin-x64');
    tmps.push(tmp);
    const dir = path.join(tmp, 'mac');
    layoutMacos(dir, app, runtime);
    const files = listFiles(dir).map((f) => f.split(path.sep).join('/'));
    for (const arg of daemon.ProgramArguments.filter((a) => a.startsWith('/opt/'))) expect(files).toContain(`payload${arg}`);
    expect(files).toContain(`payload/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`);
    expect(files).toContain('payload/opt/vigil-agent/bin/vigil-agent-configure');
    expect(files).toEqual(expect.arrayContaining(['scripts/preinstall', 'scripts/postinstall', 'build-pkg.sh', 'install.sh', 'uninstall.sh', 'VERSION']));
    expect(fs.readFileSync(path.join(dir, 'VERSION'), 'utf8')).toBe('1.2.3\n');
    // launchd refuses a daemon plist writable by group or others.
    expect(fs.statSync(path.join(dir, `payload/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`)).mode & 0o777).toBe(0o644);
    for (const s of ['scripts/preinstall', 'scripts/postinstall', 'install.sh', 'uninstall.sh', 'build-pkg.sh', 'payload/opt/vigil-agent/bin/vigil-agent']) {
      expect(fs.statSync(path.join(dir, s)).mode & 0o777).toBe(0o755);
    }
    // The wrapper starts the bundled node with the agent's flags, like the plist.
    expect(fs.readFileSync(path.join(dir, 'payload/opt/vigil-agent/bin/vigil-agent'), 'utf8')).toContain(`exec "/opt/vigil-agent/node/bin/node" ${AGENT_NODE_FLAGS.join(' ')} "/opt/vigil-agent/app/bin/vigil-agent.js" "$@"`);
  });

  it.each(['scripts/preinstall', 'scripts/postinstall', 'install.sh', 'uninstall.sh', 'build-pkg.sh'])('%s is POSIX sh', (name) => {
    const r = spawnSync('sh', ['-n', path.join(TEMPLATE.macos, name)], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('the postinstall configures with the macOS paths the plist uses', () => {
    const post = fs.readFileSync(path.join(TEMPLATE.macos, 'scripts/postinstall'), 'utf8');
    expect(post).toContain('SUPPORT="/Library/Application Support/Vigil"');
    expect(post).toContain('VIGIL_AGENT_ETC="$SUPPORT" VIGIL_AGENT_STATE="$SUPPORT/agent" /opt/vigil-agent/bin/vigil-agent-configure');
    expect(`${'/Library/Application Support/Vigil'}/agent.env`).toBe(daemon.ProgramArguments.at(-2));
    expect(post).toContain(`PLIST=/Library/LaunchDaemons/$LABEL.plist`);
    expect(post).toContain(`LABEL=${LAUNCHD_LABEL}`);
  });
});
