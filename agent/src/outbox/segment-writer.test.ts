import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { segmentName } from './segment-file.js';
import { SegmentWriter } from './segment-writer.js';
import { makeTempDir, removeTempDirs } from './test-support/outbox-fixtures.js';

afterEach(removeTempDirs);

const record = (seq: number) => Buffer.from(`${String(seq).padStart(8, '0')}\t${'x'.repeat(40)}\n`);

describe('SegmentWriter', () => {
  it('creates the next segment only when its batch commits, after the records before it are written', () => {
    const dir = makeTempDir();
    const w = new SegmentWriter(dir, 200, true);
    // 50-byte records, 200-byte segments: seqs 1–4 fill the first, 5 starts the second.
    for (let seq = 1; seq <= 6; seq++) w.place(seq, record(seq));
    // Nothing is on disk before commit: a kill here leaves no segment whose name skips unwritten seqs.
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(w.commit()).toEqual([1, 5]);
    expect(fs.readdirSync(dir).sort()).toEqual([segmentName(1), segmentName(5)]);
    expect(fs.statSync(path.join(dir, segmentName(1))).size).toBe(200);
    expect(fs.statSync(path.join(dir, segmentName(5))).size).toBe(100);
    w.close();
  });

  it('leaves no new segment behind when a batch is discarded', () => {
    const dir = makeTempDir();
    const w = new SegmentWriter(dir, 200, true);
    for (let seq = 1; seq <= 4; seq++) w.place(seq, record(seq));
    w.commit();
    for (let seq = 5; seq <= 9; seq++) w.place(seq, record(seq));
    w.discard();
    expect(fs.readdirSync(dir)).toEqual([segmentName(1)]);
    expect(fs.statSync(path.join(dir, segmentName(1))).size).toBe(200);
    w.close();
  });
});
