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
});
