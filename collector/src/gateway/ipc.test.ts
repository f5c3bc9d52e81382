import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyFromLines, bodyLineCount, bodyLines, LIST_PART_ITEMS, readLines, type WireItem } from './ipc.js';

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

describe('bodyLines / bodyFromLines (a message body across the data pipe)', () => {
  const pkg = fc.record({ source: fc.constantFrom('dpkg', 'rpm'), name: fc.string({ maxLength: 40 }), version: fc.string({ maxLength: 20 }) });
  const list = fc.array(pkg, { maxLength: 3 * LIST_PART_ITEMS + 7 });

  it('gives back the body it was given, whatever the lengths of its lists, each line a part at most', () => {
    fc.assert(
      fc.property(fc.record({ host: fc.record({ hostname: fc.string() }), software: list, installed: list, other: list }), (body) => {
        const { lines, lists } = bodyLines(body);
        const item: WireItem = { c: 1, h: { v: 1, type: 'snapshot', id: 'x', seq: 1, ts: 1 }, ...(lists ? { l: lists } : {}) };
        expect(lines).toHaveLength(bodyLineCount(item));
        for (const line of lines.slice(1)) expect((JSON.parse(line) as unknown[]).length).toBeLessThanOrEqual(LIST_PART_ITEMS);
        const back = bodyFromLines(lines, lists);
        expect(back.body).toEqual(body);
        // One line: its JSON is the body's, as stored; parts: the store serialises what it keeps.
        if (!lists) expect(back.json).toBe(JSON.stringify(body));
        else expect(back.json).toBeUndefined();
        // Only the known lists are split: `other` always travels inside the first line.
        expect((JSON.parse(lines[0]!) as { other: unknown[] }).other).toEqual(body.other);
      }),
      { numRuns: 200, seed: 20261207 },
    );
  });

  it('splits a 1,500-package snapshot into lines well under V8\'s large-object size', () => {
    const software = Array.from({ length: 1500 }, (_, i) => ({ source: 'dpkg', name: `package-name-${i}`, version: `1.2.3-4ubuntu${i}`, arch: 'amd64', publisher: 'Debian Maintainers <debian-devel@lists.debian.org>' }));
    const { lines, lists } = bodyLines({ host: {}, software });
    expect(lists).toEqual([['software', 5]]);
    expect(JSON.stringify({ software }).length).toBeGreaterThan(200_000);
    for (const line of lines) expect(line.length).toBeLessThan(64_000);
  });

  it('refuses a list name that is never split', () => {
    expect(() => bodyFromLines(['{}', '[1]'], [['__proto__' as 'software', 1]])).toThrow(/never split/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
