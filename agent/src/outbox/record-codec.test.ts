import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, RECORD_OVERHEAD, recordJson } from './record-codec.js';

const envelope = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, type: 'heartbeat', id: '0190f5a0-0000-7000-8000-000000000000', seq: 7, ts: 1, body: { note: 'café ✓' }, ...over });

describe('record codec', () => {
  it('frames a record as <crc32 hex>\\t<json>\\n with the CRC of the UTF-8 JSON', () => {
    const json = envelope();
    const rec = encodeRecord(json);
    const text = rec.toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    const [crc, rest] = text.slice(0, -1).split('\t');
    expect(rest).toBe(json);
    expect(crc).toMatch(/^[0-9a-f]{8}$/);
    expect(Number.parseInt(crc ?? '', 16)).toBe(zlib.crc32(Buffer.from(json, 'utf8')));
    expect(rec.length).toBe(Buffer.byteLength(json) + RECORD_OVERHEAD);
  });

  it('pads small CRCs to 8 digits', () => {
    // Find a JSON whose CRC has a leading zero nibble.
    let json = '';
    for (let i = 0; ; i++) {
      json = envelope({ ts: i });
      if (zlib.crc32(Buffer.from(json)) < 0x10000000) break;
    }
    const rec = encodeRecord(json);
    expect(rec.toString('latin1', 0, 1)).toBe('0');
    expect(decodeRecord(rec, 0, rec.length)).toEqual({ ok: true, seq: 7, type: 'heartbeat' });
  });

  it('decodes a record in the middle of a buffer', () => {
    const a = encodeRecord(envelope({ seq: 1 }));
    const b = encodeRecord(envelope({ seq: 2, type: 'usb.attached' }));
    const buf = Buffer.concat([a, b]);
    expect(decodeRecord(buf, a.length, buf.length)).toEqual({ ok: true, seq: 2, type: 'usb.attached' });
    expect(recordJson(buf, a.length, buf.length)).toBe(envelope({ seq: 2, type: 'usb.attached' }));
  });

  it('rejects a flipped bit in the JSON', () => {
    const rec = encodeRecord(envelope());
    rec[20] = (rec[20] ?? 0) ^ 0x01;
    expect(decodeRecord(rec, 0, rec.length)).toMatchObject({ ok: false, reason: 'bad frame or CRC' });
  });

  it('rejects a record cut short (no newline, or missing bytes)', () => {
    const rec = encodeRecord(envelope());
    expect(decodeRecord(rec, 0, rec.length - 1).ok).toBe(false);
    const cut = Buffer.concat([rec.subarray(0, 30), Buffer.from('\n')]);
    expect(decodeRecord(cut, 0, cut.length).ok).toBe(false);
  });

  it('rejects a bad frame: no tab, non-hex CRC', () => {
    const json = envelope();
    const good = encodeRecord(json).toString('latin1');
    for (const bad of [good.replace('\t', ' '), 'zzzzzzzz' + good.slice(8), ' ' + good.slice(1)]) {
      const buf = Buffer.from(bad, 'latin1');
      expect(decodeRecord(buf, 0, buf.length)).toEqual({ ok: false, reason: 'bad frame or CRC' });
    }
  });

  it('rejects invalid JSON with a valid CRC', () => {
    const rec = encodeRecord('{"seq":1,');
    expect(decodeRecord(rec, 0, rec.length)).toEqual({ ok: false, reason: 'invalid JSON' });
  });

  it('rejects envelopes without a positive integer seq, a known type or an id', () => {
    for (const [over, reason] of [
      [{ seq: 0 }, 'bad seq'],
      [{ seq: 1.5 }, 'bad seq'],
      [{ seq: '3' }, 'bad seq'],
      [{ type: 'nope' }, 'unknown type'],
      [{ type: 'hasOwnProperty' }, 'unknown type'],
      [{ id: 5 }, 'missing id'],
    ] as const) {
      const rec = encodeRecord(envelope(over));
      expect(decodeRecord(rec, 0, rec.length)).toEqual({ ok: false, reason });
    }
    const arr = encodeRecord('[1,2]');
    expect(decodeRecord(arr, 0, arr.length).ok).toBe(false);
  });
});
