import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { uuidv7 } from './ids.js';

describe('uuidv7', () => {
  it('is a valid RFC 9562 v7 UUID carrying the timestamp', () => {
    const now = Date.UTC(2026, 10, 23, 12, 0, 0);
    const id = uuidv7(now);
    expect(z.uuid({ version: 'v7' }).safeParse(id).success).toBe(true);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('sorts by creation time and does not repeat', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 10_000 }, () => uuidv7())).size).toBe(10_000);
  });

  it('draws fresh random bits for every id, across refills of its random pool', () => {
    const tails = Array.from({ length: 5000 }, () => uuidv7(0).slice(15).replace(/-/g, ''));
    expect(new Set(tails).size).toBe(5000);
    // Version and variant set, and the random bits not all zero (a pool handed out twice or unfilled).
    for (const t of tails) expect(t).toMatch(/^[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(tails.filter((t) => /^0{3}[89ab]0{3}0{12}$/.test(t))).toEqual([]);
  });
});
