import { afterEach, describe, expect, it, vi } from 'vitest';
import { PeriodicChange } from './periodic-change.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('PeriodicChange', () => {
  it('reports only changes, not what the snapshot already carried, and stops', async () => {
    vi.useFakeTimers();
    const values = ['a', 'a', 'b', 'b', 'b', 'c'];
    let i = 0;
    const seen: string[] = [];
    const p = new PeriodicChange<string>({ intervalMs: 1000, read: async () => values[Math.min(i++, values.length - 1)] as string, key: (v) => v, onChange: (v) => seen.push(v), onError: (e) => { throw e; } });
    p.start('a');
    for (let t = 0; t < 8; t++) await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual(['b', 'c']);
    p.stop();
    const reads = i;
    await vi.advanceTimersByTimeAsync(5000);
    expect(i).toBe(reads);
  });

  it('keeps going after a failed read', async () => {
    vi.useFakeTimers();
    let n = 0;
    const seen: number[] = [];
    const errors: string[] = [];
    const p = new PeriodicChange<number>({
      intervalMs: 100,
      read: async () => {
        n++;
        if (n === 1) throw new Error('transient');
        return n;
      },
      key: String,
      onChange: (v) => seen.push(v),
      onError: (e) => errors.push((e as Error).message),
    });
    p.start();
    await vi.advanceTimersByTimeAsync(350);
    p.stop();
    expect(seen).toEqual([2, 3]);
    expect(errors).toEqual(['transient']);
  });
});
