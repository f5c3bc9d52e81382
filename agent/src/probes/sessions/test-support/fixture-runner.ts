import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CommandResult, CommandRunner } from '../../command-runner.js';
import type { ProbeSources } from '../../probe.js';
import { silentLog } from '../../test-support/fake-runner.js';

const FIXTURES = fileURLToPath(new URL('../../../../../test/fixtures/', import.meta.url));

/** A captured output under test/fixtures/<os>/sessions/. */
export const fixture = (os: 'linux' | 'win32' | 'darwin', name: string): string =>
  fs.readFileSync(`${FIXTURES}${os}/sessions/${name}`, 'utf8');

export const ok = (stdout: string): CommandResult => ({ stdout, stderr: '', code: 0 });
export const failed = (stderr: string, code = 1, stdout = ''): CommandResult => ({ stdout, stderr, code, error: 'failed' });
export const notFound: CommandResult = { stdout: '', stderr: '', code: null, error: 'not-found' };

/** A runner answering from `answer(file, args)`, recording every call; unanswered calls fail. */
export function scriptedRunner(answer: (file: string, args: readonly string[]) => CommandResult | undefined) {
  const calls: string[][] = [];
  const runner: CommandRunner = {
    run(file, args) {
      calls.push([file, ...args]);
      return Promise.resolve(answer(file, args) ?? failed(`no fixture for ${file} ${args.join(' ')}`));
    },
  };
  return { runner, calls };
}

/** Sources for a platform whose commands `runner` answers; the log is silent. */
export function sourcesFor(platform: NodeJS.Platform, runner: CommandRunner): ProbeSources {
  return { platform, sysfsRoot: '/nonexistent', dpkgStatus: '/nonexistent', fsRoot: '/nonexistent', runner, log: silentLog };
}
