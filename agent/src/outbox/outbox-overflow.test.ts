import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from './outbox.js';
import {
  closeOutboxesAndTempDirs,
  expectBalanced,
  openOutbox,
  captureLogger,
  heartbeatBody,
  makeTempDir,
  readJournal,
  segmentFiles,
  sessionStateBody,
  softwareChangedBody,
  usbAttachedBody,
} from './test-support/outbox-fixtures.js';

const NOW = 1_700_000_000_000;
afterEach(closeOutboxesAndTempDirs);

/** On-disk size of one record of each kind (single-digit seq). */
function recordSizes(): { heartbeat: number; usb: number; session: number } {
  const ob = Outbox.open({ dir: makeTempDir(), fsync: false });
  const sizeOf = (append: () => unknown): number => {
    const before = ob.stats().bytes;
    append();
    return ob.stats().bytes - before;
  };
  const sizes = {
    heartbeat: sizeOf(() => ob.append('heartbeat', heartbeatBody(), NOW)),
    usb: sizeOf(() => ob.append('usb.attached', usbAttachedBody('S0'), NOW)),
    session: sizeOf(() => ob.append('session.state', sessionStateBody(), NOW)),
  };
  ob.close();
  return sizes;
}

describe('Outbox overflow', () => {
  it('drops a droppable message that does not fit, without writing it, and counts it durably', () => {
    const { heartbeat } = recordSizes();
    const dir = makeTempDir();
    const ob = openOutbox({ dir, maxBytes: heartbeat * 3 });
    expect([1, 2, 3].map(() => ob.append('heartbeat', heartbeatBody(), NOW)?.seq)).toEqual([1, 2, 3]);
    const size = fs.statSync(path.join(dir, 'seg-000000000001.log')).size;
    expect(ob.append('heartbeat', heartbeatBody(), NOW)).toBeNull();
    expect(ob.append('session.state', sessionStateBody(), NOW)).toBeNull();
    const batch = ob.appendMany([{ type: 'screenlock.state', body: { settings: [] } }, { type: 'heartbeat', body: heartbeatBody() }], NOW);
    expect(batch).toEqual([null, null]);
    expect(fs.statSync(path.join(dir, 'seg-000000000001.log')).size).toBe(size);
    expect(ob.counters()).toMatchObject({ produced: 7, dropped: 4 });
    expect(ob.droppedByType()).toEqual({ heartbeat: 2, 'session.state': 1, 'screenlock.state': 1 });
    expect(ob.stats()).toMatchObject({ pending: 3, lastSeq: 3 });
    // Persisted at once: a crash now (no close) keeps the counts.
    const again = openOutbox({ dir, maxBytes: heartbeat * 3 });
    expect(again.counters()).toMatchObject({ produced: 7, dropped: 4 });
    expect(again.droppedByType()).toEqual({ heartbeat: 2, 'session.state': 1, 'screenlock.state': 1 });
    expectBalanced(again.counters(), again.stats().pending);
  });

  it('makes room for a USB event by dropping the oldest droppable messages, for good', () => {
    const { heartbeat, usb, session } = recordSizes();
    const dir = makeTempDir();
    const log = captureLogger();
    const maxBytes = usb + heartbeat * 3 + session; // exactly full after the first five
    const ob = openOutbox({ dir, maxBytes, logger: log });
    ob.append('heartbeat', heartbeatBody(1), NOW); // 1
    ob.append('usb.attached', usbAttachedBody('S0'), NOW); // 2
    ob.append('heartbeat', heartbeatBody(3), NOW); // 3
    ob.append('session.state', sessionStateBody(), NOW); // 4 (smaller than a heartbeat)
    ob.append('heartbeat', heartbeatBody(5), NOW); // 5
    expect(ob.append('usb.attached', usbAttachedBody('S1'), NOW)?.seq).toBe(6);
    // A USB record is larger than one heartbeat but smaller than two: seqs 1 and 3 go.
    expect(usb).toBeGreaterThan(heartbeat);
    expect(usb).toBeLessThan(heartbeat * 2);
    expect(session).toBeLessThan(heartbeat);
    expect(ob.pending(0, 10).map((m) => m.seq)).toEqual([2, 4, 5, 6]);
    expect(ob.droppedByType()).toEqual({ heartbeat: 2 });
    expect(ob.counters()).toMatchObject({ produced: 6, dropped: 2 });
    expect(ob.stats().bytes).toBeLessThanOrEqual(maxBytes);
    expect(log.warnings()).toContain('outbox: over budget; dropped the oldest droppable messages');
    // Gone from disk, so a restart (even without close) does not resend them.
    expect(readJournal(dir).map((l) => l.seq)).toEqual([2, 4, 5, 6]);
    expect(readJournal(dir).every((l) => l.crcOk)).toBe(true);
    const again = openOutbox({ dir, maxBytes });
    expect(again.pending(0, 10).map((m) => m.seq)).toEqual([2, 4, 5, 6]);
    expect(again.counters()).toMatchObject({ produced: 6, dropped: 2 });
    expect(again.droppedByType()).toEqual({ heartbeat: 2 });
    // Acknowledging a range with dropped seqs in it counts only what was still pending.
    again.ack(5);
    expect(again.counters()).toMatchObject({ acknowledged: 3, dropped: 2 });
    expectBalanced(again.counters(), again.stats().pending);
  });

  it('keeps a message that must not be dropped even when nothing can make room, with a warning', () => {
    const { usb } = recordSizes();
    const dir = makeTempDir();
    const log = captureLogger();
    const ob = openOutbox({ dir, maxBytes: usb * 2, logger: log });
    const envs = ob.appendMany(
      [1, 2, 3].map((i) => ({ type: 'usb.attached' as const, body: usbAttachedBody(`S${i}`) })),
      NOW,
    );
    expect(envs.map((e) => e?.seq)).toEqual([1, 2, 3]);
    expect(log.warnings()).toContain('outbox: over budget; kept a message that must not be dropped');
    expect(ob.append('goodbye', { reason: 'shutdown' }, NOW)?.seq).toBe(4);
    expect(ob.append('heartbeat', heartbeatBody(), NOW)).toBeNull();
    expect(ob.pending(0, 10).map((m) => m.type)).toEqual(['usb.attached', 'usb.attached', 'usb.attached', 'goodbye']);
    expect(ob.counters()).toMatchObject({ produced: 5, dropped: 1 });
  });

  it('drops across segments, deleting emptied ones and rewriting the active one in place', () => {
    const { heartbeat } = recordSizes();
    const dir = makeTempDir();
    const opts = { dir, maxBytes: heartbeat * 9, segmentBytes: heartbeat * 3 };
    const ob = openOutbox(opts);
    // 1..8 heartbeats over three segments (1-3, 4-6, 7-8).
    for (let i = 1; i <= 8; i++) ob.append('heartbeat', heartbeatBody(i), NOW);
    expect(segmentFiles(dir)).toEqual(['seg-000000000001.log', 'seg-000000000004.log', 'seg-000000000007.log']);
    // A big software diff needs about seven heartbeats' room.
    const big = ob.append('software.changed', softwareChangedBody(heartbeat * 6), NOW);
    expect(big?.seq).toBe(9);
    const left = ob.pending(0, 20);
    expect(left.at(-1)?.seq).toBe(9);
    const dropped = ob.counters().dropped;
    expect(dropped).toBeGreaterThanOrEqual(6);
    // The oldest went first.
    expect(left.slice(0, -1).map((m) => m.seq)).toEqual(Array.from({ length: 8 - dropped }, (_, i) => dropped + 1 + i));
    expect(ob.stats().bytes).toBeLessThanOrEqual(opts.maxBytes);
    expect(segmentFiles(dir)).not.toContain('seg-000000000001.log');
    // Appends after the rewrite land at the right offsets of the active segment.
    ob.append('usb.attached', usbAttachedBody('after'), NOW);
    const lines = ob.pending(0, 20);
    expect(lines.map((m) => JSON.parse(m.line).seq)).toEqual(lines.map((m) => m.seq));
    expect(readJournal(dir).every((l) => l.crcOk)).toBe(true);
    expect(readJournal(dir).map((l) => l.seq)).toEqual(lines.map((m) => m.seq));
    const again = openOutbox(opts);
    expect(again.pending(0, 20).map((m) => m.line)).toEqual(lines.map((m) => m.line));
    expectBalanced(again.counters(), again.stats().pending);
  });

  it('stays within budget while non-droppable messages alone fit in it', () => {
    const { heartbeat, usb } = recordSizes();
    const dir = makeTempDir();
    const maxBytes = heartbeat * 20;
    const ob = openOutbox({ dir, maxBytes, segmentBytes: heartbeat * 4, fsync: false });
    let usbBytes = 0;
    let usbCount = 0;
    for (let i = 0; i < 200; i++) {
      const isUsb = i % 7 === 0 && usbBytes + usb * 2 < maxBytes;
      if (isUsb) {
        expect(ob.append('usb.attached', usbAttachedBody(`S${i}`), NOW)).not.toBeNull();
        usbBytes += usb * 2; // generous: seq digits grow
        usbCount++;
      } else {
        ob.append('heartbeat', heartbeatBody(i), NOW);
      }
      expect(ob.stats().bytes).toBeLessThanOrEqual(maxBytes);
      expectBalanced(ob.counters(), ob.stats().pending);
    }
    // Every USB event is still there; only heartbeats were dropped.
    expect(ob.pending(0, 1000).filter((m) => m.type === 'usb.attached')).toHaveLength(usbCount);
    expect(Object.keys(ob.droppedByType())).toEqual(['heartbeat']);
    expect(ob.counters().dropped).toBeGreaterThan(100);
  });
});
