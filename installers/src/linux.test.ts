import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// The launcher is plain JavaScript shipped as is; it reads the file this script writes.
import { parseEnvFile } from '../launcher/vigil-agent-service.js';
import { TEMPLATE } from './paths.js';

const CONFIGURE = path.join(TEMPLATE.linux, 'vigil-agent-configure');
const tmps: string[] = [];
afterAll(() => {
  for (const t of tmps) fs.rmSync(t, { recursive: true, force: true });
});

function configure(env: Record<string, string>, preseed?: string) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-configure-'));
  tmps.push(root);
  const etc = path.join(root, 'etc/vigil-agent');
  const state = path.join(root, 'var/lib/vigil-agent');
  if (preseed !== undefined) {
    fs.mkdirSync(etc, { recursive: true });
    fs.writeFileSync(path.join(etc, 'agent.env'), preseed, { mode: 0o644 });
  }
  const r = spawnSync('sh', [CONFIGURE], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', VIGIL_AGENT_ETC: etc, VIGIL_AGENT_STATE: state, ...env }, encoding: 'utf8' });
  const file = path.join(etc, 'agent.env');
  return { status: r.status, stderr: r.stderr, etc, state, file, text: fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '' };
}

const modeOf = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);

describe('vigil-agent-configure (run by postinst, %post and the macOS postinstall)', () => {
  it('writes the settings from the environment, quoted, readable by root only', () => {
    const r = configure({ VIGIL_COLLECTOR_URL: 'https://vigil.example.org:8470', VIGIL_ENROL_SECRET: 'se"cr\\et $HOME `x`' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.text).toContain('VIGIL_COLLECTOR_URL="https://vigil.example.org:8470"\n');
    expect(r.text).toContain('VIGIL_ENROL_SECRET="se\\"cr\\\\et $HOME `x`"\n');
    expect(parseEnvFile(r.text)).toEqual({ VIGIL_COLLECTOR_URL: 'https://vigil.example.org:8470', VIGIL_ENROL_SECRET: 'se"cr\\et $HOME `x`' });
    expect(modeOf(r.file)).toBe('600');
    expect(modeOf(r.etc)).toBe('700');
    expect(modeOf(r.state)).toBe('700');
  });

  it('keeps a preseed file and replaces only what the environment gives', () => {
    const r = configure({ VIGIL_ENROL_SECRET: 'new-secret' }, '# preseeded by IT\nVIGIL_COLLECTOR_URL="https://c.example"\nVIGIL_ENROL_SECRET="old-secret"\nVIGIL_LOG_LEVEL="debug"\n');
    expect(r.status, r.stderr).toBe(0);
    expect(parseEnvFile(r.text)).toEqual({ VIGIL_COLLECTOR_URL: 'https://c.example', VIGIL_ENROL_SECRET: 'new-secret', VIGIL_LOG_LEVEL: 'debug' });
    expect(r.text.match(/VIGIL_ENROL_SECRET=/g)).toHaveLength(1);
    expect(modeOf(r.file)).toBe('600');
  });

  it('copies the CA certificate beside the settings and points at the copy', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ca-'));
    tmps.push(dir);
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    fs.writeFileSync(path.join(dir, 'ca.pem'), pem);
    const r = configure({ VIGIL_COLLECTOR_URL: 'https://c.example', VIGIL_CA_CERT: path.join(dir, 'ca.pem') });
    expect(r.status, r.stderr).toBe(0);
    expect(parseEnvFile(r.text).VIGIL_CA_CERT).toBe(path.join(r.etc, 'ca.pem'));
    expect(fs.readFileSync(path.join(r.etc, 'ca.pem'), 'utf8')).toBe(pem);
    fs.writeFileSync(path.join(dir, 'not.pem'), 'hello');
    expect(configure({ VIGIL_CA_CERT: path.join(dir, 'not.pem') }).status).toBe(1);
    expect(configure({ VIGIL_CA_CERT: path.join(dir, 'missing.pem') }).status).toBe(1);
  });

  it('refuses a collector URL that is not http(s) and a multi-line value', () => {
    const bad = configure({ VIGIL_COLLECTOR_URL: 'ftp://c.example' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('VIGIL_COLLECTOR_URL must be an http:// or https:// URL');
    expect(configure({ VIGIL_COLLECTOR_URL: 'https://c.example', VIGIL_ENROL_SECRET: 'a\nVIGIL_COLLECTOR_URL="https://evil"' }).status).toBe(1);
    expect(configure({ VIGIL_LOG_LEVEL: 'loud' }).status).toBe(1);
  });

  it('exits 3 (installed, not configured) without a collector URL, so the service is not started', () => {
    const r = configure({});
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('not configured yet');
    expect(modeOf(r.file)).toBe('600');
  });
});

describe('the settings-file launcher (Windows and macOS services)', () => {
  it('reads quoted, single-quoted and bare values and skips comments', () => {
    expect(parseEnvFile('# c\n\nA="x \\"y\\" \\\\z"\r\nB=\'q r\'\nC=plain\nnot a line\n')).toEqual({ A: 'x "y" \\z', B: 'q r', C: 'plain' });
  });
});

describe('maintainer scripts', () => {
  it.each(['debian/postinst', 'debian/prerm', 'debian/postrm', 'vigil-agent-configure'])('%s is POSIX sh', (name) => {
    const r = spawnSync('sh', ['-n', path.join(TEMPLATE.linux, name)], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('the syntax check finds errors at all', () => {
    expect(spawnSync('sh', ['-n', '-c', 'if true; then echo'], { encoding: 'utf8' }).status).not.toBe(0);
  });
});

describe('systemd units', () => {
  const hasAnalyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;
  const verify = (file: string) => {
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
    return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes(path.basename(file)));
  };

  it.skipIf(!hasAnalyze)('systemd-analyze reports a bad directive (so a clean report means something)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-unit-'));
    tmps.push(dir);
    fs.writeFileSync(path.join(dir, 'bad.service'), '[Service]\nExecStart=/bin/true\nProtectSystem=bogus\nNoSuchKey=1\n');
    expect(verify(path.join(dir, 'bad.service'))).toHaveLength(2);
  });

  it.skipIf(!hasAnalyze)('the collector unit has no complaint but its not-yet-installed binary', () => {
    expect(verify(path.join(TEMPLATE.linux, 'vigil-collector.service'))).toEqual([
      'vigil-collector.service: Command /opt/vigil-collector/bin/vigil-collector is not executable: No such file or directory',
    ]);
  });

  it('the agent unit is hardened and writes only to its state directory', () => {
    const unit = fs.readFileSync(path.join(TEMPLATE.linux, 'vigil-agent.service'), 'utf8');
    const directives = new Map(unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(Object.fromEntries(['Restart', 'NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'ReadWritePaths', 'StateDirectory', 'StateDirectoryMode', 'PrivateTmp', 'EnvironmentFile', 'ExecStart'].map((k) => [k, directives.get(k)]))).toEqual({
      Restart: 'always',
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      ProtectHome: 'read-only',
      ReadWritePaths: '/var/lib/vigil-agent',
      StateDirectory: 'vigil-agent',
      StateDirectoryMode: '0700',
      PrivateTmp: 'yes',
      EnvironmentFile: '/etc/vigil-agent/agent.env',
      ExecStart: '/opt/vigil-agent/bin/vigil-agent run',
    });
    // V8 needs writable+executable memory: the unit must not deny it.
    expect(directives.has('MemoryDenyWriteExecute')).toBe(false);
  });
});
