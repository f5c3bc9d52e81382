import { execFile } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when killed (timeout) or not startable. */
  code: number | null;
  /** Set when the command could not run at all (ENOENT: not installed) or timed out. */
  error?: 'not-found' | 'timeout' | 'failed';
}

export interface RunOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Run as this user (Linux/macOS, when the agent runs as root): reading a user's own settings. */
  uid?: number;
  gid?: number;
  maxBytes?: number;
}

/**
 * Runs OS commands for the probes. Injected everywhere, so tests feed real captured output
 * through the real parsers instead of running commands that do not exist here.
 */
export interface CommandRunner {
  run(file: string, args: readonly string[], opts?: RunOptions): Promise<CommandResult>;
}

/** Where commands are looked up when a probe gives its own environment (running as a user). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The real runner: execFile (no shell), bounded in time and output. `basePath` is the PATH
 * given to commands run with their own environment (main.ts passes the agent's own PATH).
 */
export function createCommandRunner(basePath: string = DEFAULT_PATH): CommandRunner {
  return {
    run(file, args, opts = {}) {
      return new Promise((resolve) => {
        execFile(
          file,
          [...args],
          {
            timeout: opts.timeoutMs ?? 15_000,
            maxBuffer: opts.maxBytes ?? 32 * 1024 * 1024,
            windowsHide: true,
            encoding: 'utf8',
            ...(opts.env ? { env: { PATH: basePath, ...opts.env } } : {}),
            ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
            ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
          },
          (err, stdout, stderr) => {
            if (!err) return resolve({ stdout, stderr, code: 0 });
            const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
            if (e.code === 'ENOENT') return resolve({ stdout: '', stderr: '', code: null, error: 'not-found' });
            if (e.killed) return resolve({ stdout, stderr, code: null, error: 'timeout' });
            resolve({ stdout, stderr, code: typeof e.code === 'number' ? e.code : null, error: 'failed' });
          },
        );
      });
    },
  };
}

/** A runner with the default PATH (benchmarks, tools). */
export const systemRunner: CommandRunner = createCommandRunner();
