import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import type { AgentEnvelope, AgentMessageBody, CollectorMessageBody, CollectorMessageType, ErrorCode } from '@vigil/shared';
import { forwardLines, processStderr, processStdout } from '../log-destination.js';
import type { AgentLink, ConnectionSettings, IngestSink } from '../services/agent-connection.js';
import type { Duplex } from 'node:stream';
import type { NativeHandle } from './detach.js';
import { BodyDecoder, bodyLineCount, DATA_FD, readLines, writeLine, type ConnMessage, type FrameCounts, type FromWorker, type HttpMessage, type ListenMessage, type ToWorker, type WireItem } from './ipc.js';

/** What the pool asks of the gateway and tells it: an agent's token check, a connection for the HTTP server, and an agent connection's two moments. */
export interface PoolHooks {
  /** Whose token this is, or why the upgrade is refused (a worker accepted the connection). */
  authenticate(token: string | null): { agentId: string; hostId: string } | { code: ErrorCode; message?: string };
  /** A connection a worker accepted that is not an agent's (or one it had no room for), with what it read of it. */
  onHttp(handle: NativeHandle, head: Buffer): void;
  onHello(link: AgentLink): void;
  onClose(link: AgentLink): void;
}

export interface GatewayWorkerStatus {
  worker: number;
  pid: number;
  ready: boolean;
  /** Agent connections it holds (hello done or not). */
  connections: number;
  rssBytes: number;
  heapUsedBytes: number;
  cpuSeconds: number;
}

export interface PoolMetrics {
  frameCounts(counts: FrameCounts): void;
  /** An agent connection is now held by a worker (its `onClose` comes once it ends). */
  agentConnected(): void;
}

export interface PoolOptions {
  workers: number;
  /** Agent sockets each worker may hold (its open-file limit less a reserve). */
  capacity: number;
  settings: ConnectionSettings;
  logLevel: string;
  prettyLogs: boolean;
  /** Where the workers' messages go: the ingest queue. */
  sink: IngestSink;
  hooks: PoolHooks;
  metrics: PoolMetrics;
  log: FastifyBaseLogger;
}

/** The worker script: next to this file when built; from the sources (tests), the built one. */
function workerScript(): string {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (fs.existsSync(here)) return here;
  const built = fileURLToPath(new URL('../../dist/gateway/worker.js', import.meta.url));
  if (fs.existsSync(built)) return built;
  throw new Error(`the gateway worker script is missing (${here}): build the collector (npm run build)`);
}

/** Stands in, in the main process, for an agent connection a worker holds. */
class RemoteConnection implements AgentLink {
  agentVersion = '';
  peer = '';
  instanceId: string | undefined;
  helloLastSeq: number | undefined;
  closeReason: ErrorCode | undefined;
  lastHeartbeat: AgentMessageBody<'heartbeat'> | undefined;
  private closing = false;

  constructor(
    readonly id: number,
    readonly agentId: string,
    readonly hostId: string,
    private readonly worker: GatewayWorker,
  ) {}

  send<T extends CollectorMessageType>(type: T, body: CollectorMessageBody<T>): void {
    if (!this.closing) this.worker.post({ t: 'send', id: this.id, type, body });
  }

  close(code: number, errorCode?: ErrorCode, message?: string): void {
    if (this.closing) return;
    this.closing = true;
    this.closeReason = errorCode;
    this.worker.post({ t: 'close', id: this.id, code, ...(errorCode ? { errorCode } : {}), ...(message ? { message } : {}) });
  }

  committed(upToSeq: number, rejected: { seq: number; code: string }[]): void {
    this.worker.ack(this.id, upToSeq, rejected);
  }

  failed(): void {
    this.worker.fail(this.id);
  }
}

/** One worker process and the connections it holds. */
class GatewayWorker {
  readonly links = new Map<number, RemoteConnection>();
  /** Its end of the package dictionary of the data pipe (a replacement worker starts afresh). */
  readonly decoder = new BodyDecoder();
  /** It sent what could not be read: killed, and nothing more from it is read. */
  unreadable = false;
  ready = false;
  /** From the worker's latest report (every second). */
  rssBytes = 0;
  heapUsedBytes = 0;
  cpuSeconds = 0;
  private acks: [number, number, { seq: number; code: string }[]][] = [];
  private failedIds: number[] = [];
  private flushQueued = false;
  /** Waiting for the worker to listen on the shared socket. */
  listenWaiter: { resolve(): void; reject(err: Error): void } | undefined;

  constructor(
    readonly index: number,
    readonly child: ChildProcess,
    readonly data: Duplex,
  ) {}

  /** A message over the data pipe. */
  post(m: ToWorker): void {
    if (!this.data.destroyed) writeLine(this.data, m);
  }

  /** A socket, over the IPC channel; its handle is closed here once sent (or not). */
  handOver(m: ConnMessage, handle: NativeHandle, done: (err: Error | null) => void): void {
    if (!this.child.connected) {
      handle.close();
      done(new Error('the gateway worker is gone'));
      return;
    }
    this.child.send(m, handle as unknown as Parameters<ChildProcess['send']>[1], (err) => {
      // Node closes a net.Socket it has passed, but not a bare handle: once the message (and with it
      // a duplicate of the descriptor) is written, this process's copy must go, or the connection
      // would outlive the worker holding it.
      handle.close();
      done(err);
    });
  }

  /** The shared listening socket, over the IPC channel; resolves once the worker listens on it. */
  listen(handle: NativeHandle, backlog: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new Error(`gateway worker ${this.index} is gone`));
      this.listenWaiter = { resolve, reject };
      const m: ListenMessage = { t: 'listen', backlog };
      // Sent with keepOpen semantics: a bare handle is never closed by Node; the main process keeps its copy for workers to come.
      this.child.send(m, handle as unknown as Parameters<ChildProcess['send']>[1], (err) => {
        if (err) {
          this.listenWaiter = undefined;
          reject(err);
        }
      });
    });
  }

  ack(id: number, upToSeq: number, rejected: { seq: number; code: string }[]): void {
    this.acks.push([id, upToSeq, rejected]);
    this.queueFlush();
  }

  fail(id: number): void {
    this.failedIds.push(id);
    this.queueFlush();
  }

  /** Every ack of one commit goes in one IPC message: the ingest queue acks all its targets in one go. */
  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      if (this.acks.length) this.post({ t: 'acks', acks: this.acks });
      if (this.failedIds.length) this.post({ t: 'failed', ids: this.failedIds });
      this.acks = [];
      this.failedIds = [];
    });
  }
}

/**
 * The main process's side of `--gateway-workers N`: forks N gateway workers, hands each
 * authenticated agent socket to the least busy one, feeds their messages to the ingest queue and
 * routes acks, config and closes back. A worker that dies takes its connections with it (their
 * agents reconnect and resend what was not acked) and is replaced.
 */
export class GatewayPool {
  private readonly workers: GatewayWorker[] = [];
  private nextId = 1;
  private closing = false;
  private readonly script = workerScript();
  /** The bound socket every worker listens on (see share()). */
  private shared: { handle: NativeHandle; backlog: number } | undefined;

  constructor(private readonly opts: PoolOptions) {}

  /** Starts every worker; resolves when all are ready. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.opts.workers }, (_, i) => this.spawn(i)));
  }

  /**
   * Has every worker listen on `handle` (bound, not listening: this process never accepts on it) and
   * every worker started later too. Resolves once all listen; the caller keeps `handle` (and closes it
   * after close()).
   */
  async share(handle: NativeHandle, backlog: number): Promise<void> {
    this.shared = { handle, backlog };
    await Promise.all(this.workers.filter((w) => w?.ready).map((w) => w.listen(handle, backlog)));
  }

  get size(): number {
    return this.workers.filter((w) => w?.ready).length;
  }

  /** Each worker as last reported, for metrics, benchmarks and tests. */
  status(): GatewayWorkerStatus[] {
    return this.workers.map((w) => ({
      worker: w.index,
      pid: w.child.pid ?? 0,
      ready: w.ready,
      connections: w.links.size,
      rssBytes: w.rssBytes,
      heapUsedBytes: w.heapUsedBytes,
      cpuSeconds: w.cpuSeconds,
    }));
  }

  private spawn(index: number): Promise<void> {
    const child = fork(this.script, [], {
      // fd 3: Node's IPC channel (sockets); fd 4 (DATA_FD): the data pipe (everything else).
      // stdout and stderr are pipes of its own, forwarded here line by line: a child given this
      // process's stdout makes it blocking (libuv clears O_NONBLOCK on a child's stdio), and a
      // stdout nobody reads then blocked the main process for good (see log-destination.ts).
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
      serialization: 'json',
      // The main process's flags, bar a debugger port the worker could not share.
      execArgv: process.execArgv.filter((a) => !a.startsWith('--inspect')),
    });
    if (child.stdout) forwardLines(child.stdout, processStdout());
    if (child.stderr) forwardLines(child.stderr, processStderr());
    const data = child.stdio[DATA_FD] as Duplex;
    data.on('error', (err) => this.opts.log.debug({ err, worker: index }, 'gateway worker data pipe error'));
    const worker = new GatewayWorker(index, child, data);
    this.workers[index] = worker;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway worker ${index} did not start within 15 s`)), 15_000);
      // An `in` line is followed by one body line per message it carries (see ipc.ts).
      let awaiting: { items: WireItem[]; bodies: string[]; need: number } | undefined;
      readLines(data, (line) => {
        if (awaiting) {
          awaiting.bodies.push(line);
          if (awaiting.bodies.length === awaiting.need) {
            const { items, bodies } = awaiting;
            awaiting = undefined;
            this.onInbound(worker, items, bodies);
          }
          return;
        }
        const m = JSON.parse(line) as FromWorker;
        if (m.t === 'in') {
          const need = m.items.reduce((n, i) => n + bodyLineCount(i), 0);
          if (need === 0) this.onInbound(worker, m.items, []);
          else awaiting = { items: m.items, bodies: [], need };
          return;
        }
        if (m.t === 'ready') {
          clearTimeout(timer);
          worker.ready = true;
          this.opts.log.info({ worker: index, pid: child.pid }, 'gateway worker ready');
          // A worker started after share() (a replacement) listens too.
          if (this.shared) {
            worker.listen(this.shared.handle, this.shared.backlog).catch((err: unknown) =>
              this.opts.log.error({ err, worker: index }, 'a gateway worker could not listen on the shared socket'),
            );
          }
          resolve();
          return;
        }
        this.onMessage(worker, m);
      });
      child.on('message', (m: HttpMessage, handle?: NativeHandle) => {
        if (m?.t !== 'http' || !handle) return;
        if (this.closing) return handle.close();
        this.opts.hooks.onHttp(handle, Buffer.from(m.head, 'base64'));
      });
      child.on('error', (err) => this.opts.log.error({ err, worker: index }, 'gateway worker error'));
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        worker.ready = false;
        worker.listenWaiter?.reject(new Error(`gateway worker ${index} exited`));
        worker.listenWaiter = undefined;
        const lost = [...worker.links.values()];
        worker.links.clear();
        for (const link of lost) this.opts.hooks.onClose(link);
        if (this.closing) return;
        this.opts.log.error({ worker: index, code, signal, connections: lost.length }, 'gateway worker exited: its agents will reconnect; starting another');
        reject(new Error(`gateway worker ${index} exited (${signal ?? code})`));
        setTimeout(() => {
          if (!this.closing) this.spawn(index).catch((err: unknown) => this.opts.log.error({ err, worker: index }, 'could not restart a gateway worker'));
        }, 1000).unref();
      });
      worker.post({ t: 'init', worker: index, settings: this.opts.settings, capacity: this.opts.capacity, logLevel: this.opts.logLevel, pretty: this.opts.prettyLogs });
    });
  }

  private onMessage(worker: GatewayWorker, m: FromWorker): void {
    switch (m.t) {
      case 'in':
        return; // read with its body lines in spawn()
      case 'hello': {
        const link = worker.links.get(m.id);
        if (!link) return;
        link.agentVersion = m.agentVersion;
        link.peer = m.peer;
        link.instanceId = m.instanceId;
        link.helloLastSeq = m.lastSeq;
        this.opts.hooks.onHello(link);
        return;
      }
      case 'closed': {
        const link = worker.links.get(m.id);
        if (!link) return;
        worker.links.delete(m.id);
        link.closeReason ??= m.reason;
        this.opts.hooks.onClose(link);
        return;
      }
      case 'report':
        this.opts.metrics.frameCounts(m.counts);
        worker.rssBytes = m.rssBytes;
        worker.heapUsedBytes = m.heapUsedBytes;
        worker.cpuSeconds = m.cpuSeconds;
        return;
      case 'ready':
        return;
      case 'listening':
        worker.listenWaiter?.resolve();
        worker.listenWaiter = undefined;
        return;
      case 'listen-failed':
        worker.listenWaiter?.reject(new Error(`gateway worker ${worker.index} could not listen: ${m.message}`));
        worker.listenWaiter = undefined;
        return;
      case 'auth': {
        const r = this.closing ? { code: 'VIGIL_ERR_SHUTTING_DOWN' as const } : this.opts.hooks.authenticate(m.token);
        if ('code' in r) return worker.post({ t: 'authed', n: m.n, code: r.code, ...(r.message ? { message: r.message } : {}) });
        const link = this.register(worker, r);
        worker.post({ t: 'authed', n: m.n, id: link.id, agentId: r.agentId, hostId: r.hostId });
        return;
      }
    }
  }

  /** A new connection of `worker`'s, counted there from now (it reports `closed` whatever becomes of it). */
  private register(worker: GatewayWorker, agent: { agentId: string; hostId: string }): RemoteConnection {
    const link = new RemoteConnection(this.nextId++, agent.agentId, agent.hostId, worker);
    worker.links.set(link.id, link);
    this.opts.metrics.agentConnected();
    return link;
  }

  /** A worker's accepted messages (each with its body's JSON) and rejections, to the ingest queue. */
  private onInbound(worker: GatewayWorker, items: WireItem[], bodies: string[]): void {
    const sink = this.opts.sink;
    if (worker.unreadable) return;
    let b = 0;
    for (const item of items) {
      const link = worker.links.get(item.c);
      if ('h' in item) {
        const lines = bodies.slice(b, (b += bodyLineCount(item)));
        // Decoded even when the connection is gone: the dictionary follows every body in order.
        let decoded: { body: unknown; json?: string };
        try {
          decoded = worker.decoder.body(item.h.type, lines, item.l);
        } catch (err) {
          // Out of step with the worker: nothing more from it can be read. It is replaced (its
          // agents reconnect and resend what was not acknowledged).
          this.opts.log.error({ err, worker: worker.index }, 'gateway worker sent a body that cannot be read: restarting it');
          worker.unreadable = true;
          worker.child.kill();
          return;
        }
        if (!link) continue;
        const { body, json } = decoded;
        const env = { ...item.h, body } as AgentEnvelope;
        if (env.type === 'heartbeat') link.lastHeartbeat = env.body as AgentMessageBody<'heartbeat'>;
        sink.message(link, env, json);
      } else if (link) sink.reject(link, item.r);
    }
  }

  /** Whether a ready worker can take one more connection. */
  hasRoom(): boolean {
    return this.workers.some((w) => w?.ready && w.links.size < this.opts.capacity);
  }

  /**
   * Hands an authenticated agent's connection (its socket's handle, the upgrade request not yet
   * answered) to the least busy worker. Returns the link, or undefined when no worker is ready.
   */
  handoff(
    agent: { agentId: string; hostId: string },
    headers: Record<string, string | string[] | undefined>,
    head: Buffer,
    handle: NativeHandle,
  ): AgentLink | undefined {
    let worker: GatewayWorker | undefined;
    for (const w of this.workers) if (w?.ready && w.links.size < this.opts.capacity && (!worker || w.links.size < worker.links.size)) worker = w;
    if (!worker || this.closing) return undefined;
    const link = this.register(worker, agent);
    const id = link.id;
    const chosen = worker;
    chosen.handOver({ t: 'conn', id, agentId: agent.agentId, hostId: agent.hostId, headers, head: head.toString('base64') }, handle, (err) => {
      if (!err) return;
      this.opts.log.warn({ err, worker: chosen.index }, 'could not hand an agent socket to a gateway worker');
      if (chosen.links.delete(id)) this.opts.hooks.onClose(link);
    });
    return link;
  }

  /** Closes every connection (1001) and stops the workers; kills one that lingers past `graceMs`. */
  async close(graceMs = 3000): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (!w || w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
            const timer = setTimeout(() => w.child.kill('SIGKILL'), graceMs);
            w.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.post({ t: 'shutdown' });
          }),
      ),
    );
  }
}
