import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'vitest';
import type { AgentCounters, AgentMessageBody, UsbDevice } from '@vigil/shared';
import type { OutboxLogger } from '../outbox-logger.js';
import { Outbox, type OutboxOptions } from '../outbox.js';

/** Helpers for the outbox tests: temp dirs, message bodies, a capturing logger, a journal reader. */

const made: string[] = [];

/** A fresh directory under the OS temp dir; `removeTempDirs` deletes them all. */
export function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-outbox-'));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function heartbeatBody(uptimeSeconds = 1): AgentMessageBody<'heartbeat'> {
  return {
    counters: { produced: 0, sent: 0, acknowledged: 0, rejected: 0, dropped: 0 },
    droppedByType: {},
    outbox: { pending: 0, bytes: 0 },
    uptimeSeconds,
  };
}

export function usbDevice(serial: string): UsbDevice {
  return {
    key: `usb:0781:5567:${serial}`,
    vendorId: '0781',
    productId: '5567',
    serial,
    manufacturer: 'SanDisk',
    product: 'Cruzer Blade',
    deviceClass: '00',
    interfaceClasses: ['08'],
    busPath: '1-1.4',
    removable: 'removable',
    isHub: false,
    isRootHub: false,
  };
}

export function usbAttachedBody(serial: string): AgentMessageBody<'usb.attached'> {
  return { device: usbDevice(serial), present: false };
}

export function sessionStateBody(): AgentMessageBody<'session.state'> {
  return { sessions: [] };
}

/** A software diff of roughly `bytes` bytes, for filling the budget quickly. */
export function softwareChangedBody(bytes: number): AgentMessageBody<'software.changed'> {
  return { installed: [{ name: 'x'.repeat(Math.max(1, bytes)), version: '1.0', source: 'dpkg' }], removed: [], upgraded: [] };
}

export interface LogEntry {
  level: 'warn' | 'info';
  obj: object;
  msg: string | undefined;
}

/** A logger that keeps what it is told. */
export function captureLogger(): OutboxLogger & { entries: LogEntry[]; warnings(): string[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    warn: (obj, msg) => void entries.push({ level: 'warn', obj, msg }),
    info: (obj, msg) => void entries.push({ level: 'info', obj, msg }),
    warnings: () => entries.filter((e) => e.level === 'warn').map((e) => e.msg ?? ''),
  };
}

export interface JournalLine {
  file: string;
  crcOk: boolean;
  json: string;
  seq: number;
  type: string;
}

/** Segment file names in `dir`, sorted. */
export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => /^seg-\d{12,}\.log$/.test(n))
    .sort();
}

/**
 * Every complete line of every segment, parsed independently of the outbox code: split at the
 * tab, CRC recomputed with zlib, JSON parsed.
 */
export function readJournal(dir: string): JournalLine[] {
  const out: JournalLine[] = [];
  for (const file of segmentFiles(dir)) {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const line of text.split('\n').slice(0, -1)) {
      const tab = line.indexOf('\t');
      const json = line.slice(tab + 1);
      const crcOk = tab === 8 && Number.parseInt(line.slice(0, 8), 16) === zlib.crc32(Buffer.from(json, 'utf8'));
      const env = JSON.parse(json) as { seq: number; type: string };
      out.push({ file, crcOk, json, seq: env.seq, type: env.type });
    }
  }
  return out;
}

/** Appends raw bytes to a file, as a torn or corrupted write would leave them. */
export function appendBytes(file: string, data: string | Buffer): void {
  fs.appendFileSync(file, data);
}

/** A record line in the journal format, for hand-made journals. */
export function recordLine(json: string): string {
  const crc = zlib.crc32(Buffer.from(json, 'utf8')).toString(16).padStart(8, '0');
  return `${crc}\t${json}\n`;
}

const opened: Outbox[] = [];

/** Open an outbox that `closeOutboxesAndTempDirs` will close after the test. */
export function openOutbox(opts: OutboxOptions): Outbox {
  const ob = Outbox.open(opts);
  opened.push(ob);
  return ob;
}

export function closeOutboxesAndTempDirs(): void {
  for (const ob of opened.splice(0)) ob.close();
  removeTempDirs();
}

/** The counters' invariant: every message produced is acknowledged, rejected, dropped or pending. */
export function expectBalanced(c: AgentCounters, pending: number): void {
  expect(c.produced).toBe(c.acknowledged + c.rejected + c.dropped + pending);
}
