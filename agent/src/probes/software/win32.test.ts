import { describe, expect, it } from 'vitest';
import { SoftwareItem } from '@vigil/shared';
import { appxArch, appxPublisher, parseAppxJson, readAppx } from './win32-appx.js';
import { hiddenReason, installDateMs, loadedUserSids, parseRegQuery, readRegistryPrograms, registryItems } from './win32-registry.js';
import { readWin32Software } from './win32.js';
import { fakeRunner, readFixture, recordingLog, type Call } from './test-support/fakes.js';
import type { ProbeSources } from '../probe.js';

const HKLM = readFixture('win32', 'reg-query-hklm-uninstall.txt');
const WOW = readFixture('win32', 'reg-query-wow6432node-uninstall.txt');

describe('reg query … /s output (real captures)', () => {
  it('parses every key with its values, including values with no data', () => {
    const keys = parseRegQuery(HKLM);
    expect(keys).toHaveLength(15);
    const host = keys.find((k) => k.path.endsWith('{12B6D916-FD64-471C-8EF7-C04443A75F8D}'));
    expect(host?.values.get('displayname')).toEqual({ type: 'REG_SZ', data: 'Microsoft .NET Host - 5.0.7 (x64)' });
    expect(host?.values.get('contact')).toEqual({ type: 'REG_SZ', data: '' });
    expect(host?.values.get('installsource')?.data).toBe('C:\\ProgramData\\Package Cache\\{12B6D916-FD64-471C-8EF7-C04443A75F8D}v40.28.30105\\');
  });

  it('hides what Programs and Features hides: nameless keys and system components', () => {
    const reasons = parseRegQuery(HKLM).map(hiddenReason);
    expect(reasons.filter((r) => r === 'no DisplayName')).toHaveLength(13);
    expect(reasons.filter((r) => r === 'SystemComponent')).toHaveLength(2);
    expect(registryItems(HKLM)).toEqual([]);
  });

  it('lists a 32-bit MSI program from WOW6432Node with its install date', () => {
    const items = registryItems(WOW, 'x86');
    expect(items).toEqual([
      { name: 'Check MK Agent 2.1', version: '2.1.0.50010', source: 'registry', publisher: 'tribe29 GmbH', arch: 'x86', installedAt: '2025-04-05T00:00:00.000Z' },
    ]);
    for (const i of items) SoftwareItem.parse(i);
  });

  it('reads reg.exe CRLF line endings the same way', () => {
    expect(registryItems(WOW.replace(/\n/g, '\r\n'), 'x86')).toEqual(registryItems(WOW, 'x86'));
  });
});

describe('Add/Remove Programs rules (synthetic keys for the cases no public capture shows)', () => {
  const key = (sub: string, values: string) => `HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\${sub}\n${values}\n`;
  it('skips updates (ParentKeyName, ReleaseType) and keys below a program key', () => {
    const text =
      key('KB2504637', '    DisplayName    REG_SZ    Update for Microsoft Office\n    ParentKeyName    REG_SZ    OperatingSystem') +
      key('KB5034123', '    DisplayName    REG_SZ    Security Update\n    ReleaseType    REG_SZ    Security Update') +
      key('App\\Sub', '    DisplayName    REG_SZ    Not a program') +
      key('Kept', '    DisplayName    REG_SZ    Kept Program\n    SystemComponent    REG_DWORD    0x0');
    expect(registryItems(text).map((i) => i.name)).toEqual(['Kept Program']);
  });

  it('accepts only real YYYYMMDD install dates', () => {
    expect(installDateMs('20211019')).toBe(Date.UTC(2021, 9, 19));
    expect(installDateMs('20210231')).toBeUndefined();
    expect(installDateMs('2/10/2020')).toBeUndefined();
  });

  it('keeps only loaded user SIDs from reg query HKU', () => {
    const hku = '\r\nHKEY_USERS\\.DEFAULT\r\nHKEY_USERS\\S-1-5-19\r\nHKEY_USERS\\S-1-5-21-1-2-3-1001\r\nHKEY_USERS\\S-1-5-21-1-2-3-1001_Classes\r\n';
    expect(loadedUserSids(hku)).toEqual(['S-1-5-19', 'S-1-5-21-1-2-3-1001']);
  });
});

describe('reading the registry', () => {
  const hku = '\r\nHKEY_USERS\\.DEFAULT\r\nHKEY_USERS\\S-1-5-21-1-2-3-1001\r\nHKEY_USERS\\S-1-5-21-1-2-3-1002\r\n';
  const answers = (calls: Call[]) =>
    fakeRunner(
      {
        reg: (args) => {
          const key = args[1] ?? '';
          if (key.startsWith('HKLM\\SOFTWARE\\WOW6432Node')) return { stdout: WOW };
          if (key.startsWith('HKLM\\')) return { stdout: HKLM };
          if (key === 'HKU') return { stdout: hku };
          if (key.includes('-1001\\')) return { stdout: WOW }; // a user key holding the same program
          return { code: 1, error: 'failed', stderr: 'ERROR: The system was unable to find the specified registry key or value.\r\n' };
        },
      },
      calls,
    );

  it('queries the machine key (64-bit view), WOW6432Node and each loaded user hive', async () => {
    const calls: Call[] = [];
    const res = await readRegistryPrograms(answers(calls), recordingLog().log);
    expect(calls.map((c) => c.args.join(' '))).toEqual([
      'query HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall /s /reg:64',
      'query HKU',
      'query HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall /s /reg:64',
      'query HKU\\S-1-5-21-1-2-3-1001\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall /s',
      'query HKU\\S-1-5-21-1-2-3-1002\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall /s',
    ]);
    expect(res.status === 'ok' && res.items.map((i) => `${i.name}/${i.arch ?? '-'}`)).toEqual(['Check MK Agent 2.1/x86', 'Check MK Agent 2.1/-']);
  });

  it('fails the source when the machine key cannot be read, and is absent without reg.exe', async () => {
    const res = await readRegistryPrograms(fakeRunner({ reg: { code: 1, error: 'failed', stderr: 'ERROR: Access is denied.' } }), recordingLog().log);
    expect(res.status).toBe('failed');
    expect(await readRegistryPrograms(fakeRunner({}), recordingLog().log)).toEqual({ source: 'registry', status: 'absent' });
  });
});

describe('Get-AppxPackage JSON', () => {
  // Field values transcribed from Microsoft's documented Get-AppxPackage output for OneNote
  // (see SOURCES.md: no public capture of this exact ConvertTo-Json output was found).
  const onenote = {
    Name: 'Microsoft.Office.OneNote',
    Version: '17.6769.57631.0',
    Publisher: 'CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US',
    Architecture: 9,
    InstallLocation: 'C:\\Program Files\\WindowsApps\\Microsoft.Office.OneNote_17.6769.57631.0_x64__8wekyb3d8bbwe',
    IsFramework: false,
  };

  it('reads packages, maps Windows PowerShell enum numbers and publisher names, skips frameworks', () => {
    const framework = { ...onenote, Name: 'Microsoft.VCLibs.140.00', IsFramework: true };
    const items = parseAppxJson(JSON.stringify([onenote, framework]));
    expect(items).toEqual([{ name: 'Microsoft.Office.OneNote', version: '17.6769.57631.0', source: 'appx', publisher: 'Microsoft Corporation', arch: 'x64' }]);
    for (const i of items) SoftwareItem.parse(i);
  });

  it('accepts a single object (one package), a BOM, and no output at all (no packages)', () => {
    expect(parseAppxJson(`\uFEFF${JSON.stringify(onenote)}`)).toHaveLength(1);
    expect(parseAppxJson('')).toEqual([]);
  });

  it('names architectures and publishers', () => {
    expect([0, 5, 9, 11, 12, 'X64', undefined].map(appxArch)).toEqual(['x86', 'arm', 'x64', 'neutral', 'arm64', 'x64', undefined]);
    expect(appxPublisher('CN=5E8FC25E-4F20-4E5E-A3E2-25F1A33B7E3D')).toBe('5E8FC25E-4F20-4E5E-A3E2-25F1A33B7E3D');
  });

  it('runs Windows PowerShell without profile, and reports garbage as a failure', async () => {
    const calls: Call[] = [];
    await readAppx(fakeRunner({ 'powershell.exe': { stdout: '[]' } }, calls));
    expect(calls[0]?.args.slice(0, 2)).toEqual(['-NoProfile', '-NonInteractive']);
    expect(calls[0]?.args.at(-1)).toContain('Get-AppxPackage -AllUsers');
    expect((await readAppx(fakeRunner({ 'powershell.exe': { stdout: 'Get-AppxPackage : not recognized' } }))).status).toBe('failed');
  });
});

describe('Windows inventory', () => {
  it('keeps registry programs when Appx fails, and says which source failed', async () => {
    const { log, warnings } = recordingLog();
    const src = {
      platform: 'win32',
      runner: fakeRunner({ reg: (args) => (args[1] === 'HKU' ? { stdout: '' } : { stdout: WOW }), 'powershell.exe': { code: 1, error: 'failed' } }),
      log,
    } as unknown as ProbeSources;
    const inv = await readWin32Software(src);
    expect(Array.isArray(inv.outcome) && inv.outcome.length).toBeGreaterThan(0);
    expect(inv.failedSources).toEqual(['appx']);
    expect(warnings).toHaveLength(1);
  });
});
