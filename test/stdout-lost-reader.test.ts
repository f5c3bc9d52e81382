import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, COLLECTOR_BIN, ENROL_SECRET, freePort, tempDir } from './support/processes.js';

/**
 * A collector whose stdout pipe lost its reader must still stop on SIGTERM. It did not: with the
 * pipe full, pino's exit-time flushSync (and, with gateway workers, which had made the shared pipe
 * blocking, a plain write(2)) never returned, and a second SIGTERM was ignored as well.
 */
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function start(workers: number, port: number): ChildProcess {
  const child = spawn(process.execPath, [COLLECTOR_BIN, 'serve', '--port', String(port), '--data-dir', tempDir('stdout-reader'), '--log-format', 'json', '--gateway-workers', String(workers)], {
    env: { PATH: process.env.PATH ?? '', VIGIL_ENROL_SECRET: ENROL_SECRET, VIGIL_ADMIN_TOKEN: ADMIN_TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

async function ready(child: ChildProcess): Promise<void> {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('"vigil collector ready"')) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', () => reject(new Error(`exited before ready: ${out}`)));
  });
}

/** Milliseconds from SIGTERM to exit, or null if it was still running after `limitMs` (then SIGKILLed). */
async function timeToExit(child: ChildProcess, limitMs: number): Promise<{ ms: number | null; code: number | null }> {
  const started = Date.now();
  const exited = new Promise<{ code: number | null }>((resolve) => child.once('exit', (code) => resolve({ code })));
  child.kill('SIGTERM');
  const second = setTimeout(() => child.kill('SIGTERM'), limitMs / 2);
  const r = await Promise.race([exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), limitMs))]);
  clearTimeout(second);
  if (r === null) {
    child.kill('SIGKILL');
    return { ms: null, code: null };
  }
  return { ms: Date.now() - started, code: r.code };
}

describe('a collector whose stdout nobody reads', () => {
  for (const workers of [0, 2]) {
    it(`stops on SIGTERM with the pipe full (${workers} gateway workers)`, async () => {
      const port = await freePort();
      const child = start(workers, port);
      await ready(child);
      // The reader stops reading; each request logs two lines until the pipe (and its socket buffers) fill.
      child.stdout!.pause();
      const long = 'x'.repeat(1500);
      for (let i = 0; i < 400; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/readyz?pad=${long}`);
        await res.arrayBuffer();
      }
      const { ms, code } = await timeToExit(child, 8000);
      process.stdout.write(`stdout full, ${workers} gateway workers: SIGTERM to exit ${ms === null ? 'never (SIGKILLed after 8 s and a second SIGTERM)' : `${ms} ms`}\n`);
      expect(ms, 'the collector ignored SIGTERM (twice) with its stdout full').not.toBeNull();
      expect(ms!).toBeLessThan(5000);
      expect(code).toBe(0);
    }, 60_000);

    it(`stops on SIGTERM after the reading end is closed (${workers} gateway workers)`, async () => {
      const port = await freePort();
      const child = start(workers, port);
      await ready(child);
      child.stdout!.destroy();
      for (let i = 0; i < 50; i++) await (await fetch(`http://127.0.0.1:${port}/readyz`)).arrayBuffer();
      const { ms, code } = await timeToExit(child, 8000);
      process.stdout.write(`stdout reader gone, ${workers} gateway workers: SIGTERM to exit ${ms === null ? 'never' : `${ms} ms`}\n`);
      expect(ms, 'the collector ignored SIGTERM with its stdout reader gone').not.toBeNull();
      expect(ms!).toBeLessThan(5000);
      expect(code).toBe(0);
    }, 60_000);
  }
});
