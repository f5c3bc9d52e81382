import type { CommandResult, CommandRunner } from '../../command-runner.js';
import { recordingRunner, type Call } from '../../test-support/fake-runner.js';

export { silentLog } from '../../test-support/fake-runner.js';

/** One recorded call (the shared `Call`). */
export type RecordedCall = Call;

/** A runner that answers every call with the same captured output and records what the probe asked to run. */
export function fakeRunner(result: Partial<CommandResult>): CommandRunner & { calls: RecordedCall[] } {
  return recordingRunner(() => ({ stdout: '', stderr: '', code: 0, ...result }));
}
