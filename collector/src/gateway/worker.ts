import http, { type IncomingMessage } from 'node:http';
import net, { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { WebSocketServer } from 'ws';
import { CLOSE_CODES, ERRORS, type AgentEnvelope, type CollectorMessageType, type ErrorCode } from '@vigil/shared';
import type { Rejection } from '../db/ingest-repository.js';
import { tuneHeap } from '../heap.js';
import { processStdout } from '../log-destination.js';
import { loggerOptions } from '../logger.js';
import { parseBearer } from '../plugins/auth.js';
import { AgentConnection, type ConnectionMetrics, type IngestSink } from '../services/agent-connection.js';
import type { AckTarget } from '../services/ingest-queue.js';
import { detachSocket, type NativeHandle } from './detach.js';
import {
  DATA_FD,
  BodyEncoder,
  readLines,
  writeLine,
  type ConnMessage,
  type FrameCounts,
  type FromWorker,
  type HttpMessage,
  type InboundItem,
  type ToWorker,
  type ToWorkerIpc,
  type WireItem,
} from './ipc.js';

/*
 * A gateway worker process (started by the collector's main process with `--gateway-workers N`;
 * see ipc.ts). It accepts the collector's connections and holds agents' sockets, so the main
 * process need not: neither the open-file limit of one process nor the main process's CPU caps
 * how fast a fleet connects. Runs the same AgentConnection as the in-process gateway; its sink
 * forwards over IPC instead of queueing for SQLite.
 */

if (!process.send) {
  process.stderr.write('vigil-collector gateway worker: started by the collector (--gateway-workers), not by hand\n');
  process.exit(2);
}
tuneHeap();
/** Everything but sockets goes over the data pipe (see ipc.ts). */
const data = new Socket({ fd: DATA_FD, readable: true, writable: true });
let dataOpen = true;
/** After the main process has gone, there is no one to tell. */
const send = (m: FromWorker): boolean => (dataOpen ? writeLine(data, m) : false);

/** Items waiting to go to the main process; sent in one IPC message per turn of the event loop. */
let pending: InboundItem[] = [];
let flushScheduled = false;

/** This end of the data pipe's package dictionary (see ipc.ts). */
const encoder = new BodyEncoder();

function flushItems(): void {
  flushScheduled = false;
  if (!pending.length || !dataOpen) return;
  const items = pending;
  pending = [];
  const wire: WireItem[] = [];
  const bodies: string[] = [];
  for (const item of items) {
    if ('r' in item) wire.push(item);
    else {
      const { body, ...head } = item.e;
      const { lines, lists } = encoder.lines(head.type, body);
      wire.push(lists ? { c: item.c, h: head, l: lists } : { c: item.c, h: head });
      for (const line of lines) bodies.push(line);
    }
  }
  // The `in` line, then each message's body lines (see ipc.ts); one write per line, so no string
  // holds a whole batch of snapshots.
  data.cork();
  data.write(`${JSON.stringify({ t: 'in', items: wire } satisfies FromWorker)}\n`);
  for (const line of bodies) data.write(`${line}\n`);
  data.uncork();
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

const counts: FrameCounts = { received: {}, rejected: {}, sent: {}, dropped: {} };
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
  const mem = process.memoryUsage();
  post({ t: 'report', counts: { ...counts }, rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  if (counted) {
    counts.received = {};
    counts.rejected = {};
    counts.sent = {};
    counts.dropped = {};
    counted = false;
  }
}, 1000).unref();

/** Connections by the id the main process gave them. */
const connections = new Map<number, AgentConnection>();
const ids = new WeakMap<AckTarget, number>();
const sink: IngestSink = {
  message(target: AckTarget, env: AgentEnvelope) {
    // The body crosses the pipe as JSON lines of its own, made when the batch is sent (see ipc.ts).
    enqueue({ c: ids.get(target)!, e: env });
  },
  reject(target: AckTarget, rejection: Rejection) {
    enqueue({ c: ids.get(target)!, r: rejection });
  },
};

/** Never blocks this process (its stdout is a pipe the main process reads and forwards). */
const stdoutLog = processStdout();
let log: FastifyBaseLogger = pino({ level: 'info' }, stdoutLog) as unknown as FastifyBaseLogger;
let wss: WebSocketServer | undefined;
let settings: Extract<ToWorker, { t: 'init' }>['settings'] | undefined;

/** Longest request head read before deciding where a connection goes (Node's HTTP server's own limit). */
const MAX_HEAD_BYTES = 16 * 1024;
/** Agent sockets this worker may hold (from `init`). */
let capacity = 0;
/** Agent sockets held: connections, and upgrades waiting for the main process's answer. */
let agentSockets = 0;
let listener: net.Server | undefined;
/** Upgrades waiting for the main process's token check, by request number. */
const pendingAuth = new Map<number, (m: Extract<ToWorker, { t: 'authed' }>) => void>();
let nextAuth = 1;

/**
 * Completes the WebSocket handshake on an agent's socket and runs the connection. `id` is the
 * connection's id in the main process, which already counts it as this worker's; `closed` tells it
 * when the socket goes, whether or not the handshake completed.
 */
function startConnection(id: number, agentId: string, hostId: string, socket: Socket, req: IncomingMessage, head: Buffer): void {
  let reported = false;
  const closed = () => {
    if (reported) return;
    reported = true;
    agentSockets--;
    const reason = connections.get(id)?.closeReason;
    connections.delete(id);
    post({ t: 'closed', id, ...(reason ? { reason } : {}) });
  };
  const peer = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
  agentSockets++;
  if (!wss || !settings || socket.destroyed) {
    socket.destroy();
    return closed();
  }
  // Until the handshake completes the raw socket's close is the end; after it, the connection's.
  socket.once('close', closed);
  socket.on('error', () => socket.destroy());
  const connLog = log.child({ agentId, hostId });
  wss.handleUpgrade(req, socket, head, (ws) => {
    const conn = new AgentConnection(agentId, hostId, ws, sink, settings!, {
      onHello: (c) =>
        post({
          t: 'hello',
          id,
          agentVersion: c.agentVersion,
          peer,
          ...(c.instanceId === undefined ? {} : { instanceId: c.instanceId }),
          ...(c.helloLastSeq === undefined ? {} : { lastSeq: c.helloLastSeq }),
        }),
      onClose: closed,
    }, connLog, metrics, peer);
    ids.set(conn, id);
    connections.set(id, conn);
  });
}

/** An agent's socket the main process authenticated and handed over (it had no room here, or took the upgrade itself). */
function accept(m: ConnMessage, handle: unknown): void {
  if (!handle) return post({ t: 'closed', id: m.id });
  // The main process sent the bare OS handle (see gateway/detach.ts).
  const socket = new Socket({ handle, readable: true, writable: true } as ConstructorParameters<typeof Socket>[0]);
  const req = { method: 'GET', url: '/agent/v1', headers: m.headers } as unknown as IncomingMessage;
  startConnection(m.id, m.agentId, m.hostId, socket, req, Buffer.from(m.head, 'base64'));
}

/** Answers an upgrade the collector refuses, the way the main process's HTTP server would, and closes. */
function refuse(socket: Socket, code: ErrorCode, message?: string): void {
  const status = ERRORS[code].status;
  const body = JSON.stringify({ error: { code, message: message ?? ERRORS[code].message } });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Parses the head of the agent upgrades this worker keeps; `upgrade` runs the rest. */
const agentHttp = http.createServer();
agentHttp.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
  socket.on('error', () => socket.destroy());
  const n = nextAuth++;
  // Counted from now: the main process's answer registers it.
  agentSockets++;
  pendingAuth.set(n, (m) => {
    agentSockets--;
    if ('code' in m) {
      log.info({ code: m.code, address: socket.remoteAddress }, 'agent upgrade refused');
      return refuse(socket, m.code, m.message);
    }
    startConnection(m.id, m.agentId, m.hostId, socket, req, head);
  });
  post({ t: 'auth', n, token: parseBearer(req.headers.authorization) });
});
// The head was checked before it came here: anything else is a malformed request.
agentHttp.on('request', (_req, res: http.ServerResponse) => {
  res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(JSON.stringify({ error: { code: 'VIGIL_ERR_VALIDATION', message: ERRORS.VIGIL_ERR_VALIDATION.message } }));
});
agentHttp.on('clientError', (_err, socket: Socket) => socket.destroy());

/** An agent's WebSocket upgrade (`GET /agent/v1` with `Upgrade: websocket`): the only request a worker answers itself. */
function isAgentUpgrade(head: Buffer, end: number): boolean {
  const text = head.toString('latin1', 0, end + 2);
  return /^GET \/agent\/v1(?:\?[^ ]*)? HTTP\/1\.1\r\n/.test(text) && /\r\nupgrade:[ \t]*websocket[ \t]*\r\n/i.test(text);
}

/** Passes a connection, with what was read of it, to the main process's HTTP server. */
function toMain(socket: Socket, head: Buffer): void {
  const detached = detachSocket(socket, head);
  if (!detached) return;
  const { handle } = detached;
  if (!process.connected) return handle.close();
  const m: HttpMessage = { t: 'http', head: detached.head.toString('base64') };
  // A bare handle is not closed by Node once sent: this process's copy must go (see pool.ts).
  process.send!(m, handle as never, undefined, () => handle.close());
}

/** A new connection on the shared listening socket: read its first request head, then keep it or pass it on. */
function route(socket: Socket): void {
  let head: Buffer = Buffer.alloc(0);
  // A connection that has not sent its whole request head in the head timeout (10 s) is dropped:
  // slow heads (slowloris) cannot pile up here. Timers run before I/O in a turn of the event loop:
  // after a stall (a reconnect storm) the head may be waiting unread, so the verdict waits for the
  // I/O phase (setImmediate runs after it).
  let headRead = false;
  const timer = setTimeout(
    () =>
      setImmediate(() => {
        if (headRead || socket.destroyed) return;
        bump(counts.dropped!, 'head_timeout');
        socket.destroy();
      }),
    settings?.headTimeoutMs ?? 10_000,
  );
  const onError = () => socket.destroy();
  const onClose = () => clearTimeout(timer);
  const onData = (chunk: Buffer) => {
    head = head.length ? Buffer.concat([head, chunk]) : chunk;
    const end = head.indexOf('\r\n\r\n');
    if (end < 0 && head.length < MAX_HEAD_BYTES) return;
    headRead = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('close', onClose);
    socket.pause();
    if (end >= 0 && isAgentUpgrade(head, end) && wss && agentSockets < capacity) {
      socket.unshift(head);
      agentHttp.emit('connection', socket);
      // Paused above (nothing may be read between the two listeners), so the HTTP server's own
      // listener does not start the flow: this hands it the head.
      socket.resume();
    } else toMain(socket, head);
  };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);
}

/** Listens on the socket the main process bound (shared by every worker: the kernel spreads the connections). */
function listenOn(handle: unknown, backlog: number): void {
  if (!handle) return post({ t: 'listen-failed', message: 'no socket came with the listen message' });
  listener?.close();
  const server = net.createServer(route);
  listener = server;
  server.once('error', (err) => post({ t: 'listen-failed', message: err.message }));
  server.listen(handle as NativeHandle, backlog, () => {
    server.removeAllListeners('error');
    // Accept errors (out of file descriptors, …) are passing: log them, keep listening.
    server.on('error', (err) => log.warn({ err }, 'accepting a connection failed'));
    post({ t: 'listening' });
  });
}

function shutdown(): void {
  listener?.close();
  flushItems();
  for (const c of connections.values()) c.close(CLOSE_CODES.goingAway, 'VIGIL_ERR_SHUTTING_DOWN');
  // Let the close frames go out, then leave; the main process kills a worker that lingers.
  setTimeout(() => process.exit(0), 200);
}

process.on('message', (m: ToWorkerIpc, handle?: unknown) => {
  if (m.t === 'conn') accept(m, handle);
  else if (m.t === 'listen') listenOn(handle, m.backlog);
});

readLines(data, (line) => {
  const m = JSON.parse(line) as ToWorker;
  switch (m.t) {
    case 'init':
      settings = m.settings;
      capacity = m.capacity;
      log = pino(
        { ...loggerOptions(m.logLevel), base: { worker: m.worker } },
        m.pretty ? PinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss' }) : stdoutLog,
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
    case 'authed': {
      const done = pendingAuth.get(m.n);
      pendingAuth.delete(m.n);
      done?.(m);
      return;
    }
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
