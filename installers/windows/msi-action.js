// Run by the MSI's deferred custom actions with the bundled node.exe (wixl can only run an
// installed file): forwards to install.ps1 / uninstall.ps1 beside the service directory.
//   node msi-action.js install VIGIL_COLLECTOR_URL=… VIGIL_ENROL_SECRET=… VIGIL_CA_CERT=… VIGIL_LOG_LEVEL=…
//   node msi-action.js uninstall [--purge] VIGIL_RETIRE_TOKEN=…
// Arguments go to PowerShell as an array, so an empty property never becomes an empty argument.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const installDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const powershell = path.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe');
const [action, ...rest] = process.argv.slice(2);
if (action !== 'install' && action !== 'uninstall') {
  process.stderr.write('usage: msi-action.js install KEY=value… | uninstall [--purge] [KEY=value…]\n');
  process.exit(2);
}
const script = path.join(installDir, `${action}.ps1`);
const settings = rest.filter((w) => /^VIGIL_[A-Z_]+=/.test(w));
const extra = action === 'install' ? settings : [...(rest.includes('--purge') ? ['-Purge'] : []), ...settings];
const r = spawnSync(powershell, ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', script, '-FromMsi', ...extra], { stdio: 'inherit', windowsHide: true });
process.exit(r.status ?? 1);
