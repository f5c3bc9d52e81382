import type { SoftwareItem } from '@vigil/shared/agent';
import type { CommandRunner } from '../command-runner.js';
import { pushItem } from './software-item.js';
import { commandProblem, type SourceResult } from './source-result.js';

/**
 * MSIX/Store (Appx) packages of every user, from Windows PowerShell:
 * `Get-AppxPackage -AllUsers | Select-Object … | ConvertTo-Json`. Output is forced to UTF-8
 * (the console code page would mangle non-ASCII names). Framework packages (VCLibs, .NET
 * Native runtimes…) are dependencies, not software anyone installs, and are left out.
 */
export const APPX_SCRIPT =
  '[Console]::OutputEncoding = [System.Text.Encoding]::UTF8; ' +
  'Get-AppxPackage -AllUsers | Select-Object Name,Version,Publisher,Architecture,InstallLocation,IsFramework | ConvertTo-Json -Compress';

/** Windows.System.ProcessorArchitecture, which Windows PowerShell 5.1's ConvertTo-Json writes as a number. */
const ARCH_BY_NUMBER: Record<number, string> = { 0: 'x86', 5: 'arm', 9: 'x64', 11: 'neutral', 12: 'arm64', 14: 'x86a64' };

export function appxArch(value: unknown): string | undefined {
  if (typeof value === 'number') return ARCH_BY_NUMBER[value];
  if (typeof value === 'string' && value !== '') return value.toLowerCase();
  return undefined;
}

/** The organisation (O=) of a publisher distinguished name, else its common name, else the name as given. */
export function appxPublisher(dn: unknown): string | undefined {
  if (typeof dn !== 'string' || dn.trim() === '') return undefined;
  const attr = (k: string) => new RegExp(`(?:^|,)\\s*${k}=("[^"]*"|[^,]*)`, 'i').exec(dn)?.[1]?.replace(/^"|"$/g, '').trim();
  return attr('O') || attr('CN') || dn.trim();
}

/** A version as a string, or the `{Major, Minor, Build, Revision}` object some serialisers produce. */
function appxVersion(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const parts = [o.Major, o.Minor, o.Build, o.Revision];
    if (parts.every((p) => typeof p === 'number')) return parts.join('.');
  }
  return '';
}

/** Parse ConvertTo-Json output: an array, a single object (one package), or nothing (none). */
export function parseAppxJson(text: string): SoftwareItem[] {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') return [];
  const parsed: unknown = JSON.parse(trimmed);
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const items: SoftwareItem[] = [];
  for (const p of list) {
    if (!p || typeof p !== 'object') continue;
    const pkg = p as Record<string, unknown>;
    if (pkg.IsFramework === true) continue;
    pushItem(items, {
      name: typeof pkg.Name === 'string' ? pkg.Name : undefined,
      version: appxVersion(pkg.Version),
      source: 'appx',
      publisher: appxPublisher(pkg.Publisher),
      arch: appxArch(pkg.Architecture),
    });
  }
  return items;
}

export async function readAppx(runner: CommandRunner): Promise<SourceResult> {
  const res = await runner.run('powershell.exe', ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', APPX_SCRIPT], {
    timeoutMs: 120_000,
    maxBytes: 64 * 1024 * 1024,
  });
  const problem = commandProblem(res, 'Get-AppxPackage');
  if (problem === 'absent') return { source: 'appx', status: 'absent' };
  if (problem) return { source: 'appx', status: 'failed', reason: problem };
  try {
    return { source: 'appx', status: 'ok', items: parseAppxJson(res.stdout) };
  } catch {
    return { source: 'appx', status: 'failed', reason: 'Get-AppxPackage output is not JSON' };
  }
}
