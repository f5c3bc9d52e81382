import { createHash, createHmac } from 'node:crypto';
import { SAMPLE_ALGORITHM } from '@vigil/shared';

/**
 * The verifiable sampling algorithm, `vigil-hmac-sha256-v1` (README "Audits" says how to
 * re-derive a sample with any tool). Pure: no I/O, no clock, no randomness.
 *
 * 1. Each host's rank key is HMAC-SHA256(key = seed as UTF-8, message = host id as UTF-8), in
 *    lowercase hex.
 * 2. Unstratified: sort the population by rank key (lowest first; equal keys, which do not occur
 *    in practice, by host id) and take the first n.
 * 3. Stratified: split the population by stratum. Proportional: stratum s gets floor(n·Nₛ/N);
 *    the seats left over go one each to the strata with the largest remainders (n·Nₛ mod N),
 *    ties to the larger stratum, then to the stratum name in code-point order. Fixed: each
 *    stratum gets min(k, Nₛ). Each stratum is ranked as in 2 and its first nₛ taken.
 *
 * The population and sample hashes are SHA-256 over canonical text: one line per host,
 * `<host id>\t<stratum>\n`, population sorted by host id, sample in sample order (by stratum name,
 * then rank).
 */
export const ALGORITHM = SAMPLE_ALGORITHM;

/** The stratum of every host in an unstratified audit. */
export const ALL_STRATUM = 'all';

export interface PopulationMember {
  hostId: string;
  stratum: string;
}

export interface SampledMember extends PopulationMember {
  /** 1-based within its stratum. */
  rank: number;
  hmac: string;
}

export type Allocation = { kind: 'size'; size: number } | { kind: 'fixed'; perStratum: number };

export function rankKey(seed: string, hostId: string): string {
  return createHmac('sha256', Buffer.from(seed, 'utf8')).update(hostId, 'utf8').digest('hex');
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Sample size from a percentage of the population: rounded up, at least one. */
export function sizeFromPercent(percent: number, populationSize: number): number {
  // Integer arithmetic on hundredths of a percent, so 10 % of 30 is 3, not 3.0000000000000004 → 4.
  const hundredths = Math.round(percent * 100);
  return Math.max(1, Math.ceil((populationSize * hundredths) / 10_000));
}

/** The allocation a stored request asks for ({size} | {percent} | {strata: {allocation: 'fixed', perStratum}}). */
export function sizeOfRequest(request: { size?: unknown; percent?: unknown; strata?: unknown }, populationSize: number): Allocation {
  const strata = request.strata as { allocation?: string; perStratum?: number } | undefined;
  if (strata?.allocation === 'fixed' && typeof strata.perStratum === 'number') return { kind: 'fixed', perStratum: strata.perStratum };
  if (typeof request.size === 'number') return { kind: 'size', size: request.size };
  if (typeof request.percent === 'number') return { kind: 'size', size: sizeFromPercent(request.percent, populationSize) };
  throw new RangeError('the request gives neither size, percent nor fixed strata');
}

/** Stratum name → how many hosts it contributes. Throws RangeError if the size does not fit. */
export function allocate(counts: ReadonlyMap<string, number>, allocation: Allocation): Map<string, number> {
  const names = [...counts.keys()].sort(byCodePoint);
  const out = new Map<string, number>();
  if (allocation.kind === 'fixed') {
    for (const s of names) out.set(s, Math.min(allocation.perStratum, counts.get(s) ?? 0));
    return out;
  }
  const total = names.reduce((a, s) => a + (counts.get(s) ?? 0), 0);
  const n = allocation.size;
  if (!Number.isInteger(n) || n < 1 || n > total) throw new RangeError(`sample size ${n} is not between 1 and the population ${total}`);
  let given = 0;
  const remainders: { s: string; rem: number; size: number }[] = [];
  for (const s of names) {
    const size = counts.get(s) ?? 0;
    // Exact integer arithmetic: quota = n·size / total.
    const q = Math.floor((n * size) / total);
    out.set(s, q);
    given += q;
    remainders.push({ s, rem: (n * size) % total, size });
  }
  remainders.sort((a, b) => b.rem - a.rem || b.size - a.size || byCodePoint(a.s, b.s));
  for (let i = 0; given < n; i++) {
    const r = remainders[i]!;
    out.set(r.s, (out.get(r.s) ?? 0) + 1);
    given++;
  }
  return out;
}

/** Draw the sample: strata in code-point order, each ranked by its HMAC keys. */
export function drawSample(seed: string, population: readonly PopulationMember[], allocation: Allocation): SampledMember[] {
  const strata = new Map<string, PopulationMember[]>();
  for (const m of population) (strata.get(m.stratum) ?? strata.set(m.stratum, []).get(m.stratum)!).push(m);
  const counts = new Map([...strata].map(([s, ms]) => [s, ms.length]));
  const shares = allocate(counts, allocation);
  const out: SampledMember[] = [];
  for (const s of [...strata.keys()].sort(byCodePoint)) {
    const ranked = strata
      .get(s)!
      .map((m) => ({ ...m, hmac: rankKey(seed, m.hostId) }))
      .sort((a, b) => byCodePoint(a.hmac, b.hmac) || byCodePoint(a.hostId, b.hostId));
    ranked.slice(0, shares.get(s) ?? 0).forEach((m, i) => out.push({ hostId: m.hostId, stratum: m.stratum, rank: i + 1, hmac: m.hmac }));
  }
  return out;
}

/** The canonical text the population and sample hashes are taken over. */
export function canonicalMembers(members: readonly PopulationMember[]): string {
  return members.map((m) => `${m.hostId}\t${m.stratum}\n`).join('');
}

export function sortPopulation(population: readonly PopulationMember[]): PopulationMember[] {
  return [...population].sort((a, b) => byCodePoint(a.hostId, b.hostId));
}

export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** SHA-256 of the population, sorted by host id. */
export function populationHash(population: readonly PopulationMember[]): string {
  return sha256Hex(canonicalMembers(sortPopulation(population)));
}

/** SHA-256 of the sample, in sample order. */
export function sampleHash(sample: readonly PopulationMember[]): string {
  return sha256Hex(canonicalMembers(sample));
}
