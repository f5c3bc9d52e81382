import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readLines } from './ipc.js';

describe('readLines (the data pipe between the main process and gateway workers)', () => {
  it('gives back exactly the lines written, however the bytes are split into reads', async () => {
    const line = fc.string({ unit: 'binary', maxLength: 300 }).map((s) => s.replace(/\n/g, ' '));
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 20 }), fc.array(fc.nat(400), { maxLength: 30 }), async (lines, cuts) => {
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
        const stream = new PassThrough();
        const got: string[] = [];
        readLines(stream, (l) => got.push(l));
        // Cut anywhere, inside a multi-byte character too.
        let at = 0;
        for (const cut of cuts) {
          if (at >= bytes.length) break;
          const end = Math.min(bytes.length, at + cut + 1);
          stream.write(bytes.subarray(at, end));
          at = end;
        }
        if (at < bytes.length) stream.write(bytes.subarray(at));
        await new Promise((r) => setImmediate(r));
        expect(got).toEqual(lines);
      }),
      { numRuns: 300, seed: 20261207 },
    );
  });

  it('joins a line spread over many reads once, and keeps what follows its newline', async () => {
    const stream = new PassThrough();
    const got: string[] = [];
    readLines(stream, (l) => got.push(l));
    const big = 'x'.repeat(300_000);
    for (let i = 0; i < big.length; i += 65_536) stream.write(big.slice(i, i + 65_536));
    stream.write('\nnext');
    stream.write(' line\n\n');
    await new Promise((r) => setImmediate(r));
    expect(got.map((l) => l.length)).toEqual([300_000, 9, 0]);
    expect(got[1]).toBe('next line');
  });
});
