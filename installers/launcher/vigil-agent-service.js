// Starts the Vigil agent as a service on Windows and macOS: reads the settings file the installer
// wrote (KEY="value" lines, readable by SYSTEM/Administrators or root only), puts its VIGIL_*
// settings into the environment, and runs `vigil-agent <args>`. On Linux systemd reads the same
// file format itself (EnvironmentFile=). Plain JavaScript: it ships as is in the artefacts.
//
//   node vigil-agent-service.js <settings-file> run
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Parses `KEY=value`, `KEY="value"` (with \" and \\ escapes) and `KEY='value'` lines; `#` comments. */
export function parseEnvFile(text) {
  const out = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    out[m[1]] = value;
  }
  return out;
}

async function main() {
  const [file, ...args] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: vigil-agent-service <settings-file> run\n');
    process.exit(2);
  }
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  for (const [k, v] of Object.entries(parseEnvFile(text))) if (k.startsWith('VIGIL_')) process.env[k] = v;
  const agentBin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'app', 'bin', 'vigil-agent.js');
  process.argv = [process.argv[0], agentBin, ...args];
  await import(pathToFileURL(agentBin).href);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
