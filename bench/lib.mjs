// Helpers shared by the benchmarks: start the real collector as a child process, enrol agents.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { agentEnvelope, PROTOCOL_VERSION } from '@vigil/shared';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ENROL_SECRET = 'bench-enrol-secret-0123456789abcdef';
export const ADMIN_TOKEN = 'vgt_bench-admin-token-0123456789abcdef01';

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vigil-bench-${prefix}-`));
}

export async function startCollector(dataDir, extraArgs = []) {
  const child = spawn(process.execPath, [path.join(ROOT, 'collector/bin/vigil-collector.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--log-format', 'json', ...extraArgs], {
    env: { PATH: process.env.PATH, VIGIL_ENROL_SECRET: ENROL_SECRET, VIGIL_ADMIN_TOKEN: ADMIN_TOKEN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      buf += d;
      const m = /"url":"(http:\/\/[^"]+)","dataDir"/.exec(buf);
      if (m) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.on('exit', (code) => reject(new Error(`collector exited ${code}`)));
  });
  return { child, url, pid: child.pid };
}

export async function enrol(url, hostname) {
  const res = await fetch(`${url}/api/v1/enrol`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      secret: ENROL_SECRET,
      host: { hostname, os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', arch: 'x64' }, agentVersion: '0.1.0' },
    }),
  });
  if (res.status !== 201) throw new Error(`enrol: ${res.status} ${await res.text()}`);
  return res.json();
}

/** An agent's WebSocket after `hello` (seq 0) and the collector's `config` answer: the next seq is 1. */
export function connectAgent(url, creds) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/agent/v1', { headers: { authorization: `Bearer ${creds.agentToken}` }, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify(agentEnvelope('hello', 0, { protocolVersion: PROTOCOL_VERSION, agentVersion: '0.1.0', agentId: creds.agentId })));
      ws.once('message', () => resolve(ws)); // config
    });
  });
}

/** CPU seconds (user+system) of a process from /proc. */
export function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

export function rssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}
