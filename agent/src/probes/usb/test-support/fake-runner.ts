import type { CommandResult, CommandRunner, RunOptions } from '../../command-runner.js';

export interface RecordedCall {
  file: string;
  args: readonly string[];
  opts: RunOptions | undefined;
}

/** A runner that answers with captured output and records what the probe asked to run. */
export function fakeRunner(result: Partial<CommandResult>): CommandRunner & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    calls,
    run(file, args, opts) {
      calls.push({ file, args, opts });
      return Promise.resolve({ stdout: '', stderr: '', code: 0, ...result });
    },
  };
}

export const silentLog = { debug() {}, info() {}, warn() {} };
