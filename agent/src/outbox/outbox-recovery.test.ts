import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentCounters } from '@vigil/shared';
import { Outbox, type OutboxOptions } from './outbox.js';
import {
  closeOutboxesAndTempDirs,
  expectBalanced,
  openOutbox,
  appendBytes,
  captureLogger,
  heartbeatBody,
  makeTempDir,
  readJournal,
  recordLine,
  segmentFiles,
  usbAttachedBody,
} from './test-support/outbox-fixtures.js';

afterEach(closeOutboxesAndTempDirs);

/** A closed outbox in a temp dir holding `n` USB events (seq 1..n). */
function journalWith(n: number, opts: Partial<OutboxOptions> = {}): { dir: string; file: string; lines: string[] } {
  const dir = makeTempDir();
  const ob = Outbox.open({ dir, ...opts });
  for (let i = 1; i <= n; i++) ob.append('usb.attached', usbAttachedBody(`S${i}`), 1_700_000_000_000 + i);
  const lines = ob.pending(0, n).map((m) => m.line);
  ob.close();
  return { dir, file: path.join(dir, 'seg-000000000001.log'), lines };
}

/** A valid-looking envelope JSON for hand-made journals. */
function envelopeJson(seq: number, type = 'usb.attached'): string {
  return JSON.stringify({ v: 1, type, id: `0190f5a0-0000-7000-8000-${String(seq).padStart(12, '0')}`, seq, ts: 1_700_000_000_000, body: {} });
}

describe('Outbox recovery: torn tails', () => {
  const cases: [string, (next: string) => string | Buffer][] = [
    ['a half-written last line', (next) => next.slice(0, 40)],
    ['a complete last line with a bad CRC', (next) => '00000000' + next.slice(8)],
    ['a last line with a good CRC but invalid JSON', () => recordLine('{"v":1,"type":"usb.attached","seq":4')],
    ['zeros where the last write should be', () => Buffer.alloc(300)],
    ['several broken lines', (next) => next.slice(0, 20) + '\n' + next.slice(0, 60) + '\nxx'],
  ];
  for (const [what, tail] of cases) {
    it(`cuts off ${what} and carries on from the last good record`, () => {
      const { dir, file, lines } = journalWith(3);
      const good = fs.statSync(file).size;
      appendBytes(file, tail(recordLine(envelopeJson(4))));
      const log = captureLogger();
      const ob = openOutbox({ dir, logger: log });
      expect(log.warnings()).toContain('outbox: cut a torn tail off the journal');
      expect(log.warnings()).not.toContain('outbox: skipped corrupt records');
      expect(ob.recoveryReport()).toMatchObject({ tornBytes: expect.any(Number), corruptRecords: 0, maxSeq: 3 });
      expect(fs.statSync(file).size).toBe(good);
      expect(ob.pending(0, 10).map((m) => m.line)).toEqual(lines);
      // The torn record was never returned to anyone, so its seq is given out again.
      expect(ob.append('heartbeat', heartbeatBody())?.seq).toBe(4);
      expect(readJournal(dir).map((l) => [l.seq, l.crcOk])).toEqual([[1, true], [2, true], [3, true], [4, true]]);
      expect(ob.counters()).toMatchObject({ produced: 4, dropped: 0 });
    });
  }

  it('empties a segment made just before a crash that holds only garbage', () => {
    const { dir } = journalWith(3);
    fs.writeFileSync(path.join(dir, 'seg-000000000004.log'), '3f2a');
    const ob = openOutbox({ dir });
    expect(ob.recoveryReport().tornBytes).toBe(4);
    expect(ob.pending(0, 10).map((m) => m.seq)).toEqual([1, 2, 3]);
    // Its name still bounds the next seq from below.
    expect(ob.append('usb.attached', usbAttachedBody('next'))?.seq).toBe(4);
    expect(readJournal(dir).map((l) => l.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe('Outbox recovery: corruption before the end', () => {
  it('skips a bad record between good ones, warns, and counts the lost message once', () => {
    const { dir, file, lines } = journalWith(4);
    const text = fs.readFileSync(file, 'utf8');
    const second = text.indexOf('\n') + 1;
    fs.writeFileSync(file, text.slice(0, second + 30) + '#' + text.slice(second + 31));
    const size = fs.statSync(file).size;
    const log = captureLogger();
    const ob = openOutbox({ dir, logger: log });
    expect(log.warnings()).toContain('outbox: skipped corrupt records');
    expect(log.warnings()).not.toContain('outbox: cut a torn tail off the journal');
    expect(ob.recoveryReport().corruptRecords).toBe(1);
    expect(fs.statSync(file).size).toBe(size);
    expect(ob.pending(0, 10).map((m) => m.line)).toEqual([lines[0], lines[2], lines[3]]);
    expect(ob.counters()).toMatchObject({ produced: 4, dropped: 1 });
    expect(ob.droppedByType()).toEqual({ corrupt: 1 });
    expectBalanced(ob.counters(), ob.stats().pending);
    ob.close();
    const again = openOutbox({ dir });
    expect(again.counters()).toMatchObject({ produced: 4, dropped: 1 });
    expect(again.append('heartbeat', heartbeatBody())?.seq).toBe(5);
  });

  it('treats a torn end of an earlier segment as corruption, not as the tail', () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, 'seg-000000000001.log'), recordLine(envelopeJson(1)) + recordLine(envelopeJson(2)).slice(0, 50));
    fs.writeFileSync(path.join(dir, 'seg-000000000003.log'), recordLine(envelopeJson(3)));
    const ob = openOutbox({ dir });
    expect(ob.recoveryReport()).toMatchObject({ corruptRecords: 1, tornBytes: 0, maxSeq: 3 });
    expect(ob.pending(0, 10).map((m) => m.seq)).toEqual([1, 3]);
    expect(ob.append('heartbeat', heartbeatBody())?.seq).toBe(4);
  });

  it('skips records whose seq is out of order or outside their segment', () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, 'seg-000000000002.log'), [1, 2, 3, 3, 7, 4].map((s) => recordLine(envelopeJson(s))).join(''));
    fs.writeFileSync(path.join(dir, 'seg-000000000006.log'), recordLine(envelopeJson(6)));
    const ob = openOutbox({ dir });
    expect(ob.pending(0, 10).map((m) => m.seq)).toEqual([2, 3, 4, 6]);
    expect(ob.recoveryReport().corruptRecords).toBe(3);
  });

  it('rebuilds from a journal with no state file', () => {
    const dir = makeTempDir();
    fs.writeFileSync(path.join(dir, 'seg-000000000005.log'), [5, 6, 7].map((s) => recordLine(envelopeJson(s, s === 6 ? 'heartbeat' : 'usb.attached'))).join(''));
    const ob = openOutbox({ dir });
    expect(ob.pending(0, 10).map((m) => [m.seq, m.type])).toEqual([[5, 'usb.attached'], [6, 'heartbeat'], [7, 'usb.attached']]);
    expect(ob.pending(0, 10).map((m) => m.line)).toEqual([envelopeJson(5), envelopeJson(6, 'heartbeat'), envelopeJson(7)]);
    expect(ob.counters()).toEqual({ produced: 3, sent: 0, acknowledged: 0, rejected: 0, dropped: 0 });
    expect(ob.append('heartbeat', heartbeatBody())?.seq).toBe(8);
  });

  it('ignores an unreadable state file and starts from the journal', () => {
    const { dir, lines } = journalWith(2);
    fs.writeFileSync(path.join(dir, 'state.json'), '{"version":1,"ackedSeq":');
    const log = captureLogger();
    const ob = openOutbox({ dir, logger: log });
    expect(log.warnings()).toContain('outbox: state file unreadable; starting from the journal alone');
    expect(ob.pending(0, 10).map((m) => m.line)).toEqual(lines);
    expect(ob.append('heartbeat', heartbeatBody())?.seq).toBe(3);
  });
});

describe('Outbox recovery: state and journal out of step', () => {
  it('ignores records at or below ackedSeq and deletes segments a crash kept after their ack', () => {
    const dir = makeTempDir();
    const opts = { dir, segmentBytes: 1_200 };
    const ob = Outbox.open(opts);
    for (let i = 1; i <= 12; i++) ob.append('usb.attached', usbAttachedBody(`S${i}`));
    const saved = new Map(segmentFiles(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
    ob.ack(9);
    ob.close();
    // As if the process died after writing state.json but before deleting the acked segments.
    for (const [f, data] of saved) fs.writeFileSync(path.join(dir, f), data);
    const again = openOutbox(opts);
    expect(again.pending(0, 100).map((m) => m.seq)).toEqual([10, 11, 12]);
    expect(again.counters()).toMatchObject({ produced: 12, acknowledged: 9 });
    const left = segmentFiles(dir);
    expect(left.length).toBeLessThan(saved.size);
    expect(readJournal(dir).filter((l) => l.seq >= 10).map((l) => l.seq)).toEqual([10, 11, 12]);
  });

  it('finishes a drop the state file recorded but the segments did not yet reflect', () => {
    const dir = makeTempDir();
    const ob = Outbox.open({ dir });
    for (let i = 0; i < 3; i++) ob.append('heartbeat', heartbeatBody(i));
    ob.append('usb.attached', usbAttachedBody('keep'));
    ob.close();
    // What the outbox writes before rewriting segments when it drops seqs 1 and 2.
    const statePath = path.join(dir, 'state.json');
    const state = JSON.parse(fs.readFileSync(statePath, 'utf8')) as { counters: AgentCounters; droppedByType: Record<string, number>; dropSeqs: number[] };
    state.counters.dropped += 2;
    state.droppedByType.heartbeat = 2;
    state.dropSeqs = [1, 2];
    fs.writeFileSync(statePath, JSON.stringify(state));
    const again = openOutbox({ dir });
    expect(again.pending(0, 10).map((m) => m.seq)).toEqual([3, 4]);
    expect(again.counters()).toMatchObject({ produced: 4, dropped: 2 });
    expect(again.droppedByType()).toEqual({ heartbeat: 2 });
    expectBalanced(again.counters(), again.stats().pending);
    expect(readJournal(dir).map((l) => l.seq)).toEqual([3, 4]);
    expect(JSON.parse(fs.readFileSync(statePath, 'utf8'))).toMatchObject({ dropSeqs: [] });
  });

  it('removes temporary files left by a crash', () => {
    const { dir } = journalWith(1);
    fs.writeFileSync(path.join(dir, 'state.json.tmp'), '{"half');
    fs.writeFileSync(path.join(dir, 'seg-000000000001.log.tmp'), 'half a rewrite');
    const log = captureLogger();
    const ob = openOutbox({ dir, logger: log });
    expect(fs.readdirSync(dir).sort()).toEqual(['seg-000000000001.log', 'state.json']);
    expect(log.entries.some((e) => e.msg === 'outbox: removed temporary files left by a crash')).toBe(true);
    expect(ob.pending(0, 10)).toHaveLength(1);
  });
});
