#!/usr/bin/env node
// `npm start`: the embedded single-machine default — the collector on its SQLite file under
// ./data, and one local agent enrolled to it, reporting this machine.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// The agent's node runs with the flags every installer gives it.
import { AGENT_NODE_FLAGS } from '../installers/dist/agent-tree.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const dataDir = path.resolve(env.VIGIL_DATA_DIR ?? 'data');
const stateDir = path.resolve(env.VIGIL_STATE_DIR ?? path.join(dataDir, 'agent'));
const host = env.VIGIL_HOST ?? '127.0.0.1';
const port = env.VIGIL_PORT ?? '8470';
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });

// The local agent and the collector share one enrolment secret, kept beside the database (0600)
// so that a later start, or a re-enrolment after data/agent is removed, still matches.
const secretFile = path.join(dataDir, 'local-enrol-secret');
let enrolSecret = env.VIGIL_ENROL_SECRET;
if (!enrolSecret) {
  try {
    enrolSecret = fs.readFileSync(secretFile, 'utf8').trim();
  } catch {
    enrolSecret = `vge_${randomBytes(32).toString('base64url')}`;
    fs.writeFileSync(secretFile, `${enrolSecret}\n`, { mode: 0o600 });
  }
}

const children = new Set();
function run(name, args, extraEnv) {
  const child = spawn(process.execPath, args, { cwd: process.cwd(), env: { ...env, ...extraEnv }, stdio: 'inherit' });
  children.add(child);
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) {
      process.stderr.write(`vigil: the ${name} exited (${signal ?? code}); stopping\n`);
      stop(code || 1);
    } else if (children.size === 0) process.exit(exitCode);
  });
  return child;
}

let stopping = false;
let exitCode = 0;
let agent;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  // The agent first, so it can say goodbye to a collector that is still there.
  if (agent && children.has(agent)) {
    agent.once('exit', () => collector.kill('SIGTERM'));
    agent.kill('SIGTERM');
  } else collector.kill('SIGTERM');
  if (children.size === 0) process.exit(exitCode);
  setTimeout(() => process.exit(exitCode || 1), 10_000).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

const collector = run('collector', [path.join(root, 'collector/bin/vigil-collector.js'), 'serve'], {
  VIGIL_DATA_DIR: dataDir,
  VIGIL_ENROL_SECRET: enrolSecret,
});

function healthy() {
  return new Promise((resolve) => {
    const req = http.get(`${url}/healthz`, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

const deadline = Date.now() + 30_000;
while (!(await healthy())) {
  if (stopping) break;
  if (Date.now() > deadline) {
    process.stderr.write(`vigil: the collector did not answer on ${url} within 30 s\n`);
    stop(1);
    break;
  }
  await new Promise((r) => setTimeout(r, 150));
}
if (!stopping) {
  agent = run('agent', [...AGENT_NODE_FLAGS, path.join(root, 'agent/bin/vigil-agent.js'), 'run'], {
    VIGIL_COLLECTOR_URL: url,
    VIGIL_STATE_DIR: stateDir,
    VIGIL_ENROL_SECRET: enrolSecret,
  });
  process.stdout.write(
    [
      '',
      `Vigil is running: collector ${url}, database ${path.join(dataDir, 'vigil.db')}, local agent state ${stateDir}`,
      `  hosts:   curl -s -H "Authorization: Bearer $VIGIL_API_TOKEN" ${url}/api/v1/hosts`,
      '  token:   the admin API token printed above on first run, or: npx vigil-collector token create --role admin',
      '  stop:    Ctrl-C',
      '',
    ].join('\n'),
  );
}
