import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, entryHash, GENESIS_HASH, type ChainFields } from './hash-chain.js';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('canonicalJson', () => {
  it('sorts keys at every level and writes no whitespace, so key order does not matter', () => {
    const a = { b: 1, a: { y: [3, { d: true, c: null }], x: 'é' } };
    const b = { a: { x: 'é', y: [3, { c: null, d: true }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"x":"é","y":[3,{"c":null,"d":true}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('keeps array order', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('sorts by UTF-16 code units (RFC 8785), not by locale', () => {
    expect(canonicalJson({ b: 1, B: 2, é: 3, '10': 4, '9': 5 })).toBe('{"10":4,"9":5,"B":2,"b":1,"é":3}');
  });

  it('follows JSON for what JSON cannot hold: undefined members dropped, non-finite numbers null, dates via toJSON', () => {
    expect(canonicalJson({ a: undefined, b: Number.NaN, c: [undefined], d: new Date(0) })).toBe('{"b":null,"c":[null],"d":"1970-01-01T00:00:00.000Z"}');
  });

  it('escapes strings as JSON.stringify does, including control characters and lone surrogates', () => {
    const s = 'quote " backslash \\ newline \n nul \u0000 lone \ud800';
    expect(canonicalJson({ s })).toBe(`{"s":${JSON.stringify(s)}}`);
    expect(JSON.parse(canonicalJson({ s })).s).toBe(s);
  });

  it('refuses bigints and cycles instead of writing something ambiguous', () => {
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/deeper/);
  });
});

describe('entryHash', () => {
  const first: ChainFields = { seq: 1, at: 1_700_000_000_000, actor: 'api-token:7', action: 'login', subject: null, details: { b: [1, 2], a: 'é' } };

  it('matches the documented encoding (known vector, preimage written out by hand)', () => {
    // "vigil-audit-v1\n", then netstrings (UTF-8 byte length ":" bytes ","), "-" for a NULL subject.
    // The details {"a":"é","b":[1,2]} are 19 characters but 20 UTF-8 bytes.
    const preimage = `vigil-audit-v1\n64:${'0'.repeat(64)},1:1,13:1700000000000,11:api-token:7,5:login,-20:{"a":"é","b":[1,2]},`;
    const h1 = entryHash(GENESIS_HASH, first);
    expect(h1).toBe(sha256(preimage));
    // Pinned (computed once with Python's hashlib over the same bytes): the format must not drift.
    expect(h1).toBe('c050ee2f83b7aff43db6bb210f2b794c399e81642b26bcba9c5db57366eeb139');

    const second: ChainFields = { seq: 2, at: 1_700_000_000_001, actor: 'policy-engine', action: 'alert.opened', subject: 'usb:ü€', details: '{}' };
    const preimage2 = `vigil-audit-v1\n64:${h1},1:2,13:1700000000001,13:policy-engine,12:alert.opened,9:usb:ü€,2:{},`;
    expect(entryHash(h1, second)).toBe(sha256(preimage2));
    expect(entryHash(h1, second)).toBe('e1f8d9fef1086822cb626481353ed398c83cac6911fb0668402a4146180b1645');
  });

  it('does not depend on the key order of the details, and hashes stored text as is', () => {
    const reordered = { ...first, details: { a: 'é', b: [1, 2] } };
    expect(entryHash(GENESIS_HASH, reordered)).toBe(entryHash(GENESIS_HASH, first));
    expect(entryHash(GENESIS_HASH, { ...first, details: '{"a":"é","b":[1,2]}' })).toBe(entryHash(GENESIS_HASH, first));
  });

  it('changes with every field and with the previous hash', () => {
    const base = entryHash(GENESIS_HASH, first);
    const variants: ChainFields[] = [
      { ...first, seq: 2 },
      { ...first, at: first.at + 1 },
      { ...first, actor: 'api-token:8' },
      { ...first, action: 'export' },
      { ...first, subject: 'x' },
      { ...first, details: { a: 'e', b: [1, 2] } },
    ];
    const hashes = new Set([base, ...variants.map((v) => entryHash(GENESIS_HASH, v)), entryHash('f'.repeat(64), first)]);
    expect(hashes.size).toBe(variants.length + 2);
  });

  it('is unambiguous: moving text between fields, or an empty subject versus none, gives another hash', () => {
    const a = entryHash(GENESIS_HASH, { ...first, actor: 'ab', action: 'c' });
    const b = entryHash(GENESIS_HASH, { ...first, actor: 'a', action: 'bc' });
    expect(a).not.toBe(b);
    expect(entryHash(GENESIS_HASH, { ...first, subject: '' })).not.toBe(entryHash(GENESIS_HASH, { ...first, subject: null }));
    expect(entryHash(GENESIS_HASH, { ...first, subject: '-' })).not.toBe(entryHash(GENESIS_HASH, { ...first, subject: null }));
  });
});
