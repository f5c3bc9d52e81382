import type { ScreenlockSetting } from '@vigil/shared/agent';
import type { CommandResult } from '../command-runner.js';

/**
 * Building blocks shared by the per-OS screen-lock readers: typed facts (known with where from,
 * or unknown with why), the all-unknown setting, and the small parsers every OS needs.
 */

export type BoolFact = ScreenlockSetting['enabled'];
export type SecondsFact = ScreenlockSetting['idleTimeoutSeconds'];
export type Fact<T> = { status: 'known'; value: T; source: string } | { status: 'unknown'; reason: string };

/** Largest number of seconds reported (68 years); anything above is treated as garbage. */
export const MAX_SECONDS = 2_147_483_647;

export const known = <T>(value: T, source: string): Fact<T> => ({ status: 'known', value, source: source.slice(0, 256) });

export const unknownFact = <T>(reason: string): Fact<T> => ({ status: 'unknown', reason: reason.slice(0, 2000) });

/** A user label as the schema accepts it (≤ 128 characters, no control characters). */
export function userLabel(name: string): string {
  return printable(name, 128) || '(unnamed)';
}

/** Untrusted text made safe to quote in a reason or source: control characters dropped, length capped. */
export function printable(text: string, max = 120): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Every field unknown for one reason: the whole setting could not be read. */
export function allUnknown(user: string, reason: string, desktop?: string): ScreenlockSetting {
  const why = unknownFact<never>(reason) as { status: 'unknown'; reason: string };
  return {
    user: userLabel(user),
    ...(desktop ? { desktop: printable(desktop, 128) } : {}),
    enabled: why,
    idleTimeoutSeconds: why,
    graceSeconds: why,
    passwordRequired: why,
  };
}

/** A whole, non-negative decimal number of seconds (or minutes) within range, else undefined. */
export function parseWholeNumber(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d{1,10}$/.test(t)) return undefined;
  const n = Number(t);
  return n <= MAX_SECONDS ? n : undefined;
}

/** First line of a command's complaint, for a reason string. */
export function firstLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return printable(line);
}

/** Why a command gave no usable answer, in words (never the whole output). */
export function commandFailure(label: string, r: CommandResult, timeoutMs: number): string {
  if (r.error === 'not-found') return `${label}: command not found`;
  if (r.error === 'timeout') return `${label}: no answer within ${Math.round(timeoutMs / 1000)} s`;
  const said = firstLine(r.stderr) || firstLine(r.stdout);
  return `${label}: exited ${r.code ?? 'abnormally'}${said ? ` (${said})` : ''}`;
}
