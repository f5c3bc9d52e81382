import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENT_NODE_FLAGS, assembleAgentTree, listFiles } from './agent-tree.js';
import { TEMPLATE } from './paths.js';
import { fakeBuild } from './test-support/fake-build.js';
import { nodesOfType, powershellParser, syntaxErrors } from './test-support/powershell.js';
import { addWindowsServiceFiles, buildMsi, componentGuid, hasWixl, winswExecutable, wixSource } from './windows.js';

const script = (name: string) => fs.readFileSync(path.join(TEMPLATE.windows, name), 'utf8');
const xml = (text: string) => new DOMParser({ onError: (level, msg) => { throw new Error(`${level}: ${msg}`); } }).parseFromString(text, 'text/xml');
const elements = (doc: ReturnType<typeof xml>, tag: string): Element[] => Array.from(doc.getElementsByTagName(tag));
const text = (doc: ReturnType<typeof xml>, tag: string) => elements(doc, tag)[0]?.textContent ?? '';

const tmps: string[] = [];
afterAll(() => {
  for (const t of tmps) fs.rmSync(t, { recursive: true, force: true });
});

describe('PowerShell install and uninstall scripts', () => {
  it('the parser finds errors at all (a broken script is refused)', async () => {
    const p = await powershellParser();
    expect(syntaxErrors(p.parse('if ($x -eq 1) { Write-Output "a"')!.rootNode)).not.toEqual([]);
    expect(syntaxErrors(p.parse('param([string]$A = $env:X)\nif ($A) { Write-Output $A }\n')!.rootNode)).toEqual([]);
  });

  it('uninstall.ps1 can retire the host with a token from the environment or the MSI', async () => {
    const tree = (await powershellParser()).parse(script('uninstall.ps1'))!;
    const params = nodesOfType(nodesOfType(tree.rootNode, 'param_block')[0]!, 'script_parameter').map((n) => n.text.replace(/\s+/g, ' '));
    expect(params).toContainEqual('[string]$RetireToken = $env:VIGIL_RETIRE_TOKEN');
    expect(script('uninstall.ps1')).toContain("'/api/v1/hosts/' + [uri]::EscapeDataString($creds.hostId) + '/revoke'");
  });

  it.each(['install.ps1', 'uninstall.ps1'])('%s parses without a syntax error', async (name) => {
    const tree = (await powershellParser()).parse(script(name))!;
    expect(syntaxErrors(tree.rootNode)).toEqual([]);
    expect(nodesOfType(tree.rootNode, 'param_block')).toHaveLength(1);
  });

  it('install.ps1 takes the same settings as the other installers, defaulting to the environment', async () => {
    const tree = (await powershellParser()).parse(script('install.ps1'))!;
    const params = nodesOfType(nodesOfType(tree.rootNode, 'param_block')[0]!, 'script_parameter').map((n) => n.text.replace(/\s+/g, ' '));
    for (const [name, env] of [
      ['CollectorUrl', 'VIGIL_COLLECTOR_URL'],
      ['EnrolSecret', 'VIGIL_ENROL_SECRET'],
      ['CaCert', 'VIGIL_CA_CERT'],
    ]) {
      expect(params).toContainEqual(`[string]$${name} = $env:${env}`);
    }
  });

  it('the state directory gets an ACL for SYSTEM and Administrators only, inheritance removed', () => {
    const s = script('install.ps1');
    expect(s).toContain("icacls.exe $Path /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F'");
    expect(s).toMatch(/\$StateDir = Join-Path \$DataDir 'agent'/);
    expect(s).toMatch(/\$DataDir = Join-Path \$env:ProgramData 'Vigil'/);
  });
});

describe('WinSW service definition', () => {
  const doc = xml(script('vigil-agent-service.xml'));

  it('runs the bundled node on the launcher with the settings file, restarting on failure', () => {
    expect(text(doc, 'id')).toBe('vigil-agent');
    expect(text(doc, 'executable')).toBe('%BASE%\\..\\node\\bin\\node.exe');
    expect(text(doc, 'arguments')).toBe(`${AGENT_NODE_FLAGS.join(' ')} "%BASE%\\vigil-agent-service.js" "%ProgramData%\\Vigil\\agent.env" run`);
    expect(text(doc, 'startmode')).toBe('Automatic');
    expect(elements(doc, 'onfailure').map((e) => e.getAttribute('action'))).toEqual(['restart', 'restart', 'restart']);
    const env = Object.fromEntries(elements(doc, 'env').map((e) => [e.getAttribute('name'), e.getAttribute('value')]));
    expect(env).toEqual({ VIGIL_STATE_DIR: '%ProgramData%\\Vigil\\agent', VIGIL_LOG_FORMAT: 'json' });
  });

  it('points at files that the Windows layout has, beside the WinSW executable from node-windows', () => {
    const { runtime, app, tmp } = fakeBuild('win-x64');
    tmps.push(tmp);
    const dir = path.join(tmp, 'win');
    assembleAgentTree(dir, app, runtime, { launcher: path.join(TEMPLATE.launcher, 'vigil-agent-service.js') });
    addWindowsServiceFiles(dir);
    const files = listFiles(dir).map((f) => f.split(path.sep).join('/'));
    const base = 'service';
    expect(files).toEqual(expect.arrayContaining([`${base}/vigil-agent-service.exe`, `${base}/vigil-agent-service.xml`, `${base}/vigil-agent-service.js`, 'node/bin/node.exe', 'app/bin/vigil-agent.js', 'install.ps1', 'uninstall.ps1']));
    // WinSW is a .NET executable (MZ header), not a script.
    expect(fs.readFileSync(winswExecutable()).subarray(0, 2).toString()).toBe('MZ');
  });
});

describe('MSI source', () => {
  const files = ['node/bin/node.exe', 'app/bin/vigil-agent.js', 'app/node_modules/@vigil/shared/package.json', 'service/vigil-agent-service.exe', 'service/msi-action.js', 'install.ps1', 'uninstall.ps1'];
  const doc = xml(wixSource('1.2.3', files));

  it('has one component per file, with GUIDs unique and the same in the next version', () => {
    const components = elements(doc, 'Component');
    expect(components).toHaveLength(files.length);
    const refs = new Set(elements(doc, 'ComponentRef').map((e) => e.getAttribute('Id')));
    expect(new Set(components.map((c) => c.getAttribute('Id')))).toEqual(refs);
    const sources = components.map((c) => c.getElementsByTagName('File')[0]?.getAttribute('Source'));
    expect([...sources].sort()).toEqual([...files].sort());
    const guids = components.map((c) => c.getAttribute('Guid'));
    expect(new Set(guids).size).toBe(files.length);
    expect(guids).toEqual(sources.map((f) => componentGuid(f as string)));
    const next = xml(wixSource('2.0.0', files));
    expect(elements(next, 'Component').map((c) => c.getAttribute('Guid'))).toEqual(guids);
    expect(elements(next, 'Product')[0]?.getAttribute('UpgradeCode')).toBe(elements(doc, 'Product')[0]?.getAttribute('UpgradeCode'));
    for (const id of [...elements(doc, 'File'), ...elements(doc, 'Directory'), ...components].map((e) => e.getAttribute('Id') ?? '')) expect(id).toMatch(/^[A-Za-z_][A-Za-z0-9_.]{0,71}$/);
  });

  it('passes every install-time property to install.ps1 through msi-action.js, which forwards them', () => {
    const install = elements(doc, 'CustomAction').find((c) => c.getAttribute('Id') === 'VigilInstallService')!;
    const nodeFile = elements(doc, 'File').find((f) => f.getAttribute('Source') === 'node/bin/node.exe');
    expect(install.getAttribute('FileKey')).toBe(nodeFile?.getAttribute('Id'));
    expect(install.getAttribute('Impersonate')).toBe('no');
    expect(install.getAttribute('Execute')).toBe('deferred');
    const command = install.getAttribute('ExeCommand') ?? '';
    expect(command.startsWith('"[INSTALLDIR]service\\msi-action.js" install ')).toBe(true);
    const passed = [...command.matchAll(/"(VIGIL_[A-Z_]+)=\[(VIGIL_[A-Z_]+)\]"/g)].map((m) => {
      expect(m[1]).toBe(m[2]);
      return m[1];
    });
    expect(passed).toEqual(['VIGIL_COLLECTOR_URL', 'VIGIL_ENROL_SECRET', 'VIGIL_CA_CERT', 'VIGIL_LOG_LEVEL']);
    const properties = elements(doc, 'Property').map((p) => p.getAttribute('Id'));
    for (const p of passed) expect(properties).toContain(p);
    for (const p of passed) expect(script('install.ps1')).toContain(`'${p}' {`);
    expect(elements(doc, 'Property').find((p) => p.getAttribute('Id') === 'MsiHiddenProperties')?.getAttribute('Value')).toBe('VIGIL_ENROL_SECRET;VIGIL_RETIRE_TOKEN');
  });

  it('msi-action.js hands the settings to install.ps1 as separate words and never an empty one', () => {
    const fakeRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-msi-action-'));
    tmps.push(fakeRoot);
    // A stand-in powershell.exe that prints its arguments, one per line.
    const ps = path.join(fakeRoot, 'System32/WindowsPowerShell/v1.0/powershell.exe');
    fs.mkdirSync(path.dirname(ps), { recursive: true });
    fs.writeFileSync(ps, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n', { mode: 0o755 });
    fs.mkdirSync(path.join(fakeRoot, 'install/service'), { recursive: true });
    fs.copyFileSync(path.join(TEMPLATE.windows, 'msi-action.js'), path.join(fakeRoot, 'install/service/msi-action.js'));
    const run = (...args: string[]) =>
      execFileSync(process.execPath, [path.join(fakeRoot, 'install/service/msi-action.js'), ...args], { env: { SystemRoot: fakeRoot }, encoding: 'utf8' }).trim().split('\n');
    expect(run('install', 'VIGIL_COLLECTOR_URL=https://c.example:8470', 'VIGIL_ENROL_SECRET=s e"cret', 'VIGIL_CA_CERT=', 'VIGIL_LOG_LEVEL=')).toEqual([
      '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', path.join(fakeRoot, 'install/install.ps1'), '-FromMsi',
      'VIGIL_COLLECTOR_URL=https://c.example:8470', 'VIGIL_ENROL_SECRET=s e"cret', 'VIGIL_CA_CERT=', 'VIGIL_LOG_LEVEL=',
    ]);
    expect(run('uninstall', '--purge', 'VIGIL_RETIRE_TOKEN=').slice(-4)).toEqual([path.join(fakeRoot, 'install/uninstall.ps1'), '-FromMsi', '-Purge', 'VIGIL_RETIRE_TOKEN=']);
  });

  it.skipIf(!hasWixl())('builds into an MSI with wixl, with the service custom actions inside the install script', () => {
    const { runtime, app, tmp } = fakeBuild('win-x64');
    tmps.push(tmp);
    const dir = path.join(tmp, 'win');
    assembleAgentTree(dir, app, runtime, { launcher: path.join(TEMPLATE.launcher, 'vigil-agent-service.js') });
    addWindowsServiceFiles(dir);
    const msi = buildMsi(dir, '1.2.3', path.join(tmp, 'msi'), path.join(tmp, 'vigil-agent.msi'));
    expect(fs.readFileSync(msi).subarray(0, 4).toString('hex')).toBe('d0cf11e0'); // an OLE compound file
    if (spawnSync('sh', ['-c', 'command -v msiinfo']).status !== 0) return;
    const table = (name: string) => execFileSync('msiinfo', ['export', msi, name], { encoding: 'utf8' });
    expect(table('Property')).toMatch(/^ProductVersion\t1\.2\.3\r?$/m);
    // 3090 = 18 (run an installed exe) + 1024 (deferred) + 2048 (no impersonation: as SYSTEM).
    expect(table('CustomAction')).toMatch(/^VigilInstallService\t3090\tf[0-9a-f]+\t"\[INSTALLDIR\]service\\msi-action\.js" install /m);
    const seq = new Map(
      table('InstallExecuteSequence')
        .split(/\r?\n/)
        .map((l) => l.split('\t'))
        .filter((c) => c.length === 3 && /^\d+$/.test(c[2] ?? ''))
        .map((c) => [c[0], { condition: c[1], n: Number(c[2]) }]),
    );
    const n = (a: string) => seq.get(a)?.n ?? NaN;
    // Deferred actions must sit between InstallInitialize and InstallFinalize.
    expect(n('InstallInitialize') < n('VigilRemoveService') && n('VigilRemoveService') < n('RemoveFiles')).toBe(true);
    expect(n('InstallFiles') < n('VigilInstallService') && n('VigilInstallService') < n('InstallFinalize')).toBe(true);
    expect(seq.get('VigilInstallService')?.condition).toBe('NOT REMOVE="ALL"');
    // A major upgrade removes the old version (and its service) before installing the new one.
    expect(n('RemoveExistingProducts') < n('InstallInitialize')).toBe(true);
    expect(table('File')).toMatch(/\tvigil-agent-service\.exe\t/);
  });
});
