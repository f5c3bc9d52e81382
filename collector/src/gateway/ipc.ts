import type { Duplex } from 'node:stream';
import type { AgentEnvelope, CollectorMessageType, ErrorCode, SoftwareItem } from '@vigil/shared';
import { writeCoalesced } from '../coalesced-write.js';
import type { Rejection } from '../db/ingest-repository.js';
import { itemKey, sharedItem } from '../policy/software/item-key.js';
import type { ConnectionSettings } from '../services/agent-connection.js';

/*
 * The protocol between the collector's main process and its gateway worker processes
 * (`--gateway-workers N`). The workers accept the collector's connections: the main process binds
 * the listening socket and passes it to every worker (it never polls it itself), so the kernel
 * spreads new connections over the workers. A worker reads each connection's first request head:
 * an agent's `/agent/v1` WebSocket upgrade it keeps (the main process checks the token, over the
 * data pipe, and registers the connection), and it completes the handshake, decodes and validates
 * every frame, and forwards what it accepted. Anything else (the API, the dashboard, enrolment,
 * an agent it has no room for) goes to the main process as a socket with the bytes already read.
 * The main process stays the only writer to SQLite: it commits, judges, and sends the acks back
 * through the worker. (An agent upgrade that reaches the main process that way is authenticated
 * there and its socket handed back to the least busy worker with room, as a `conn`.)
 *
 * Two channels per worker. Sockets go with their `conn` message over Node's IPC channel, which
 * sends one handle at a time and holds every later message until the worker has acknowledged it;
 * everything else goes as JSON lines over a pipe of its own (fd 4 in the worker), so acks and
 * config are never queued behind a reconnect storm's sockets. Order across the two channels is not
 * needed: the main process sends nothing for a connection before the worker has reported it (hello),
 * and the worker reports nothing before it has the connection.
 */

/** The worker's end of the data pipe. */
export const DATA_FD = 4;

/**
 * Writes one message as a JSON line (JSON.stringify never emits a raw newline), in one system call
 * with the other lines written to `stream` in the same tick.
 */
export function writeLine(stream: Duplex, m: unknown): boolean {
  return writeCoalesced(stream, `${JSON.stringify(m)}\n`);
}

/** Calls `onLine` with each line read from `stream`, without its newline. */
export function readLines(stream: Duplex, onLine: (line: string) => void): void {
  // The unfinished line's pieces, joined once its newline comes: a 300 KB snapshot body arrives
  // in several 64 KB reads, and joining on every read would copy it over and over.
  let rest: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => {
    let nl = chunk.indexOf(10);
    if (nl === -1) {
      rest.push(chunk);
      return;
    }
    const buf = rest.length > 0 ? Buffer.concat([...rest, chunk]) : chunk;
    if (rest.length > 0) {
      nl += buf.length - chunk.length;
      rest = [];
    }
    let start = 0;
    for (; nl !== -1; nl = buf.indexOf(10, start)) {
      onLine(buf.toString('utf8', start, nl));
      start = nl + 1;
    }
    if (start < buf.length) rest.push(buf.subarray(start));
  });
}

/** Counters a worker keeps per frame and sends every second (deltas), keyed by type or error code. */
export interface FrameCounts {
  received: Record<string, number>;
  rejected: Record<string, number>;
  sent: Record<string, number>;
  /** Connections the worker dropped before knowing what they were, by reason (`head_timeout`). */
  dropped?: Record<string, number>;
}

/** Main process → worker, over the IPC channel: with the socket as the handle, complete the WebSocket handshake for this agent. */
export type ConnMessage = { t: 'conn'; id: number; agentId: string; hostId: string; headers: Record<string, string | string[] | undefined>; head: string };
/** Main process → worker, over the IPC channel: with the bound (not yet listening) socket as the handle, listen on it and accept. */
export type ListenMessage = { t: 'listen'; backlog: number };
/** Main process → worker, over the IPC channel. */
export type ToWorkerIpc = ConnMessage | ListenMessage;
/** Worker → main process, over the IPC channel: with the socket as the handle, a connection for the main process's HTTP server; `head`: what was read of it (base64). */
export type HttpMessage = { t: 'http'; head: string };

/** Main process → worker, over the data pipe. */
export type ToWorker =
  /** `capacity`: agent sockets the worker may hold; past it, it passes agents to the main process (which finds a worker with room, or answers 503). */
  | { t: 'init'; worker: number; settings: ConnectionSettings; capacity: number; logLevel: string; pretty: boolean }
  /** After a commit: for each connection, the highest seq committed and the rejections among them. */
  | { t: 'acks'; acks: [id: number, upToSeq: number, rejected: { seq: number; code: string }[]][] }
  /** A commit failed: nothing of theirs was stored; close these connections so their agents resend. */
  | { t: 'failed'; ids: number[] }
  | { t: 'send'; id: number; type: CollectorMessageType; body: unknown }
  | { t: 'close'; id: number; code: number; errorCode?: ErrorCode; message?: string }
  /** Close every connection (1001) and exit. */
  | { t: 'shutdown' }
  /** The answer to `auth` `n`: the connection's id, or the error to answer the upgrade with. */
  | { t: 'authed'; n: number; id: number; agentId: string; hostId: string }
  | { t: 'authed'; n: number; code: ErrorCode; message?: string };

/**
 * One accepted message or one rejection (`r`) of connection `c`. On the pipe a message's envelope
 * goes without its body (`h`), and the `in` line is followed by the lines of each message's body
 * (`BodyEncoder`): its JSON as the worker serialised it, which the main process stores as it is — a
 * snapshot's thousands of packages are neither escaped into a string nor serialised twice. A body
 * with a package list goes as several lines (`l`: which lists, in how many parts).
 */
export type InboundItem = { c: number; e: AgentEnvelope } | { c: number; r: Rejection };
export type WireItem = { c: number; h: Omit<AgentEnvelope, 'body'>; l?: [list: ItemList, parts: number][] } | { c: number; r: Rejection };

/** The package lists of each message type (the shared schemas make each an array of `SoftwareItem`). */
const ITEM_LISTS: Partial<Record<AgentEnvelope['type'], readonly ItemList[]>> = { snapshot: ['software'], 'software.changed': ['installed', 'removed'] };
type ItemList = 'software' | 'installed' | 'removed';
/**
 * Items of a list per line. Each line becomes one string in the main process, and a string over
 * V8's largest regular object (128 KB) is allocated on pages of its own: on this machine a 220 KB
 * snapshot line took ~1 ms to decode against ~20 µs for a 117 KB one, 12 % of the main process's
 * time in a fleet ramp. 300 packages are ~45 KB of JSON.
 */
export const LIST_PART_ITEMS = 300;
/** A list shorter than this goes inside the body's JSON (a software diff of a package or two). */
export const LIST_MIN_ITEMS = 16;
/**
 * Distinct items in the dictionary of one worker's pipe. Each side holds as many (the main process
 * each item once with its keys: ~0.5 KB), so a flood of made-up packages costs at most ~25 MB per
 * worker; when it is full both sides start it afresh at the same item.
 */
export const DICTIONARY_ITEMS = 50_000;

/**
 * The worker's end of the package dictionary. A fleet installs the same packages on host after
 * host: the first time a worker sends an item it goes whole and both ends give it the next number;
 * after that the number goes. The main process then neither parses nor looks up a package it has
 * seen (JSON parsing, key building and cache lookups of every package of every snapshot were ~40 %
 * of its time in a fleet ramp); the worker, on another core, does the lookups.
 */
export class BodyEncoder {
  private readonly numbers = new Map<string, number>();

  constructor(private readonly capacity = DICTIONARY_ITEMS) {}

  /** A body as lines: its JSON, or the body without its package lists, then each list in parts. */
  lines(type: AgentEnvelope['type'], body: unknown): { lines: string[]; lists?: [ItemList, number][] } {
    const record = body as Record<string, unknown>;
    const long = (ITEM_LISTS[type] ?? []).filter((k) => Array.isArray(record[k]) && (record[k] as unknown[]).length >= LIST_MIN_ITEMS);
    if (long.length === 0) return { lines: [JSON.stringify(body)] };
    const lines = [JSON.stringify({ ...record, ...Object.fromEntries(long.map((k) => [k, []])) })];
    const lists: [ItemList, number][] = [];
    for (const k of long) {
      const list = record[k] as SoftwareItem[];
      let parts = 0;
      for (let i = 0; i < list.length; i += LIST_PART_ITEMS, parts++) lines.push(JSON.stringify(list.slice(i, i + LIST_PART_ITEMS).map((item) => this.encode(item))));
      lists.push([k, parts]);
    }
    return { lines, lists };
  }

  /** The item's number, or the item itself the first time (numbered then, in the order sent). */
  private encode(item: SoftwareItem): number | SoftwareItem {
    const key = itemKey(item);
    const known = this.numbers.get(key);
    if (known !== undefined) return known;
    if (this.numbers.size === this.capacity) this.numbers.clear();
    this.numbers.set(key, this.numbers.size);
    return item;
  }
}

/** How many body lines follow an `in` line for this item. */
export function bodyLineCount(item: WireItem): number {
  if (!('h' in item)) return 0;
  return 1 + (item.l ?? []).reduce((n, [, parts]) => n + parts, 0);
}

/**
 * The main process's end of one worker's package dictionary (`BodyEncoder`): every body of that
 * worker must be decoded, in order, whether or not its connection is still there.
 */
export class BodyDecoder {
  private items: SoftwareItem[] = [];

  constructor(private readonly capacity = DICTIONARY_ITEMS) {}

  /**
   * A body from its lines, and its JSON when it came as one line. Only the package lists of the
   * message's type are assigned (the lines come from our own worker, but the key is checked); their
   * items are shared by every list that has them, so they are frozen (`sharedItem`).
   */
  body(type: AgentEnvelope['type'], lines: readonly string[], lists: readonly [ItemList, number][] | undefined): { body: unknown; json?: string } {
    if (!lists?.length) return { body: JSON.parse(lines[0]!) as unknown, json: lines[0]! };
    const body = JSON.parse(lines[0]!) as Record<string, unknown>;
    let at = 1;
    for (const [k, parts] of lists) {
      if (!ITEM_LISTS[type]?.includes(k)) throw new Error(`gateway worker sent a package list ${String(k)} for ${type}, which has none`);
      const list: SoftwareItem[] = [];
      for (let i = 0; i < parts; i++) for (const x of JSON.parse(lines[at++]!) as (number | SoftwareItem)[]) list.push(this.decode(x));
      body[k] = list;
    }
    return { body };
  }

  private decode(x: number | SoftwareItem): SoftwareItem {
    if (typeof x === 'number') {
      const item = this.items[x];
      if (!item) throw new Error(`gateway worker sent package number ${x}, which it never defined`);
      return item;
    }
    if (this.items.length === this.capacity) this.items = [];
    const item = sharedItem(x);
    this.items.push(item);
    return item;
  }
}

/** Worker → main process, over the data pipe. */
export type FromWorker =
  | { t: 'ready' }
  /** The connection's hello was accepted: what it said, and where the connection comes from (`address:port`). */
  | { t: 'hello'; id: number; agentVersion: string; peer: string; instanceId?: string; lastSeq?: number }
  | { t: 'in'; items: WireItem[] }
  /** `reason`: the code the worker closed it with itself (rate limit, bad frames…), if it did. */
  | { t: 'closed'; id: number; reason?: ErrorCode }
  /** Listening on the shared socket (or why not). */
  | { t: 'listening' }
  | { t: 'listen-failed'; message: string }
  /** An agent's upgrade with this bearer token reached the worker: may it connect? (answered by `authed`). */
  | { t: 'auth'; n: number; token: string | null }
  /** Every second: frame counts since the last report, and the worker's own resources. */
  | { t: 'report'; counts: FrameCounts; rssBytes: number; heapUsedBytes: number; cpuSeconds: number };
