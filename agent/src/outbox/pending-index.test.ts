import { describe, expect, it } from 'vitest';
import { PendingIndex } from './pending-index.js';

const entry = (seq: number, type: 'heartbeat' | 'usb.attached' = 'usb.attached', length = 100) => ({ seq, type, offset: seq * 10, length });

describe('PendingIndex', () => {
  it('keeps entries in seq order with their place on disk', () => {
    const ix = new PendingIndex();
    ix.push(entry(3, 'heartbeat', 50));
    ix.push(entry(5));
    ix.push({ seq: 9, type: 'software.changed', offset: 4_000_000_000, length: 7 });
    expect(ix.count).toBe(3);
    expect(ix.bytes).toBe(157);
    expect(ix.droppableCount).toBe(1);
    expect(ix.at(0)).toEqual({ seq: 3, type: 'heartbeat', offset: 30, length: 50 });
    expect(ix.at(2)).toEqual({ seq: 9, type: 'software.changed', offset: 4_000_000_000, length: 7 });
    expect(ix.isDroppableAt(0)).toBe(true);
    expect(ix.isDroppableAt(1)).toBe(false);
  });

  it('refuses a seq that is not after the last one', () => {
    const ix = new PendingIndex();
    ix.push(entry(5));
    expect(() => ix.push(entry(5))).toThrow(/not after/);
    expect(() => ix.push(entry(4))).toThrow(/not after/);
  });

  it('finds positions by seq', () => {
    const ix = new PendingIndex();
    for (const s of [2, 4, 6, 8]) ix.push(entry(s));
    expect(ix.firstAfter(0)).toBe(0);
    expect(ix.firstAfter(2)).toBe(1);
    expect(ix.firstAfter(5)).toBe(2);
    expect(ix.firstAfter(8)).toBe(4);
    expect(() => ix.at(4)).toThrow(RangeError);
  });

  it('removes a prefix through a seq and returns it', () => {
    const ix = new PendingIndex();
    for (let s = 1; s <= 10; s++) ix.push(entry(s, s % 2 ? 'heartbeat' : 'usb.attached'));
    const removed = ix.removeThrough(4);
    expect(removed.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(ix.count).toBe(6);
    expect(ix.bytes).toBe(600);
    expect(ix.droppableCount).toBe(3);
    expect(ix.at(0).seq).toBe(5);
    expect(ix.removeThrough(4)).toEqual([]);
    expect(ix.removeThrough(100)).toHaveLength(6);
    expect(ix.count).toBe(0);
    expect(ix.bytes).toBe(0);
  });

  it('removes arbitrary seqs keeping the order of the rest', () => {
    const ix = new PendingIndex();
    for (let s = 1; s <= 10; s++) ix.push(entry(s, s <= 5 ? 'heartbeat' : 'usb.attached'));
    ix.removeThrough(1);
    ix.removeSeqs(new Set([2, 4, 7, 42]));
    expect(Array.from({ length: ix.count }, (_, i) => ix.seqAt(i))).toEqual([3, 5, 6, 8, 9, 10]);
    expect(ix.droppableCount).toBe(2);
    expect(ix.bytes).toBe(600);
    ix.setOffset(0, 12345);
    expect(ix.at(0).offset).toBe(12345);
  });

  it('grows past its initial capacity and reuses freed slots', () => {
    const ix = new PendingIndex();
    let next = 1;
    for (let round = 0; round < 20; round++) {
      for (let k = 0; k < 700; k++) ix.push(entry(next++));
      ix.removeThrough(next - 200);
    }
    expect(ix.count).toBe(199);
    expect(ix.at(0).seq).toBe(next - 199);
    expect(ix.at(198).seq).toBe(next - 1);
    for (let k = 0; k < 5000; k++) ix.push(entry(next++));
    expect(ix.count).toBe(5199);
    for (let i = 1; i < ix.count; i++) expect(ix.seqAt(i)).toBe(ix.seqAt(i - 1) + 1);
    expect(ix.bytes).toBe(5199 * 100);
  });
});
