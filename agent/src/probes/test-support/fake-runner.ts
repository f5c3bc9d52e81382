import type { CommandResult, CommandRunner, RunOptions } from '../command-runner.js';

/**
 * The core every probe's test runner is built on: a `CommandRunner` that never runs anything,
 * answers each call from captured output, and records every call so a test can assert on what the
 * probe asked to run. How a call is answered (one fixed result, by program name, by command line)
 * stays with each probe's test-support, because that is what its tests are written against.
 */

/** One command the probe asked to run. */
export interface Call {
  file: string;
  args: readonly string[];
  opts: RunOptions | undefined;
}

/** A runner answering each call with `answer(call)`; calls are appended to `calls` (given or new). */
export function recordingRunner(answer: (call: Call) => CommandResult, calls: Call[] = []): CommandRunner & { calls: Call[] } {
  return {
    calls,
    run(file, args, opts) {
      const call = { file, args, opts };
      calls.push(call);
      return Promise.resolve(answer(call));
    },
  };
}

/** A probe log that drops everything. */
export const silentLog = { debug() {}, info() {}, warn() {} };
