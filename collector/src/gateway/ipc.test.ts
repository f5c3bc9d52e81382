import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SoftwareItem } from '@vigil/shared';
import { BodyDecoder, BodyEncoder, bodyLineCount, DICTIONARY_ITEMS, LIST_PART_ITEMS, readLines, type WireItem } from './ipc.js';

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

describe('BodyEncoder / BodyDecoder (message bodies across the data pipe, with its package dictionary)', () => {
  const pkg = fc.record(
    { source: fc.constantFrom('dpkg', 'rpm'), name: fc.string({ maxLength: 3, unit: fc.constantFrom('a', 'b', '\u0000') }), version: fc.constantFrom('1', '2'), arch: fc.constantFrom('amd64', 'i386') },
    { requiredKeys: ['source', 'name', 'version'] },
  ) as fc.Arbitrary<SoftwareItem>;
  const list = fc.array(pkg, { maxLength: 2 * LIST_PART_ITEMS + 7 });
  const message = fc.oneof(
    fc.record({ type: fc.constant('snapshot' as const), body: fc.record({ host: fc.record({ hostname: fc.string() }), software: list, removed: list }) }),
    fc.record({ type: fc.constant('software.changed' as const), body: fc.record({ installed: list, removed: list }) }),
  );

  it('gives back every body it was given, in order, whatever the lists, with a dictionary of any size', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.constantFrom(3, 50, DICTIONARY_ITEMS), (messages, capacity) => {
        const encoder = new BodyEncoder(capacity);
        const decoder = new BodyDecoder(capacity);
        for (const { type, body } of messages) {
          const { lines, lists } = encoder.lines(type, body);
          const item: WireItem = { c: 1, h: { v: 1, type, id: 'x', seq: 1, ts: 1 }, ...(lists ? { l: lists } : {}) };
          expect(lines).toHaveLength(bodyLineCount(item));
          for (const line of lines.slice(1)) expect((JSON.parse(line) as unknown[]).length).toBeLessThanOrEqual(LIST_PART_ITEMS);
          const back = decoder.body(type, lines, lists);
          expect(back.body).toEqual(body);
          // One line: its JSON is the body's, as stored; parts: the store serialises what it keeps.
          if (!lists) expect(back.json).toBe(JSON.stringify(body));
          else expect(back.json).toBeUndefined();
          // Only a type's own package lists are split: a snapshot's `removed` goes inside its first line.
          if (type === 'snapshot') expect((JSON.parse(lines[0]!) as { removed: unknown[] }).removed).toEqual(body.removed);
        }
      }),
      { numRuns: 200, seed: 20261207 },
    );
  });

  it('sends a package it has sent before as its number, and gives the main process one frozen object for it', () => {
    const software: SoftwareItem[] = Array.from({ length: 1500 }, (_, i) => ({ source: 'dpkg', name: `package-name-${i}`, version: `1.2.3-4ubuntu${i}`, arch: 'amd64', publisher: 'Debian Maintainers <debian-devel@lists.debian.org>' }));
    const encoder = new BodyEncoder();
    const decoder = new BodyDecoder();
    const first = encoder.lines('snapshot', { host: {}, software });
    expect(first.lists).toEqual([['software', 5]]);
    expect(JSON.stringify({ software }).length).toBeGreaterThan(200_000);
    for (const line of first.lines) expect(line.length).toBeLessThan(64_000);
    // Another host with the same packages, one new and one left out: numbers, and the new one whole.
    const extra: SoftwareItem = { source: 'dpkg', name: 'new-package', version: '1' };
    const second = encoder.lines('snapshot', { host: {}, software: [...software.slice(1), extra] });
    const parts = second.lines.slice(1).flatMap((line) => JSON.parse(line) as unknown[]);
    expect(parts.filter((x) => typeof x !== 'number')).toEqual([extra]);
    expect(second.lines.slice(1).join('').length).toBeLessThan(10_000);
    const a = decoder.body('snapshot', first.lines, first.lists).body as { software: SoftwareItem[] };
    const b = decoder.body('snapshot', second.lines, second.lists).body as { software: SoftwareItem[] };
    expect(b.software).toEqual([...software.slice(1), extra]);
    expect(b.software[0]).toBe(a.software[1]);
    expect(Object.isFrozen(b.software[0])).toBe(true);
  });

  it('refuses a package list the message type does not have, and a number it never defined', () => {
    const decoder = new BodyDecoder();
    expect(() => decoder.body('snapshot', ['{}', '[]'], [['__proto__' as 'software', 1]])).toThrow(/has none/);
    expect(() => decoder.body('heartbeat', ['{}', '[]'], [['software', 1]])).toThrow(/has none/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => decoder.body('snapshot', ['{}', '[0]'], [['software', 1]])).toThrow(/never defined/);
  });
});
