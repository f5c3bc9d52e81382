import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, listEnvelope } from '@vigil/shared';
import { ADMIN_TOKEN, api, ENROL_SECRET, freePort, ROOT, startCollector, startExecutable, tempDir, until, type CollectorProc, type Proc } from './support/processes.js';

/**
 * The Linux package on this very machine: build the .deb (with the cached Node runtime), inspect
 * it, install it with dpkg into the real system, run the installed agent as its systemd unit says
 * (systemd itself is not running here) against a real collector, upgrade, remove and purge.
 */

const execFileAsync = promisify(execFile);
const PACKAGE_BIN = path.join(ROOT, 'installers/bin/vigil-package.js');
const UNIT = '/lib/systemd/system/vigil-agent.service';
const ETC = '/etc/vigil-agent';
const STATE = '/var/lib/vigil-agent';
const OPT = '/opt/vigil-agent';
const WANTS = '/etc/systemd/system/multi-user.target.wants/vigil-agent.service';
const MASK = '/etc/systemd/system/vigil-agent.service';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const isRoot = process.getuid?.() === 0;
const supported = process.platform === 'linux' && process.arch === 'x64' && isRoot && has('dpkg-deb') && has('dpkg');
const alreadyInstalled = supported && spawnSync('dpkg-query', ['-W', '-f=${Status}', 'vigil-agent']).stdout.toString().includes('installed');

function run(cmd: string, args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function mode(p: string): { mode: string; uid: number; gid: number } {
  const st = fs.statSync(p);
  return { mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), uid: st.uid, gid: st.gid };
}

/** systemd's EnvironmentFile= syntax as far as the installer writes it: KEY="value" with \-escapes. */
function readEnvironmentFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/.exec(line);
    if (m) out[m[1] as string] = (m[2] as string).replace(/\\(.)/g, '$1');
    else expect(line === '' || line.startsWith('#'), `unexpected line in ${file}: ${line}`).toBe(true);
  }
  return out;
}

/** ExecStart, Environment= and EnvironmentFile= of the installed unit. */
function readUnit(): { exec: string[]; env: Record<string, string>; envFile: string } {
  const text = fs.readFileSync(UNIT, 'utf8');
  const values = (key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] as string);
  const env: Record<string, string> = {};
  for (const v of values('Environment')) for (const kv of v.split(/\s+/)) env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  return { exec: (values('ExecStart')[0] ?? '').split(/\s+/), env, envFile: values('EnvironmentFile')[0] ?? '' };
}

/** The installed agent, started the way the unit starts it. */
function startInstalledAgent(): Proc {
  const unit = readUnit();
  const [file, ...args] = unit.exec;
  return startExecutable(file as string, [...args, '--log-format', 'json'], {
    ...readEnvironmentFile(unit.envFile),
    ...unit.env,
    // Only to keep the test short: reconnect within a second when the collector comes back.
    VIGIL_RECONNECT_MAX_SECONDS: '1',
  });
}

/** Builds the .deb of `version` (gzip, not xz: seconds instead of minutes). */
async function buildDeb(version: string, out: string): Promise<string> {
  const dir = path.join(out, version);
  await execFileAsync(process.execPath, [PACKAGE_BIN, '--target', 'linux-x64', '--format', 'deb', '--fast', '--version', version, '--out', dir]);
  return path.join(dir, `vigil-agent_${version}_amd64.deb`);
}

function purgeEverything(): void {
  spawnSync('dpkg', ['--purge', 'vigil-agent'], { stdio: 'ignore' });
  for (const p of [ETC, STATE, OPT, WANTS, MASK, UNIT]) fs.rmSync(p, { recursive: true, force: true });
}

describe.skipIf(!supported)('the .deb on this machine', () => {
  const out = tempDir('deb');
  const procs: Proc[] = [];
  let debV1 = '';
  let debV2 = '';
  let collector: CollectorProc;
  let collectorDir = '';
  let collectorPort = 0;
  let lintian: Promise<{ code: number | null; output: string }> | undefined;

  beforeAll(async () => {
    if (alreadyInstalled) throw new Error('vigil-agent is installed on this machine already: this test would replace it');
    // The first build downloads the Node runtime into installers/.cache (once); the second reuses it.
    debV1 = await buildDeb('0.1.0', out);
    debV2 = await buildDeb('0.1.1', out);
    // lintian takes a while: it runs beside the install steps and is checked at the end.
    if (has('lintian')) {
      lintian = new Promise((resolve) => {
        const child = spawn('lintian', ['--tag-display-limit', '0', debV1], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d));
        child.stderr.on('data', (d: Buffer) => (output += d));
        child.on('exit', (code) => resolve({ code, output }));
      });
    }
    collectorDir = tempDir('collector');
    collectorPort = await freePort();
    collector = await startCollector({ dataDir: collectorDir, port: collectorPort });
    procs.push(collector);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    purgeEverything();
    await lintian;
    fs.rmSync(out, { recursive: true, force: true });
  }, 300_000);

  it('is a well-formed package: control fields, root-owned files in /opt, the unit, no native addon', () => {
    const info = run('dpkg-deb', ['-f', debV1]).stdout;
    expect(info).toMatch(/^Package: vigil-agent$/m);
    expect(info).toMatch(/^Version: 0\.1\.0$/m);
    expect(info).toMatch(/^Architecture: amd64$/m);
    expect(info).toMatch(/^Depends: .*libc6/m);
    const scripts = run('dpkg-deb', ['-I', debV1]).stdout;
    for (const s of ['postinst', 'prerm', 'postrm']) expect(scripts).toMatch(new RegExp(`\\d+ bytes,\\s+\\d+ lines\\s+\\*\\s+${s}\\s+#!/bin/sh`));

    const entries = run('dpkg-deb', ['-c', debV1])
      .stdout.trim()
      .split('\n')
      .map((l) => {
        const [perm = '', owner = '', , , , ...name] = l.split(/\s+/);
        return { perm, owner, name: name.join(' ') };
      });
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(entries.every((e) => e.owner === 'root/root')).toBe(true);
    const files = entries.filter((e) => !e.perm.startsWith('d')).map((e) => e.name);
    const allowed = ['./opt/vigil-agent/', './lib/systemd/system/vigil-agent.service', './usr/share/doc/vigil-agent/', './usr/share/lintian/overrides/vigil-agent'];
    expect(files.filter((f) => !allowed.some((a) => f.startsWith(a)))).toEqual([]);
    expect(byName.get('./opt/vigil-agent/node/bin/node')?.perm).toBe('-rwxr-xr-x');
    expect(byName.get('./opt/vigil-agent/bin/vigil-agent')?.perm).toBe('-rwxr-xr-x');
    expect(byName.get('./opt/vigil-agent/bin/vigil-agent-configure')?.perm).toBe('-rwxr-xr-x');
    expect(byName.get('./opt/vigil-agent/app/bin/vigil-agent.js')).toBeDefined();
    expect(byName.get('./lib/systemd/system/vigil-agent.service')?.perm).toBe('-rw-r--r--');
    expect(entries.filter((e) => e.name.endsWith('.node')), 'no compiled addon').toEqual([]);
    expect(entries.filter((e) => e.name.includes('usb-detection'))).toEqual([]);
    // Nothing writable by group or others.
    expect(entries.filter((e) => e.perm[5] === 'w' || e.perm[8] === 'w')).toEqual([]);
    // No state or settings in the package: they are created by postinst and survive upgrades.
    expect(entries.filter((e) => e.name.startsWith('./etc') || e.name.startsWith('./var'))).toEqual([]);
  });

  let firstHost: Host;
  let credentials = '';

  it('installs silently with its settings from the environment and enrols on first start', async () => {
    const r = run('dpkg', ['-i', debV1], { VIGIL_COLLECTOR_URL: collector.url, VIGIL_ENROL_SECRET: ENROL_SECRET });
    expect(r.status, r.stderr).toBe(0);

    expect(mode(ETC)).toEqual({ mode: '0700', uid: 0, gid: 0 });
    expect(mode(`${ETC}/agent.env`)).toEqual({ mode: '0600', uid: 0, gid: 0 });
    expect(mode(STATE)).toEqual({ mode: '0700', uid: 0, gid: 0 });
    expect(mode(`${OPT}/node/bin/node`)).toEqual({ mode: '0755', uid: 0, gid: 0 });
    expect(mode(`${OPT}/bin/vigil-agent`)).toEqual({ mode: '0755', uid: 0, gid: 0 });
    expect(mode(UNIT)).toEqual({ mode: '0644', uid: 0, gid: 0 });
    expect(readEnvironmentFile(`${ETC}/agent.env`)).toEqual({ VIGIL_COLLECTOR_URL: collector.url, VIGIL_ENROL_SECRET: ENROL_SECRET });
    // Enabled for the next boot even though systemd is not running here.
    expect(fs.readlinkSync(WANTS)).toBe(UNIT);
    expect(run(`${OPT}/bin/vigil-agent`, ['--version']).stdout.trim()).toBe('0.1.0');

    const agent = startInstalledAgent();
    procs.push(agent);
    const hosts = listEnvelope(Host);
    firstHost = await until(async () => {
      const { body } = await api(collector.url, '/api/v1/hosts');
      return hosts.parse(body).items.find((h) => h.status === 'online' && h.agent.messagesStored >= 1);
    }, 60_000);
    expect(firstHost.agentVersion).toBe('0.1.0');
    // The wrapper execs the bundled Node, not the one running this test.
    expect(fs.readlinkSync(`/proc/${agent.child.pid}/exe`)).toBe(`${OPT}/node/bin/node`);
    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    credentials = fs.readFileSync(`${STATE}/agent.json`, 'utf8');
    expect(mode(`${STATE}/agent.json`).mode).toBe('0600');
    expect(JSON.parse(credentials)).toMatchObject({ hostId: firstHost.id, collectorUrl: collector.url });
  }, 180_000);

  it('has a unit systemd-analyze verifies without complaint', () => {
    if (!has('systemd-analyze')) return;
    const r = run('systemd-analyze', ['verify', '--man=no', UNIT]);
    // Without a running systemd, verify may still print notes about the host; none may be about this unit.
    const aboutUnit = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.includes('vigil-agent'));
    expect(aboutUnit).toEqual([]);
    expect(r.status).toBe(0);
    const unit = fs.readFileSync(UNIT, 'utf8');
    for (const directive of ['Restart=always', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=read-only', `ReadWritePaths=${STATE}`, 'StateDirectory=vigil-agent', 'StateDirectoryMode=0700']) {
      expect(unit).toMatch(new RegExp(`^${directive.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    }
    expect(unit.match(/^ReadWritePaths=.*$/gm)).toEqual([`ReadWritePaths=${STATE}`]);
  });

  it('upgrades keeping identity, token, settings and the unsent outbox', async () => {
    // Something left unsent: the collector is down while the agent runs and says goodbye.
    expect(await collector.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const offline = startInstalledAgent();
    procs.push(offline);
    await offline.waitForLog((l) => l.msg === 'vigil agent running', 60_000);
    expect(await offline.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const settings = fs.readFileSync(`${ETC}/agent.env`, 'utf8');

    // No settings given this time: the installed ones stay.
    const r = run('dpkg', ['-i', debV2]);
    expect(r.status, r.stderr).toBe(0);
    expect(run('dpkg-query', ['-W', '-f=${Version}', 'vigil-agent']).stdout).toBe('0.1.1');
    expect(fs.readFileSync(`${ETC}/agent.env`, 'utf8')).toBe(settings);
    expect(fs.readFileSync(`${STATE}/agent.json`, 'utf8')).toBe(credentials);
    expect(mode(STATE).mode).toBe('0700');

    collector = await startCollector({ dataDir: collectorDir, port: collectorPort });
    procs.push(collector);
    const agent = startInstalledAgent();
    procs.push(agent);
    const unsent = await agent.waitForLog((l) => l.msg === 'unsent messages from an earlier run will be delivered', 60_000);
    expect(unsent.pending).toBeGreaterThanOrEqual(1);
    const host = await until(async () => {
      const { body } = await api<Host>(collector.url, `/api/v1/hosts/${firstHost.id}`);
      return body.status === 'online' && body.agentVersion === '0.1.1' && body;
    }, 60_000);
    expect(host.id).toBe(firstHost.id);
    const { body } = await api<{ items: Host[] }>(collector.url, '/api/v1/hosts');
    expect(body.items).toHaveLength(1);
    expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await collector.kill('SIGTERM')).toEqual({ code: 0, signal: null });

    // Three goodbyes: before the upgrade, the one kept in the outbox across it, and after it.
    const db = new Database(path.join(collectorDir, 'vigil.db'), { readonly: true });
    const goodbyes = db.prepare("SELECT count(*) AS n FROM messages WHERE type = 'goodbye'").get() as { n: number };
    db.close();
    expect(goodbyes.n).toBe(3);
  }, 180_000);

  it('is removed (settings and state kept, unit masked, the host retired at the collector) and purged (nothing left)', async () => {
    collector = await startCollector({ dataDir: collectorDir, port: collectorPort });
    procs.push(collector);
    // The admin token is given for the removal only.
    let r = run('dpkg', ['-r', 'vigil-agent'], { VIGIL_RETIRE_TOKEN: ADMIN_TOKEN });
    expect(r.status, r.stderr).toBe(0);
    const { body: retired } = await api<Host>(collector.url, `/api/v1/hosts/${firstHost.id}`);
    expect(retired.status).toBe('retired');
    expect(fs.existsSync(OPT)).toBe(false);
    expect(fs.existsSync(UNIT)).toBe(false);
    expect(fs.readFileSync(`${STATE}/agent.json`, 'utf8')).toBe(credentials);
    expect(fs.existsSync(`${ETC}/agent.env`)).toBe(true);
    expect(fs.readlinkSync(MASK)).toBe('/dev/null');

    r = run('dpkg', ['--purge', 'vigil-agent']);
    expect(r.status, r.stderr).toBe(0);
    for (const p of [ETC, STATE, OPT, UNIT]) expect(fs.existsSync(p), p).toBe(false);
    for (const p of [WANTS, MASK]) expect(() => fs.lstatSync(p), p).toThrow();
    expect(run('dpkg-query', ['-W', '-f=${Status}', 'vigil-agent']).stdout).not.toMatch(/installed/);
  }, 120_000);

  it('passes lintian without errors or warnings', async () => {
    if (!lintian) return;
    const { output } = await lintian;
    const findings = output.split('\n').filter((l) => /^[EW]: /.test(l));
    expect(findings).toEqual([]);
  }, 300_000);
});
