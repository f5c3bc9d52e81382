/** Turning a command that gave no usable answer into the reason an `unknown` carries. */
import type { CommandResult } from '../command-runner.js';

/** The first lines a failed command printed, on one line, for a reason string. */
export function firstLines(text: string, lines = 2): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(0, lines)
    .join(' ')
    .slice(0, 500);
}

/** Whether a command ran and exited 0. */
export const succeeded = (r: CommandResult): boolean => r.error === undefined && r.code === 0;

/**
 * Why a command gave no usable answer, in words an analyst can act on: not installed, timed out,
 * or its exit code with what it printed.
 */
export function describeFailure(command: string, r: CommandResult): string {
  if (r.error === 'not-found') return `${command} is not installed`;
  if (r.error === 'timeout') return `${command} timed out`;
  const said = firstLines(r.stderr) || firstLines(r.stdout);
  return `${command} failed (exit ${r.code ?? 'none'})${said ? `: ${said}` : ''}`;
}
