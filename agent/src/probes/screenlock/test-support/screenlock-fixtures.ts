import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { expect } from 'vitest';
import { ScreenlockSetting } from '@vigil/shared';
import type { CommandResult, CommandRunner } from '../../command-runner.js';
import type { ProbeSources } from '../../probe.js';
import { recordingRunner, type Call } from '../../test-support/fake-runner.js';

/**
 * Helpers for the screen-lock tests: real captured output from test/fixtures, a runner that
 * answers commands from those captures (and records what was asked), and fake filesystem roots.
 */

const FIXTURES = fileURLToPath(new URL('../../../../../test/fixtures/', import.meta.url));

/** Text of a fixture file, e.g. `linux/screenlock/gsettings/defaults/idle-delay.stdout`. */
export function fixture(rel: string): string {
  return fs.readFileSync(path.join(FIXTURES, rel), 'utf8');
}

export const ok = (stdout: string, stderr = ''): CommandResult => ({ stdout, stderr, code: 0 });
export const exit = (code: number, stderr: string, stdout = ''): CommandResult => ({ stdout, stderr, code, error: 'failed' });
export const notFound = (): CommandResult => ({ stdout: '', stderr: '', code: null, error: 'not-found' });
export const timedOut = (): CommandResult => ({ stdout: '', stderr: '', code: null, error: 'timeout' });

export type { Call } from '../../test-support/fake-runner.js';

/**
 * A runner answering from `answer(commandLine)`, where the command line is the file and its
 * arguments joined by single spaces. An unanswered command is recorded and fails the test.
 */
export function fakeRunner(answer: (line: string, call: Call) => CommandResult | undefined): CommandRunner & { calls: Call[]; unexpected: string[] } {
  const unexpected: string[] = [];
  const runner = recordingRunner((call) => {
    const line = [call.file, ...call.args].join(' ');
    const r = answer(line, call);
    if (!r) unexpected.push(line);
    return r ?? { stdout: '', stderr: 'unexpected command in test', code: 2, error: 'failed' };
  });
  return Object.assign(runner, { unexpected });
}

const roots: string[] = [];

/** A fake filesystem root holding the given files (`''` content for a marker such as a binary). */
export function fakeRoot(files: Record<string, string> = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-screenlock-'));
  roots.push(root);
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
  return root;
}

export function removeFakeRoots(): void {
  for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
}

export function sources(platform: NodeJS.Platform, fsRoot: string, runner: CommandRunner): ProbeSources {
  return { platform, fsRoot, runner, sysfsRoot: path.join(fsRoot, 'sys'), dpkgStatus: path.join(fsRoot, 'var/lib/dpkg/status'), log: pino({ level: 'silent' }) };
}

/** Every setting must pass the schema the collector applies. */
export function expectValid(settings: unknown): void {
  expect(Array.isArray(settings)).toBe(true);
  for (const s of settings as unknown[]) expect(() => ScreenlockSetting.parse(s)).not.toThrow();
}
