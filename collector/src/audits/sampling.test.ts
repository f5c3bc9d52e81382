import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { allocate, drawSample, populationHash, sampleHash, sizeFromPercent, type PopulationMember } from './sampling.js';

/**
 * The sampling algorithm against an independent computation written out here from the README's
 * description (node:crypto directly, no code shared with sampling.ts), so the documented
 * algorithm and the implementation cannot drift apart silently.
 */

/** Host ids as the collector makes them (UUIDv7-shaped), fixed so the test is reproducible. */
const ids = Array.from({ length: 40 }, (_, i) => `0193a5c4-7e21-7${String(i).padStart(3, '0')}-8abc-${String(1000 + i * 7919).padStart(12, '0')}`);
const flat: PopulationMember[] = ids.map((hostId) => ({ hostId, stratum: 'all' }));

/** README: rank by HMAC-SHA256(key = seed, message = host id), lowest hex first, take n. */
function independentSample(seed: string, hostIds: string[], n: number): string[] {
  const keyed = hostIds.map((id) => ({ id, mac: crypto.createHmac('sha256', seed).update(id).digest('hex') }));
  keyed.sort((a, b) => (a.mac < b.mac ? -1 : 1));
  return keyed.slice(0, n).map((k) => k.id);
}

describe('vigil-hmac-sha256-v1', () => {
  it('takes the n hosts with the lowest HMAC-SHA256(seed, host id), as computed independently', () => {
    for (const [seed, n] of [['audit-2026-q4', 5], ['🙂 non-ASCII seed', 12], ['x', 40]] as const) {
      const sample = drawSample(seed, flat, { kind: 'size', size: n });
      expect(sample.map((m) => m.hostId)).toEqual(independentSample(seed, ids, n));
      expect(sample.map((m) => m.rank)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      for (const m of sample) expect(m.hmac).toBe(crypto.createHmac('sha256', Buffer.from(seed, 'utf8')).update(Buffer.from(m.hostId, 'utf8')).digest('hex'));
    }
  });

  it('matches a value an auditor computes with openssl (fixed vector)', () => {
    // Output of: printf %s 0193a5c4-7e21-7000-8abc-000000001000 | openssl dgst -sha256 -hmac 'audit-2026-q4' (OpenSSL 3)
    const mac = '5f331987ffc6f719730682bc110c867027c205f20d0b029987dbd36bb23d43f3';
    const sample = drawSample('audit-2026-q4', flat, { kind: 'size', size: 40 });
    expect(sample.find((m) => m.hostId === ids[0])?.hmac).toBe(mac);
  });

  it('is deterministic: the same seed and population give the same sample, whatever the input order', () => {
    const a = drawSample('seed-1', flat, { kind: 'size', size: 8 });
    const b = drawSample('seed-1', [...flat].reverse(), { kind: 'size', size: 8 });
    expect(b).toEqual(a);
    expect(sampleHash(b)).toBe(sampleHash(a));
    expect(populationHash([...flat].reverse())).toBe(populationHash(flat));
  });

  it('gives a different sample for a different seed', () => {
    const a = drawSample('seed-1', flat, { kind: 'size', size: 8 }).map((m) => m.hostId);
    const b = drawSample('seed-2', flat, { kind: 'size', size: 8 }).map((m) => m.hostId);
    expect(b).not.toEqual(a);
  });

  it('refuses a size below 1 or above the population', () => {
    expect(() => drawSample('s', flat, { kind: 'size', size: 0 })).toThrow(RangeError);
    expect(() => drawSample('s', flat, { kind: 'size', size: 41 })).toThrow(RangeError);
  });

  it('turns a percentage into a size by rounding up, at least one', () => {
    expect(sizeFromPercent(10, 30)).toBe(3);
    expect(sizeFromPercent(10, 31)).toBe(4);
    expect(sizeFromPercent(0.1, 30)).toBe(1);
    expect(sizeFromPercent(100, 30)).toBe(30);
    expect(sizeFromPercent(33.33, 300)).toBe(100);
  });

  it('hashes the population as sorted "<host id>\\t<stratum>\\n" lines', () => {
    const pop = [{ hostId: 'b', stratum: 'linux' }, { hostId: 'a', stratum: 'win32' }];
    expect(populationHash(pop)).toBe(crypto.createHash('sha256').update('a\twin32\nb\tlinux\n').digest('hex'));
  });
});

describe('stratified samples', () => {
  it('shares the size by largest remainder (Hamilton), checked by hand', () => {
    // 10 of 21: quotas 10·11/21 = 5.238, 10·7/21 = 3.333, 10·3/21 = 1.429 → floors 5+3+1 = 9;
    // the one seat left goes to the largest remainder, the 3-host stratum (.429).
    const shares = allocate(new Map([['linux', 11], ['win32', 7], ['darwin', 3]]), { kind: 'size', size: 10 });
    expect(Object.fromEntries(shares)).toEqual({ darwin: 2, linux: 5, win32: 3 });
    // 2 of 4: quotas .5, .5, 1 → c gets 1; a and b tie on remainder and size: the name decides.
    expect(Object.fromEntries(allocate(new Map([['b', 1], ['a', 1], ['c', 2]]), { kind: 'size', size: 2 }))).toEqual({ a: 1, b: 0, c: 1 });
    // 3 of 6: quotas 1.5 and .5 → 1 + 0; equal remainders (.5): the larger stratum first.
    expect(Object.fromEntries(allocate(new Map([['a', 1], ['z', 5]]), { kind: 'size', size: 3 }))).toEqual({ a: 0, z: 3 });
    expect(Object.fromEntries(allocate(new Map([['a', 5], ['b', 1]]), { kind: 'fixed', perStratum: 2 }))).toEqual({ a: 2, b: 1 });
  });

  it('respects its strata and ranks within each independently', () => {
    const pop: PopulationMember[] = ids.map((hostId, i) => ({ hostId, stratum: i < 22 ? 'linux' : i < 36 ? 'win32' : 'darwin' }));
    const sample = drawSample('strata-seed', pop, { kind: 'size', size: 10 });
    const count = (s: string) => sample.filter((m) => m.stratum === s).length;
    // 10·22/40 = 5.5, 10·14/40 = 3.5, 10·4/40 = 1 → 5 + 3 + 1 = 9, one left: remainders .5 and .5, larger stratum (linux) wins.
    expect([count('darwin'), count('linux'), count('win32')]).toEqual([1, 6, 3]);
    for (const s of ['darwin', 'linux', 'win32']) {
      const members = pop.filter((m) => m.stratum === s).map((m) => m.hostId);
      expect(sample.filter((m) => m.stratum === s).map((m) => m.hostId)).toEqual(independentSample('strata-seed', members, count(s)));
    }
    // Strata in code-point order.
    expect(sample.map((m) => m.stratum)).toEqual([...sample.map((m) => m.stratum)].sort());
  });
});
