import type { AgentEnvelope, CollectorMessageType, ErrorCode } from '@vigil/shared';
import type { Rejection } from '../db/ingest-repository.js';
import type { ConnectionSettings } from '../services/agent-connection.js';

/*
 * The IPC protocol between the collector's main process and its gateway worker processes
 * (`--gateway-workers N`). The main process accepts every HTTP connection, authenticates an agent's
 * `/agent/v1` upgrade by its token, and hands the socket itself to a worker (`child.send(msg,
 * socket)`); the worker completes the WebSocket handshake, decodes and validates every frame, and
 * forwards what it accepted. The main process stays the only writer to SQLite: it commits, judges,
 * and sends the acks back through the worker. One IPC channel per worker keeps every message of a
 * connection in order.
 */

/** Counters a worker keeps per frame and sends every second (deltas), keyed by type or error code. */
export interface FrameCounts {
  received: Record<string, number>;
  rejected: Record<string, number>;
  sent: Record<string, number>;
}

/** Main process → worker. */
export type ToWorker =
  | { t: 'init'; worker: number; settings: ConnectionSettings; logLevel: string; pretty: boolean }
  /** Sent with the socket as the handle: complete the WebSocket handshake for this agent. */
  | { t: 'conn'; id: number; agentId: string; hostId: string; headers: Record<string, string | string[] | undefined>; head: string }
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

/** Worker → main process. */
export type FromWorker =
  | { t: 'ready' }
  | { t: 'hello'; id: number; agentVersion: string }
  | { t: 'in'; items: InboundItem[] }
  | { t: 'closed'; id: number }
  /** Every second: frame counts since the last report, and the worker's own resources. */
  | { t: 'report'; counts: FrameCounts; rssBytes: number; cpuSeconds: number };
