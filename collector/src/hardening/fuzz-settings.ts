/*
 * How hard the fuzz tests push. The default is a fixed seed and a modest number of runs, so
 * `npm test` is repeatable and quick; a longer campaign sets the environment:
 *   VIGIL_FUZZ_SEED=<integer>   another sequence of cases (a failure prints the seed and path to replay)
 *   VIGIL_FUZZ_RUNS=<factor>    runs multiplied by this (e.g. 20)
 */

const DEFAULT_SEED = 20261207;

export function fuzzSeed(): number {
  const s = Number(process.env.VIGIL_FUZZ_SEED);
  return Number.isSafeInteger(s) ? s : DEFAULT_SEED;
}

export function fuzzRuns(base: number): number {
  const f = Number(process.env.VIGIL_FUZZ_RUNS);
  return Math.max(1, Math.round(base * (Number.isFinite(f) && f > 0 ? f : 1)));
}

const tally = new Map<string, Record<string, number>>();

/** Counts of one fuzz target (cases accepted, refused, …), printed by printFuzzTally. */
export function recordFuzz(target: string, counts: Record<string, number>): void {
  tally.set(target, counts);
}

/** One line per target: what was tried and what became of it. */
export function printFuzzTally(title: string): void {
  const lines = [...tally].map(([t, c]) => `  ${t}: ${Object.entries(c).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  process.stdout.write(`${title} (seed ${fuzzSeed()}):\n${lines.join('\n')}\n`);
}
