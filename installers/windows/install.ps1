<#
.SYNOPSIS
  Installs (or upgrades) the Vigil agent as a Windows service, silently.

.DESCRIPTION
  Run elevated from the unpacked vigil-agent-<version>-win-x64 directory, or by the MSI (-FromMsi,
  files already in place). Copies the agent to %ProgramFiles%\Vigil\Agent, writes the settings to
  %ProgramData%\Vigil\agent.env, restricts %ProgramData%\Vigil to SYSTEM and Administrators,
  registers the "vigil-agent" service (WinSW) and starts it. An upgrade keeps the agent's identity,
  token and unsent outbox (%ProgramData%\Vigil\agent) and every setting not given again.

  Parameters fall back to the environment variables of the same meaning, as on Linux and macOS.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File install.ps1 -CollectorUrl https://vigil.example.org:8470 -EnrolSecret s3cret
#>
# No positional binding: the MSI's KEY=value words must all land in $MsiSettings.
[CmdletBinding(PositionalBinding = $false)]
param(
  [string]$CollectorUrl = $env:VIGIL_COLLECTOR_URL,
  [string]$EnrolSecret = $env:VIGIL_ENROL_SECRET,
  [string]$CaCert = $env:VIGIL_CA_CERT,
  [string]$LogLevel = $env:VIGIL_LOG_LEVEL,
  # The MSI passes its properties as KEY=value words (never an empty argument, which
  # Windows PowerShell 5.1 drops from a -File command line, shifting the others).
  [switch]$FromMsi,
  [Parameter(ValueFromRemainingArguments = $true)]
  [string[]]$MsiSettings = @()
)

Set-StrictMode -Version 3
$ErrorActionPreference = 'Stop'

$ServiceId = 'vigil-agent'
$InstallDir = Join-Path $env:ProgramFiles 'Vigil\Agent'
$DataDir = Join-Path $env:ProgramData 'Vigil'
$StateDir = Join-Path $DataDir 'agent'
$SettingsFile = Join-Path $DataDir 'agent.env'
$LogDir = Join-Path $DataDir 'logs'
if ($FromMsi) {
  # The MSI installed the files wherever INSTALLDIR pointed; this script is among them.
  $InstallDir = $PSScriptRoot
  foreach ($word in $MsiSettings) {
    $key, $value = $word -split '=', 2
    if (-not $value) { continue }
    switch ($key) {
      'VIGIL_COLLECTOR_URL' { $CollectorUrl = $value }
      'VIGIL_ENROL_SECRET' { $EnrolSecret = $value }
      'VIGIL_CA_CERT' { $CaCert = $value }
      'VIGIL_LOG_LEVEL' { $LogLevel = $value }
      default { throw "vigil-agent: unknown setting $key" }
    }
  }
}
$WinSW = Join-Path $InstallDir 'service\vigil-agent-service.exe'

function Assert-Administrator {
  $principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
  if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'vigil-agent: install.ps1 must run as Administrator (or SYSTEM).'
  }
}

# SYSTEM (S-1-5-18) and Administrators (S-1-5-32-544) only, inherited by everything below;
# SIDs rather than names, which are localised.
function Set-PrivateAcl([string]$Path) {
  & icacls.exe $Path /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' /q | Out-Null
  if ($LASTEXITCODE -ne 0) { throw "vigil-agent: icacls failed on $Path ($LASTEXITCODE)" }
}

function Read-Settings([string]$Path) {
  $settings = [ordered]@{}
  if (Test-Path -LiteralPath $Path) {
    foreach ($line in Get-Content -LiteralPath $Path) {
      if ($line -match '^([A-Za-z_][A-Za-z0-9_]*)=(.*)$') {
        $value = $Matches[2]
        if ($value.Length -ge 2 -and $value.StartsWith('"') -and $value.EndsWith('"')) {
          $value = $value.Substring(1, $value.Length - 2) -replace '\\(.)', '$1'
        }
        $settings[$Matches[1]] = $value
      }
    }
  }
  return $settings
}

function Write-Settings([string]$Path, $Settings) {
  $lines = @('# Vigil agent settings (SYSTEM and Administrators only). After editing: Restart-Service vigil-agent')
  foreach ($key in $Settings.Keys) {
    $value = [string]$Settings[$key]
    if ($value -match '[\r\n]') { throw "vigil-agent: $key must be a single line" }
    $escaped = $value -replace '([\\"])', '\$1'
    $lines += "$key=""$escaped"""
  }
  $tmp = "$Path.tmp"
  Set-Content -LiteralPath $tmp -Value $lines -Encoding ASCII
  Move-Item -LiteralPath $tmp -Destination $Path -Force
}

Assert-Administrator

# Stop a running agent first (an upgrade): it says goodbye and keeps its outbox on disk.
$existing = Get-Service -Name $ServiceId -ErrorAction SilentlyContinue
if ($existing -and $existing.Status -ne 'Stopped') {
  Stop-Service -Name $ServiceId -Force
  $existing.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(30))
}

if (-not $FromMsi) {
  $source = $PSScriptRoot
  if ((Resolve-Path $source).Path.TrimEnd('\') -ne $InstallDir.TrimEnd('\')) {
    New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
    foreach ($part in 'node', 'app', 'service') {
      $target = Join-Path $InstallDir $part
      if (Test-Path -LiteralPath $target) { Remove-Item -LiteralPath $target -Recurse -Force }
      Copy-Item -LiteralPath (Join-Path $source $part) -Destination $target -Recurse -Force
    }
    Copy-Item -LiteralPath (Join-Path $source 'uninstall.ps1') -Destination $InstallDir -Force
    Copy-Item -LiteralPath (Join-Path $source 'install.ps1') -Destination $InstallDir -Force
  }
}

foreach ($dir in $DataDir, $StateDir, $LogDir) { New-Item -ItemType Directory -Force -Path $dir | Out-Null }
Set-PrivateAcl $DataDir

$settings = Read-Settings $SettingsFile
if ($CollectorUrl) {
  if ($CollectorUrl -notmatch '^https?://.') { throw 'vigil-agent: VIGIL_COLLECTOR_URL must be an http:// or https:// URL' }
  $settings['VIGIL_COLLECTOR_URL'] = $CollectorUrl
}
if ($EnrolSecret) { $settings['VIGIL_ENROL_SECRET'] = $EnrolSecret }
if ($CaCert) {
  if (-not (Select-String -LiteralPath $CaCert -Pattern '-----BEGIN CERTIFICATE-----' -Quiet)) {
    throw "vigil-agent: VIGIL_CA_CERT: $CaCert is not a PEM certificate"
  }
  $caTarget = Join-Path $DataDir 'ca.pem'
  if ((Resolve-Path -LiteralPath $CaCert).Path -ne $caTarget) { Copy-Item -LiteralPath $CaCert -Destination $caTarget -Force }
  $settings['VIGIL_CA_CERT'] = $caTarget
}
if ($LogLevel) { $settings['VIGIL_LOG_LEVEL'] = $LogLevel }
Write-Settings $SettingsFile $settings
Set-PrivateAcl $DataDir

if (-not (Get-Service -Name $ServiceId -ErrorAction SilentlyContinue)) {
  & $WinSW install | Out-Null
  if ($LASTEXITCODE -ne 0) { throw "vigil-agent: registering the service failed ($LASTEXITCODE)" }
}
# If WinSW itself dies, the service control manager restarts it too.
& sc.exe failure $ServiceId reset= 86400 actions= restart/10000/restart/10000/restart/60000 | Out-Null

# The per-session helper for lock/idle (agent/src/probes/sessions/WINDOWS.md) does not exist yet:
# no logon task is registered until it does.

if ($settings.Contains('VIGIL_COLLECTOR_URL')) {
  Start-Service -Name $ServiceId
  Write-Output "vigil-agent: installed and started ($InstallDir)"
} else {
  Write-Warning "vigil-agent: installed but not configured: run install.ps1 -CollectorUrl <url> -EnrolSecret <secret>"
}
