<#
.SYNOPSIS
  Removes the Vigil agent service and its files, silently.

.DESCRIPTION
  Stops the "vigil-agent" service (the agent says goodbye to the collector), unregisters it and
  removes %ProgramFiles%\Vigil\Agent. The agent's identity, token, outbox and settings in
  %ProgramData%\Vigil are kept unless -Purge is given (or VIGIL_PURGE=1), so that reinstalling
  keeps the same host. With -FromMsi the MSI removes the program files itself.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File "C:\Program Files\Vigil\Agent\uninstall.ps1" -Purge
#>
[CmdletBinding(PositionalBinding = $false)]
param(
  [switch]$Purge = ($env:VIGIL_PURGE -eq '1'),
  # An admin API token: also retire the host at the collector (tokens revoked, alerts closed).
  [string]$RetireToken = $env:VIGIL_RETIRE_TOKEN,
  [switch]$FromMsi,
  [Parameter(ValueFromRemainingArguments = $true)]
  [string[]]$MsiSettings = @()
)

Set-StrictMode -Version 3
$ErrorActionPreference = 'Stop'

$ServiceId = 'vigil-agent'
$InstallDir = Join-Path $env:ProgramFiles 'Vigil\Agent'
$DataDir = Join-Path $env:ProgramData 'Vigil'
if ($FromMsi) {
  $InstallDir = $PSScriptRoot
  foreach ($word in $MsiSettings) {
    $key, $value = $word -split '=', 2
    if ($key -eq 'VIGIL_RETIRE_TOKEN' -and $value) { $RetireToken = $value }
  }
}
$WinSW = Join-Path $InstallDir 'service\vigil-agent-service.exe'

$service = Get-Service -Name $ServiceId -ErrorAction SilentlyContinue
if ($service) {
  if ($service.Status -ne 'Stopped') {
    Stop-Service -Name $ServiceId -Force
    $service.WaitForStatus('Stopped', [TimeSpan]::FromSeconds(30))
  }
  if (Test-Path -LiteralPath $WinSW) {
    & $WinSW uninstall | Out-Null
  } else {
    & sc.exe delete $ServiceId | Out-Null
  }
}

if ($RetireToken) {
  try {
    $creds = Get-Content -Raw -LiteralPath (Join-Path $DataDir 'agent\agent.json') | ConvertFrom-Json
    $uri = $creds.collectorUrl.TrimEnd('/') + '/api/v1/hosts/' + [uri]::EscapeDataString($creds.hostId) + '/revoke'
    Invoke-RestMethod -Method Post -Uri $uri -Headers @{ Authorization = "Bearer $RetireToken" } -TimeoutSec 15 | Out-Null
    Write-Output "vigil-agent: host $($creds.hostId) retired at the collector"
  } catch {
    # A collector out of reach must not stop the removal.
    Write-Warning "vigil-agent: the host was not retired at the collector: $($_.Exception.Message)"
  }
}

if (-not $FromMsi -and (Test-Path -LiteralPath $InstallDir)) {
  # This script may live there: PowerShell has read it already.
  Remove-Item -LiteralPath $InstallDir -Recurse -Force
}
if ($Purge -and (Test-Path -LiteralPath $DataDir)) {
  Remove-Item -LiteralPath $DataDir -Recurse -Force
}
Write-Output 'vigil-agent: removed'
