import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentCounters } from '@vigil/shared';
import { Outbox, type OutboxItem } from './outbox.js';
import {
  captureLogger,
  heartbeatBody,
  makeTempDir,
  readJournal,
  recordLine,
  removeTempDirs,
  segmentFiles,
  usbAttachedBody,
} from './test-support/outbox-fixtures.js';

const open: Outbox[] = [];
function openOutbox(dir: string, opts: Partial<Parameters<typeof Outbox.open>[0]> = {}): Outbox {
  const ob = Outbox.open({ dir, ...opts });
  open.push(ob);
  return ob;
}

afterEach(() => {
  for (const ob of open.splice(0)) ob.close();
  vi.restoreAllMocks();
  removeTempDirs();
});

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** produced == acknowledged + rejected + dropped + pending. */
function expectBalanced(c: AgentCounters, pending: number): void {
  expect(c.produced).toBe(c.acknowledged + c.rejected + c.dropped + pending);
}

describe('Outbox: appending', () => {
  it('creates its directory with mode 0700', () => {
    const dir = path.join(makeTempDir(), 'state', 'outbox');
    openOutbox(dir);
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    if (process.platform !== 'win32') expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('gives each message the next seq from 1, a UUIDv7 id and the time', () => {
    const ob = openOutbox(makeTempDir());
    const a = ob.append('heartbeat', heartbeatBody(), 1_700_000_000_000);
    const b = ob.append('usb.attached', usbAttachedBody('AA01'), 1_700_000_000_500);
    expect(a).toMatchObject({ v: 1, type: 'heartbeat', seq: 1, ts: 1_700_000_000_000, body: heartbeatBody() });
    expect(b).toMatchObject({ type: 'usb.attached', seq: 2, ts: 1_700_000_000_500 });
    expect(a?.id).toMatch(UUIDV7);
    expect(b?.id).toMatch(UUIDV7);
    expect(a?.id).not.toBe(b?.id);
    // The first 48 bits of a UUIDv7 are the milliseconds.
    expect(Number.parseInt((a?.id ?? '').replaceAll('-', '').slice(0, 12), 16)).toBe(1_700_000_000_000);
    expect(ob.stats()).toEqual({ pending: 2, bytes: expect.any(Number), lastSeq: 2, ackedSeq: 0 });
  });

  it('writes one `<crc32>\\t<envelope json>\\n` line per message into seg-<first seq>.log', () => {
    const dir = makeTempDir();
    const ob = openOutbox(dir);
    const envs = [ob.append('heartbeat', heartbeatBody(1)), ob.append('usb.attached', usbAttachedBody('Ünïcødé ✓'))];
    expect(segmentFiles(dir)).toEqual(['seg-000000000001.log']);
    const lines = readJournal(dir);
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.crcOk)).toBe(true);
    expect(lines.map((l) => JSON.parse(l.json))).toEqual(envs);
    expect(ob.stats().bytes).toBe(fs.statSync(path.join(dir, 'seg-000000000001.log')).size);
  });

  it('appendMany keeps order, returns every envelope and fsyncs once for the batch', () => {
    const dir = makeTempDir();
    const ob = openOutbox(dir);
    ob.append('heartbeat', heartbeatBody()); // creates the segment (a directory fsync)
    const fsync = vi.spyOn(fs, 'fsyncSync');
    const items: OutboxItem[] = Array.from({ length: 100 }, (_, i) =>
      i % 10 === 0 ? { type: 'usb.attached', body: usbAttachedBody(`S${i}`) } : { type: 'heartbeat', body: heartbeatBody(i) },
    );
    const envs = ob.appendMany(items, 5);
    expect(fsync).toHaveBeenCalledTimes(1);
    expect(envs.map((e) => e?.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    expect(envs.map((e) => e?.type)).toEqual(items.map((i) => i.type));
    expect(readJournal(dir).map((l) => l.seq).slice(1)).toEqual(envs.map((e) => e?.seq));
    expect(ob.counters().produced).toBe(101);
  });

  it('fsyncs each single append, and not at all with fsync: false', () => {
    const fsync = vi.spyOn(fs, 'fsyncSync');
    const durable = openOutbox(makeTempDir());
    fsync.mockClear();
    durable.append('heartbeat', heartbeatBody());
    durable.append('heartbeat', heartbeatBody());
    // Two commits; the first append also made the segment file (a directory fsync).
    expect(fsync.mock.calls.length).toBeGreaterThanOrEqual(2);
    const fast = openOutbox(makeTempDir(), { fsync: false });
    fsync.mockClear();
    fast.appendMany([{ type: 'heartbeat', body: heartbeatBody() }]);
    fast.ack(1);
    expect(fsync).not.toHaveBeenCalled();
  });

  it('handles an empty batch', () => {
    const ob = openOutbox(makeTempDir());
    expect(ob.appendMany([])).toEqual([]);
    expect(ob.stats().lastSeq).toBe(0);
  });

  it('rejects bad options', () => {
    const dir = makeTempDir();
    expect(() => Outbox.open({ dir, maxBytes: 0 })).toThrow(RangeError);
    expect(() => Outbox.open({ dir, segmentBytes: 1.5 })).toThrow(RangeError);
    expect(() => Outbox.open({ dir, segmentBytes: 2 ** 31 })).toThrow(RangeError);
  });

  it('refuses use after close; close twice is harmless', () => {
    const ob = Outbox.open({ dir: makeTempDir() });
    ob.close();
    ob.close();
    expect(() => ob.append('heartbeat', heartbeatBody())).toThrow(/closed/);
    expect(() => ob.pending(0, 10)).toThrow(/closed/);
    expect(() => ob.ack(1)).toThrow(/closed/);
  });
});

describe('Outbox: reading pending messages', () => {
  it('returns the exact envelope JSON of un-acked messages after a seq, in order', () => {
    const ob = openOutbox(makeTempDir());
    const envs = ob.appendMany(Array.from({ length: 5 }, (_, i) => ({ type: 'heartbeat' as const, body: heartbeatBody(i) })));
    const all = ob.pending(0, 100);
    expect(all.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all.map((m) => JSON.parse(m.line))).toEqual(envs);
    expect(all.every((m) => m.type === 'heartbeat' && m.bytes === Buffer.byteLength(m.line))).toBe(true);
    expect(ob.pending(3, 100).map((m) => m.seq)).toEqual([4, 5]);
    expect(ob.pending(0, 2).map((m) => m.seq)).toEqual([1, 2]);
    expect(ob.pending(5, 10)).toEqual([]);
    expect(ob.pending(0, 0)).toEqual([]);
  });

  it('stops at maxBytes but always returns at least one message', () => {
    const ob = openOutbox(makeTempDir());
    ob.appendMany(Array.from({ length: 5 }, (_, i) => ({ type: 'heartbeat' as const, body: heartbeatBody(i) })));
    const one = ob.pending(0, 10)[0]?.bytes ?? 0;
    expect(ob.pending(0, 10, one * 2).map((m) => m.seq)).toEqual([1, 2]);
    expect(ob.pending(0, 10, one * 2 + 1).map((m) => m.seq)).toEqual([1, 2]);
    expect(ob.pending(0, 10, 1).map((m) => m.seq)).toEqual([1]);
  });

  it('reads bodies from disk on demand', () => {
    const dir = makeTempDir();
    const ob = openOutbox(dir);
    ob.append('usb.attached', usbAttachedBody('AAAA'));
    // Same length, different serial: if the index held bodies, the old text would come back.
    const file = path.join(dir, 'seg-000000000001.log');
    const before = fs.readFileSync(file, 'utf8');
    const tab = before.indexOf('\t');
    fs.writeFileSync(file, recordLine(before.slice(tab + 1, -1).replaceAll('AAAA', 'BBBB')));
    expect(ob.pending(0, 1)[0]?.line).toContain('"serial":"BBBB"');
  });

  it('reads across segments', () => {
    const dir = makeTempDir();
    const ob = openOutbox(dir, { segmentBytes: 1000 });
    for (let i = 0; i < 30; i++) ob.append('heartbeat', heartbeatBody(i));
    expect(segmentFiles(dir).length).toBeGreaterThan(3);
    expect(ob.pending(0, 1000).map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(ob.pending(17, 5).map((m) => m.seq)).toEqual([18, 19, 20, 21, 22]);
    for (const m of ob.pending(0, 1000)) expect(JSON.parse(m.line)).toMatchObject({ seq: m.seq, body: { uptimeSeconds: m.seq - 1 } });
  });

  it('drops a record whose bytes went bad on disk, counting it, and moves on', () => {
    const dir = makeTempDir();
    const log = captureLogger();
    const ob = openOutbox(dir, { logger: log });
    ob.appendMany(Array.from({ length: 3 }, (_, i) => ({ type: 'usb.attached' as const, body: usbAttachedBody(`S${i}`) })));
    const file = path.join(dir, 'seg-000000000001.log');
    const text = fs.readFileSync(file, 'utf8');
    const second = text.indexOf('\n') + 1;
    fs.writeFileSync(file, text.slice(0, second + 40) + 'X' + text.slice(second + 41));
    expect(ob.pending(0, 10).map((m) => m.seq)).toEqual([1, 3]);
    expect(ob.droppedByType()).toEqual({ corrupt: 1 });
    expect(log.warnings()).toContain('outbox: records failed their CRC on read; dropped');
    expectBalanced(ob.counters(), ob.stats().pending);
    // Removed for good: the segment was rewritten without it.
    expect(readJournal(dir).map((l) => l.seq)).toEqual([1, 3]);
  });
});


describe('Outbox: acknowledgements', () => {
  it('removes everything up to the acked seq and counts it', () => {
    const ob = openOutbox(makeTempDir());
    ob.appendMany(Array.from({ length: 6 }, (_, i) => ({ type: 'heartbeat' as const, body: heartbeatBody(i) })));
    ob.markSent(6);
    ob.ack(4);
    expect(ob.pending(0, 10).map((m) => m.seq)).toEqual([5, 6]);
    expect(ob.counters()).toEqual({ produced: 6, sent: 6, acknowledged: 4, rejected: 0, dropped: 0 });
    expect(ob.stats()).toMatchObject({ pending: 2, lastSeq: 6, ackedSeq: 4 });
  });

  it('counts listed messages as rejected, not acknowledged, and logs their codes', () => {
    const log = captureLogger();
    const ob = openOutbox(makeTempDir(), { logger: log });
    ob.appendMany(Array.from({ length: 5 }, (_, i) => ({ type: 'usb.attached' as const, body: usbAttachedBody(`S${i}`) })));
    ob.ack(3, [
      { seq: 2, code: 'VIGIL_ERR_MESSAGE_INVALID' },
      { seq: 2, code: 'VIGIL_ERR_MESSAGE_INVALID' },
      { seq: 4, code: 'VIGIL_ERR_MESSAGE_INVALID' }, // beyond upToSeq: not removed, not counted
    ]);
    expect(ob.counters()).toMatchObject({ acknowledged: 2, rejected: 1 });
    const rejectedLog = log.entries.find((e) => e.msg === 'outbox: the collector rejected a message');
    expect(rejectedLog?.obj).toEqual({ seq: 2, type: 'usb.attached', code: 'VIGIL_ERR_MESSAGE_INVALID' });
    expect(ob.pending(0, 10).map((m) => m.seq)).toEqual([4, 5]);
    expectBalanced(ob.counters(), ob.stats().pending);
  });

  it('ignores acks at or below the previous one', () => {
    const ob = openOutbox(makeTempDir());
    ob.appendMany(Array.from({ length: 5 }, () => ({ type: 'heartbeat' as const, body: heartbeatBody() })));
    ob.ack(3);
    ob.ack(3, [{ seq: 3, code: 'VIGIL_ERR_MESSAGE_INVALID' }]);
    ob.ack(1);
    ob.ack(0);
    expect(ob.counters()).toMatchObject({ acknowledged: 3, rejected: 0 });
    expect(ob.stats().ackedSeq).toBe(3);
  });

  it('caps an ack beyond the last appended seq, so later seqs still count as pending', () => {
    const dir = makeTempDir();
    const log = captureLogger();
    const ob = openOutbox(dir, { logger: log });
    ob.appendMany(Array.from({ length: 3 }, () => ({ type: 'heartbeat' as const, body: heartbeatBody() })));
    ob.ack(1000);
    expect(log.warnings()).toContain('outbox: ack beyond the last appended seq; capped');
    expect(ob.stats()).toMatchObject({ pending: 0, ackedSeq: 3 });
    expect(ob.append('usb.attached', usbAttachedBody('X'))?.seq).toBe(4);
    ob.close();
    const again = openOutbox(dir);
    expect(again.pending(0, 10).map((m) => m.seq)).toEqual([4]);
  });

  it('deletes segments that hold only acknowledged messages, keeping the active one', () => {
    const dir = makeTempDir();
    const ob = openOutbox(dir, { segmentBytes: 1000 });
    for (let i = 0; i < 30; i++) ob.append('heartbeat', heartbeatBody(i));
    const before = segmentFiles(dir);
    const firstSeqs = before.map((f) => Number(f.slice(4, 16)));
    expect(firstSeqs[0]).toBe(1);
    // Each segment is named by the seq of its first record.
    for (const l of readJournal(dir)) expect(Number(l.file.slice(4, 16))).toBeLessThanOrEqual(l.seq);
    const third = firstSeqs[2] ?? 0;
    ob.ack(third); // the first two segments are done, the third still holds third+1…
    expect(segmentFiles(dir)).toEqual(before.slice(2));
    ob.ack(30);
    expect(segmentFiles(dir)).toEqual(before.slice(-1));
    expect(ob.stats()).toMatchObject({ pending: 0, bytes: 0 });
    expect(ob.append('heartbeat', heartbeatBody())?.seq).toBe(31);
    expect(ob.pending(0, 10).map((m) => m.seq)).toEqual([31]);
  });
});

describe('Outbox: restarts', () => {
  it('continues the seq, the pending messages and the counters after close and reopen', () => {
    const dir = makeTempDir();
    const first = Outbox.open({ dir });
    first.appendMany(Array.from({ length: 4 }, (_, i) => ({ type: 'usb.attached' as const, body: usbAttachedBody(`S${i}`) })));
    first.markSent(4);
    first.ack(2, [{ seq: 1, code: 'VIGIL_ERR_MESSAGE_INVALID' }]);
    first.markSent(1);
    const lines = first.pending(0, 10).map((m) => m.line);
    first.close();
    const second = openOutbox(dir);
    expect(second.counters()).toEqual({ produced: 4, sent: 5, acknowledged: 1, rejected: 1, dropped: 0 });
    expect(second.pending(0, 10).map((m) => m.line)).toEqual(lines);
    expect(second.stats()).toMatchObject({ pending: 2, lastSeq: 4, ackedSeq: 2 });
    expect(second.append('heartbeat', heartbeatBody())?.seq).toBe(5);
  });

  it('recovers appends made after the last state write, as after a crash (no close)', () => {
    const dir = makeTempDir();
    const first = openOutbox(dir);
    first.appendMany(Array.from({ length: 3 }, () => ({ type: 'heartbeat' as const, body: heartbeatBody() })));
    first.ack(1); // state written here
    first.append('usb.attached', usbAttachedBody('late')); // journal only
    const log = captureLogger();
    const second = openOutbox(dir, { logger: log });
    expect(log.warnings()).toEqual([]);
    expect(second.pending(0, 10).map((m) => m.seq)).toEqual([2, 3, 4]);
    expect(second.counters()).toMatchObject({ produced: 4, acknowledged: 1 });
    expectBalanced(second.counters(), second.stats().pending);
    expect(second.append('heartbeat', heartbeatBody())?.seq).toBe(5);
  });

  it('never reuses a seq when state.json is older than the journal', () => {
    const dir = makeTempDir();
    const first = openOutbox(dir);
    first.append('heartbeat', heartbeatBody());
    first.ack(1);
    const oldState = fs.readFileSync(path.join(dir, 'state.json'));
    first.appendMany(Array.from({ length: 5 }, () => ({ type: 'heartbeat' as const, body: heartbeatBody() })));
    first.close();
    fs.writeFileSync(path.join(dir, 'state.json'), oldState);
    const second = openOutbox(dir);
    expect(second.stats()).toMatchObject({ lastSeq: 6, pending: 5 });
    expect(second.append('heartbeat', heartbeatBody())?.seq).toBe(7);
  });

  it('never reuses a seq after everything was acknowledged', () => {
    const dir = makeTempDir();
    const first = openOutbox(dir, { segmentBytes: 500 });
    for (let i = 0; i < 10; i++) first.append('heartbeat', heartbeatBody());
    first.ack(10);
    first.close();
    const second = openOutbox(dir, { segmentBytes: 500 });
    expect(second.append('heartbeat', heartbeatBody())?.seq).toBe(11);
    // Even without state.json the kept active segment bounds the next seq from below.
    second.close();
    fs.rmSync(path.join(dir, 'state.json'));
    const third = openOutbox(dir, { segmentBytes: 500 });
    expect(third.stats().lastSeq).toBeGreaterThanOrEqual(11);
  });

  it('keeps counters exact through a workload with restarts: produced = acked + rejected + dropped + pending', () => {
    const dir = makeTempDir();
    let rng = 12345;
    const random = () => ((rng = (rng * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const opts = { dir, maxBytes: 6_000, segmentBytes: 1_500 };
    let ob = openOutbox(dir, opts);
    const tally = { produced: 0, acknowledged: 0, rejected: 0, dropped: 0 };
    for (let step = 0; step < 300; step++) {
      const r = random();
      if (r < 0.5) {
        const items: OutboxItem[] = Array.from({ length: 1 + Math.floor(random() * 5) }, (_, i) =>
          random() < 0.6 ? { type: 'heartbeat', body: heartbeatBody(i) } : { type: 'usb.attached', body: usbAttachedBody(`R${step}-${i}`) },
        );
        const before = ob.counters().dropped;
        const envs = ob.appendMany(items);
        tally.produced += items.length;
        // Messages dropped at append come back as null; others may have been dropped to make room.
        expect(ob.counters().dropped - before).toBeGreaterThanOrEqual(envs.filter((e) => e === null).length);
      } else if (r < 0.8) {
        const { lastSeq, ackedSeq } = ob.stats();
        const upTo = ackedSeq + Math.floor(random() * (lastSeq - ackedSeq + 1));
        const window = ob.pending(ackedSeq, 1000).filter((m) => m.seq <= upTo);
        const rejected = window.filter(() => random() < 0.2).map((m) => ({ seq: m.seq, code: 'VIGIL_ERR_MESSAGE_INVALID' }));
        ob.ack(upTo, rejected);
        if (upTo > ackedSeq) {
          tally.acknowledged += window.length - rejected.length;
          tally.rejected += rejected.length;
        }
      } else if (r < 0.9) {
        ob.close();
        open.splice(open.indexOf(ob), 1);
        ob = openOutbox(dir, opts);
      } else {
        // A crash: abandon this instance without close.
        open.splice(open.indexOf(ob), 1);
        ob = openOutbox(dir, opts);
      }
      const c = ob.counters();
      expect({ produced: c.produced, acknowledged: c.acknowledged, rejected: c.rejected }).toEqual({
        produced: tally.produced,
        acknowledged: tally.acknowledged,
        rejected: tally.rejected,
      });
      expectBalanced(c, ob.stats().pending);
      expect(c.dropped).toBe(Object.values(ob.droppedByType()).reduce((a, b) => a + b, 0));
      expect(ob.pending(0, 10_000)).toHaveLength(ob.stats().pending);
    }
    expect(ob.counters().dropped).toBeGreaterThan(0);
  });
});

describe('Outbox: failed writes', () => {
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });

  it('keeps nothing of a batch whose write fails, and gives its seqs back', () => {
    const dir = makeTempDir();
    const ob = openOutbox(dir);
    ob.append('usb.attached', usbAttachedBody('before'));
    const file = path.join(dir, 'seg-000000000001.log');
    const size = fs.statSync(file).size;
    vi.spyOn(fs, 'writeSync').mockImplementationOnce(() => {
      throw enospc();
    });
    expect(() => ob.appendMany([{ type: 'usb.attached', body: usbAttachedBody('a') }, { type: 'usb.attached', body: usbAttachedBody('b') }])).toThrow(/ENOSPC/);
    expect(fs.statSync(file).size).toBe(size);
    expect(ob.stats()).toMatchObject({ pending: 1, lastSeq: 1 });
    expect(ob.counters().produced).toBe(1);
    expect(ob.append('usb.attached', usbAttachedBody('after'))?.seq).toBe(2);
    expect(readJournal(dir).map((l) => l.seq)).toEqual([1, 2]);
  });

  it('cuts the file back when fsync fails after the write', () => {
    const dir = makeTempDir();
    const ob = openOutbox(dir);
    ob.append('heartbeat', heartbeatBody());
    const file = path.join(dir, 'seg-000000000001.log');
    const size = fs.statSync(file).size;
    vi.spyOn(fs, 'fsyncSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    });
    expect(() => ob.append('usb.attached', usbAttachedBody('x'))).toThrow(/EIO/);
    expect(fs.statSync(file).size).toBe(size);
    expect(ob.append('usb.attached', usbAttachedBody('y'))?.seq).toBe(2);
  });

  it('undoes a failed batch that had rolled into a new segment', () => {
    const dir = makeTempDir();
    const ob = openOutbox(dir, { segmentBytes: 1000 });
    ob.append('heartbeat', heartbeatBody());
    const files = segmentFiles(dir);
    const size = fs.statSync(path.join(dir, 'seg-000000000001.log')).size;
    const real = fs.writeSync.bind(fs) as (...a: unknown[]) => number;
    let calls = 0;
    vi.spyOn(fs, 'writeSync').mockImplementation(((...args: unknown[]) => {
      if (++calls === 2) throw enospc();
      return real(...args);
    }) as typeof fs.writeSync);
    const items = Array.from({ length: 8 }, (_, i) => ({ type: 'heartbeat' as const, body: heartbeatBody(i) }));
    expect(() => ob.appendMany(items)).toThrow(/ENOSPC/);
    vi.restoreAllMocks();
    expect(segmentFiles(dir)).toEqual(files);
    expect(fs.statSync(path.join(dir, 'seg-000000000001.log')).size).toBe(size);
    expect(ob.appendMany(items).map((e) => e?.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ob.pending(0, 100).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('writes nothing for a body that cannot be serialised', () => {
    const ob = openOutbox(makeTempDir());
    const bad = { ...heartbeatBody(), uptimeSeconds: 10n as unknown as number };
    expect(() => ob.appendMany([{ type: 'heartbeat', body: heartbeatBody() }, { type: 'heartbeat', body: bad }])).toThrow(TypeError);
    expect(ob.stats()).toMatchObject({ pending: 0, lastSeq: 0 });
    expect(ob.append('heartbeat', heartbeatBody())?.seq).toBe(1);
  });
});

describe('Outbox: volume', () => {
  it('takes 10,000 heartbeats in batches of 100 with fsync on, and gives them all back after a restart', () => {
    const dir = makeTempDir();
    const ob = openOutbox(dir, { segmentBytes: 512 * 1024 });
    for (let b = 0; b < 100; b++) {
      const envs = ob.appendMany(Array.from({ length: 100 }, (_, i) => ({ type: 'heartbeat' as const, body: heartbeatBody(b * 100 + i) })));
      expect(envs[99]?.seq).toBe((b + 1) * 100);
    }
    expect(segmentFiles(dir).length).toBeGreaterThan(4);
    ob.close();
    const again = openOutbox(dir, { segmentBytes: 512 * 1024 });
    let after = 0;
    let count = 0;
    for (let batch = again.pending(after, 500); batch.length > 0; batch = again.pending(after, 500)) {
      for (const m of batch) expect(m.seq).toBe(++count);
      after = batch.at(-1)?.seq ?? after;
    }
    expect(count).toBe(10_000);
    expect(again.counters()).toMatchObject({ produced: 10_000, dropped: 0 });
  });
});
