import type { Duplex } from 'node:stream';
import type { AgentEnvelope, CollectorMessageType, ErrorCode } from '@vigil/shared';
import type { Rejection } from '../db/ingest-repository.js';
import type { ConnectionSettings } from '../services/agent-connection.js';

/*
 * The protocol between the collector's main process and its gateway worker processes
 * (`--gateway-workers N`). The main process accepts every HTTP connection, authenticates an agent's
 * `/agent/v1` upgrade by its token, and hands the socket itself to a worker; the worker completes
 * the WebSocket handshake, decodes and validates every frame, and forwards what it accepted. The
 * main process stays the only writer to SQLite: it commits, judges, and sends the acks back
 * through the worker.
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

/** Writes one message as a JSON line (JSON.stringify never emits a raw newline). */
export function writeLine(stream: Duplex, m: unknown): boolean {
  return stream.write(`${JSON.stringify(m)}\n`);
}

/** Calls `onMessage` with each JSON line read from `stream`. */
export function readLines<T>(stream: Duplex, onMessage: (m: T) => void): void {
  let rest: Buffer | undefined;
  stream.on('data', (chunk: Buffer) => {
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      onMessage(JSON.parse(buf.toString('utf8', start, nl)) as T);
      start = nl + 1;
    }
    rest = start < buf.length ? buf.subarray(start) : undefined;
  });
}

/** Counters a worker keeps per frame and sends every second (deltas), keyed by type or error code. */
export interface FrameCounts {
  received: Record<string, number>;
  rejected: Record<string, number>;
  sent: Record<string, number>;
}

/** Main process → worker, over the IPC channel: with the socket as the handle, complete the WebSocket handshake for this agent. */
export type ConnMessage = { t: 'conn'; id: number; agentId: string; hostId: string; headers: Record<string, string | string[] | undefined>; head: string };

/** Main process → worker, over the data pipe. */
export type ToWorker =
  | { t: 'init'; worker: number; settings: ConnectionSettings; logLevel: string; pretty: boolean }
  /** After a commit: for each connection, the highest seq committed and the rejections among them. */
  | { t: 'acks'; acks: [id: number, upToSeq: number, rejected: { seq: number; code: string }[]][] }
  /** A commit failed: nothing of theirs was stored; close these connections so their agents resend. */
  | { t: 'failed'; ids: number[] }
  | { t: 'send'; id: number; type: CollectorMessageType; body: unknown }
  | { t: 'close'; id: number; code: number; errorCode?: ErrorCode; message?: string }
  /** Close every connection (1001) and exit. */
  | { t: 'shutdown' };

/** One accepted message (`e`, its body as JSON `j`) or one rejection (`r`) of connection `c`. */
export type InboundItem = { c: number; e: AgentEnvelope; j: string } | { c: number; r: Rejection };

/** Worker → main process, over the data pipe. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'hello'; id: number; agentVersion: string }
  | { t: 'in'; items: InboundItem[] }
  | { t: 'closed'; id: number }
  /** Every second: frame counts since the last report, and the worker's own resources. */
  | { t: 'report'; counts: FrameCounts; rssBytes: number; cpuSeconds: number };
