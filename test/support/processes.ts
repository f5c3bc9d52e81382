import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const COLLECTOR_BIN = path.join(ROOT, 'collector/bin/vigil-collector.js');
export const AGENT_BIN = path.join(ROOT, 'agent/bin/vigil-agent.js');
export const ENROL_SECRET = 'e2e-enrol-secret-0123456789abcdef';
export const ADMIN_TOKEN = 'vgt_e2e-admin-token-0123456789abcdef0123';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `vigil-${prefix}-`));
}

/** A free loopback port (so a restarted collector can come back on the same one). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Proc {
  child: ChildProcess;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first log line matching, or rejects after timeoutMs. */
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function startProcess(bin: string, args: string[], env: Record<string, string>): Proc {
  return startExecutable(process.execPath, [bin, ...args], env);
}

/** Like startProcess, for an executable that is not a script of this repository (an installed agent). */
export function startExecutable(file: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(file, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  let partial = '';
  const logs: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    out += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line));
      } catch {
        // not a log line
      }
    }
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      for (const l of listeners) l();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    logs,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLog(pred, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = logs.find(pred);
          if (hit) {
            done();
            resolve(hit);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`process exited before the log line\nstdout:\n${out.slice(-3000)}\nstderr:\n${err.slice(-3000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for a log line\nstdout:\n${out.slice(-3000)}\nstderr:\n${err.slice(-3000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface CollectorProc extends Proc {
  url: string;
}

export async function startCollector(opts: { dataDir: string; port: number; env?: Record<string, string>; args?: string[] }): Promise<CollectorProc> {
  const p = startProcess(COLLECTOR_BIN, ['serve', '--port', String(opts.port), '--data-dir', opts.dataDir, '--log-format', 'json', ...(opts.args ?? [])], {
    VIGIL_ENROL_SECRET: ENROL_SECRET,
    VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
    ...opts.env,
  });
  const ready = await p.waitForLog((l) => l.msg === 'vigil collector ready');
  return Object.assign(p, { url: String(ready.url) });
}

export function startAgent(opts: { stateDir: string; url: string; env?: Record<string, string>; args?: string[] }): Proc {
  return startProcess(AGENT_BIN, ['run', '--log-format', 'json', ...(opts.args ?? [])], {
    VIGIL_COLLECTOR_URL: opts.url,
    VIGIL_STATE_DIR: opts.stateDir,
    VIGIL_ENROL_SECRET: ENROL_SECRET,
    VIGIL_RECONNECT_MAX_SECONDS: '1',
    ...opts.env,
  });
}

export async function api<T = unknown>(url: string, pathname: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${pathname}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.headers ?? {}) } });
  return { status: res.status, body: (await res.json()) as T };
}

/** Poll `fn` until it returns a truthy value or time runs out. */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
