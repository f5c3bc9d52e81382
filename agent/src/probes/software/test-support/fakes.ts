import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandResult, CommandRunner, RunOptions } from '../../command-runner.js';
import type { ProbeSources } from '../../probe.js';
import { recordingRunner, type Call } from '../../test-support/fake-runner.js';

/** Fixture folders of real captured output, per OS. */
export const fixtureDir = (os: 'linux' | 'win32' | 'darwin') =>
  fileURLToPath(new URL(`../../../../../test/fixtures/${os}/software/`, import.meta.url));

export const readFixture = (os: 'linux' | 'win32' | 'darwin', name: string) => readFileSync(path.join(fixtureDir(os), name), 'utf8');

export type { Call } from '../../test-support/fake-runner.js';

export type Answer = Partial<CommandResult> | ((args: readonly string[], opts: RunOptions | undefined) => Partial<CommandResult>);

/**
 * A runner that answers by program name (the basename of `file`) with captured output, records
 * every call, and treats any program it was not told about as not installed.
 */
export function fakeRunner(answers: Record<string, Answer>, calls: Call[] = []): CommandRunner {
  return recordingRunner(({ file, args, opts }) => {
    const answer = answers[path.basename(file)];
    if (answer === undefined) return { stdout: '', stderr: '', code: null, error: 'not-found' };
    const partial = typeof answer === 'function' ? answer(args, opts) : answer;
    return { stdout: '', stderr: '', code: 0, ...partial };
  }, calls);
}

/** A logger that keeps warnings so tests can assert on them. */
export function recordingLog(): { log: ProbeSources['log']; warnings: unknown[][] } {
  const warnings: unknown[][] = [];
  const log = {
    debug: () => undefined,
    info: () => undefined,
    warn: (...args: unknown[]) => {
      warnings.push(args);
    },
  } as unknown as ProbeSources['log'];
  return { log, warnings };
}
