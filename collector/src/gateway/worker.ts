import { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { WebSocketServer } from 'ws';
import { CLOSE_CODES, type AgentEnvelope, type CollectorMessageType, type ErrorCode } from '@vigil/shared';
import type { Rejection } from '../db/ingest-repository.js';
import { loggerOptions } from '../logger.js';
import { AgentConnection, type ConnectionMetrics, type IngestSink } from '../services/agent-connection.js';
import type { AckTarget } from '../services/ingest-queue.js';
import { DATA_FD, readLines, writeLine, type ConnMessage, type FrameCounts, type FromWorker, type InboundItem, type ToWorker } from './ipc.js';

/*
 * A gateway worker process (started by the collector's main process with `--gateway-workers N`;
 * see ipc.ts). It holds agents' sockets, so the main process need not: the open-file limit of one
 * process no longer caps the fleet. Runs the same AgentConnection as the in-process gateway; its
 * sink forwards over IPC instead of queueing for SQLite.
 */

if (!process.send) {
  process.stderr.write('vigil-collector gateway worker: started by the collector (--gateway-workers), not by hand\n');
  process.exit(2);
}
/** Everything but sockets goes over the data pipe (see ipc.ts). */
const data = new Socket({ fd: DATA_FD, readable: true, writable: true });
let dataOpen = true;
/** After the main process has gone, there is no one to tell. */
const send = (m: FromWorker): boolean => (dataOpen ? writeLine(data, m) : false);

/** Items waiting to go to the main process; sent in one IPC message per turn of the event loop. */
let pending: InboundItem[] = [];
let flushScheduled = false;

function flushItems(): void {
  flushScheduled = false;
  if (!pending.length) return;
  const items = pending;
  pending = [];
  send({ t: 'in', items });
}

/** Control messages go after the items before them: the main process sees one ordered stream. */
function post(m: FromWorker): void {
  flushItems();
  send(m);
}

function enqueue(item: InboundItem): void {
  pending.push(item);
  if (pending.length >= 1000) flushItems();
  else if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushItems);
  }
}

const counts: FrameCounts = { received: {}, rejected: {}, sent: {} };
let counted = false;
const bump = (m: Record<string, number>, key: string) => {
  m[key] = (m[key] ?? 0) + 1;
  counted = true;
};
const metrics: ConnectionMetrics = {
  frameReceived: (type) => bump(counts.received, type ?? ''),
  frameRejected: (code) => bump(counts.rejected, code),
  frameSent: (type) => bump(counts.sent, type),
};
setInterval(() => {
  const cpu = process.cpuUsage();
  post({ t: 'report', counts: { ...counts }, rssBytes: process.memoryUsage.rss(), cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  if (counted) {
    counts.received = {};
    counts.rejected = {};
    counts.sent = {};
    counted = false;
  }
}, 1000).unref();

/** Connections by the id the main process gave them. */
const connections = new Map<number, AgentConnection>();
const ids = new WeakMap<AckTarget, number>();
const sink: IngestSink = {
  message(target: AckTarget, env: AgentEnvelope, json: string) {
    enqueue({ c: ids.get(target)!, e: env, j: json });
  },
  reject(target: AckTarget, rejection: Rejection) {
    enqueue({ c: ids.get(target)!, r: rejection });
  },
};

let log: FastifyBaseLogger = pino({ level: 'info' }) as unknown as FastifyBaseLogger;
let wss: WebSocketServer | undefined;
let settings: Extract<ToWorker, { t: 'init' }>['settings'] | undefined;

function accept(m: ConnMessage, handle: unknown): void {
  if (!handle) return post({ t: 'closed', id: m.id });
  // The main process sent the bare OS handle (see detachForHandoff in plugins/agent-gateway.ts).
  const socket = new Socket({ handle, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
  if (!wss || !settings) {
    socket.destroy();
    return post({ t: 'closed', id: m.id });
  }
  let reported = false;
  const closed = () => {
    if (reported) return;
    reported = true;
    connections.delete(m.id);
    post({ t: 'closed', id: m.id });
  };
  // Until the handshake completes the raw socket's close is the end; after it, the connection's.
  socket.once('close', closed);
  socket.on('error', () => socket.destroy());
  const req = { method: 'GET', url: '/agent/v1', headers: m.headers } as unknown as IncomingMessage;
  const connLog = log.child({ agentId: m.agentId, hostId: m.hostId });
  wss.handleUpgrade(req, socket, Buffer.from(m.head, 'base64'), (ws) => {
    const conn = new AgentConnection(m.agentId, m.hostId, ws, sink, settings!, {
      onHello: (c) => post({ t: 'hello', id: m.id, agentVersion: c.agentVersion }),
      onClose: closed,
    }, connLog, metrics);
    ids.set(conn, m.id);
    connections.set(m.id, conn);
  });
}

function shutdown(): void {
  flushItems();
  for (const c of connections.values()) c.close(CLOSE_CODES.goingAway, 'VIGIL_ERR_SHUTTING_DOWN');
  // Let the close frames go out, then leave; the main process kills a worker that lingers.
  setTimeout(() => process.exit(0), 200);
}

process.on('message', (m: ConnMessage, handle?: unknown) => {
  if (m.t === 'conn') accept(m, handle);
});

readLines<ToWorker>(data, (m) => {
  switch (m.t) {
    case 'init':
      settings = m.settings;
      log = pino(
        { ...loggerOptions(m.logLevel), base: { worker: m.worker } },
        m.pretty ? PinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss' }) : undefined,
      ) as unknown as FastifyBaseLogger;
      wss = new WebSocketServer({ noServer: true, maxPayload: m.settings.maxFrameBytes * 4, perMessageDeflate: false });
      post({ t: 'ready' });
      return;
    case 'acks':
      for (const [id, upTo, rejected] of m.acks) connections.get(id)?.committed(upTo, rejected);
      return;
    case 'failed':
      for (const id of m.ids) connections.get(id)?.failed();
      return;
    case 'send':
      connections.get(m.id)?.send(m.type as CollectorMessageType, m.body as never);
      return;
    case 'close':
      connections.get(m.id)?.close(m.code, m.errorCode as ErrorCode | undefined, m.message);
      return;
    case 'shutdown':
      return shutdown();
  }
});

// The main process went away: nothing can be committed any more, so let the agents reconnect elsewhere.
const orphaned = () => {
  dataOpen = false;
  for (const c of connections.values()) c.close(CLOSE_CODES.goingAway, 'VIGIL_ERR_SHUTTING_DOWN');
  setTimeout(() => process.exit(0), 200).unref();
};
data.on('close', orphaned);
data.on('error', () => data.destroy());
process.on('disconnect', orphaned);
