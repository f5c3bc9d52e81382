// vigil-agent-retire.cjs, run with the bundled node (/opt/vigil-agent/node/bin/node): tells the collector that this host is retired (its agent tokens revoked, its
// open alerts closed, its licence seats freed), as `vigil-collector agent revoke <hostId>` does.
// Run by the uninstall scripts when VIGIL_RETIRE_TOKEN (an admin API token, given for this only)
// is set; the collector URL and host id come from the agent's state. A CA given at install time is
// trusted through NODE_EXTRA_CA_CERTS, which the caller sets. Exit 0 retired, 1 failed, 2 usage.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: a plain script the bundled node runs outside any package */
const fs = require('node:fs');
const path = require('node:path');

async function main() {
  const token = process.env.VIGIL_RETIRE_TOKEN;
  const stateDir = process.env.VIGIL_STATE_DIR || '/var/lib/vigil-agent';
  if (!token) {
    process.stderr.write('vigil-agent-retire: set VIGIL_RETIRE_TOKEN to an admin API token\n');
    return 2;
  }
  let creds;
  try {
    creds = JSON.parse(fs.readFileSync(path.join(stateDir, 'agent.json'), 'utf8'));
  } catch (e) {
    process.stderr.write(`vigil-agent-retire: this host never enrolled (${e.code || e.message})\n`);
    return 1;
  }
  const url = `${String(creds.collectorUrl).replace(/\/+$/, '')}/api/v1/hosts/${encodeURIComponent(creds.hostId)}/revoke`;
  try {
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15000) });
    if (!res.ok) {
      process.stderr.write(`vigil-agent-retire: the collector answered ${res.status}\n`);
      return 1;
    }
  } catch (e) {
    process.stderr.write(`vigil-agent-retire: cannot reach the collector: ${e.cause?.code || e.message}\n`);
    return 1;
  }
  process.stdout.write(`vigil-agent: host ${creds.hostId} retired at the collector\n`);
  return 0;
}

main().then((code) => process.exit(code));
