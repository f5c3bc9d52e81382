import type { WebSocket } from 'ws';
import type { FastifyBaseLogger } from 'fastify';
import {
  CLOSE_CODES,
  collectorEnvelope,
  decodeAgentFrame,
  ERRORS,
  isSupportedProtocolVersion,
  PROTOCOL_VERSION,
  type AgentEnvelope,
  type AgentMessageBody,
  type CollectorMessageBody,
  type CollectorMessageType,
  type ErrorCode,
} from '@vigil/shared';
import type { Rejection } from '../db/ingest-repository.js';
import { isStorageUnavailable } from '../db/storage-health.js';
import type { AckTarget } from './ingest-queue.js';
import { FrameRateLimiter, type FrameRateSettings } from './frame-rate-limit.js';

/** What a connection enforces on its socket (a gateway worker gets these from the main process). */
export interface ConnectionSettings {
  /** Frames over this are rejected (acked as rejected when their seq can be read). */
  maxFrameBytes: number;
  /** Unreadable frames tolerated before the stream is closed. */
  maxBadFrames: number;
  /** A connection whose request head has not all come this long after it was accepted is dropped (slow heads: slowloris). */
  headTimeoutMs: number;
  /**
   * An authenticated connection that has not said hello this long after its handshake is closed.
   * Longer than the head's: in a reconnect storm of tens of thousands of agents a busy gateway
   * process reads a hello late, and every connection closed for it comes back as another handshake.
   */
  helloTimeoutMs: number;
  /** Frames waiting for commit before this connection stops reading. */
  maxInflight: number;
  /** Frame and byte rate limits (token buckets); past them reading stops until back within them. */
  rate: FrameRateSettings;
  /** Over the rate limit this long without a break: the connection is closed (4430). */
  rateLimitCloseMs: number;
}

/**
 * Where a connection's messages go: the ingest queue in the collector's main process, or the IPC
 * channel to it from a gateway worker process. Either way each message is acked (`committed`) only
 * after it has been committed.
 */
export interface IngestSink {
  /** `json`: the body serialised, when the caller has it already (the store serialises it otherwise). */
  message(target: AckTarget, env: AgentEnvelope, json?: string): void;
  reject(target: AckTarget, rejection: Rejection): void;
}

export interface ConnectionHooks {
  /** The agent's hello was accepted: the gateway registers it, marks it connected and sends its config. */
  onHello(conn: AgentConnection): void;
  onClose(conn: AgentConnection): void;
}

/**
 * A connected agent as the gateway sees it, wherever its socket lives: an `AgentConnection` in
 * this process, or a stand-in for one held by a gateway worker process.
 */
export interface AgentLink extends AckTarget {
  readonly agentVersion: string;
  /** Where the connection comes from (`address:port`). */
  readonly peer: string;
  /** The agent process's random id from its hello (older agents send none). */
  readonly instanceId: string | undefined;
  /** The hello's `lastSeq`: where the agent's outbox stands. */
  readonly helloLastSeq: number | undefined;
  /** The code this connection was closed with by the collector, if it was. */
  readonly closeReason: ErrorCode | undefined;
  /** The latest heartbeat received from this agent (its counters and outbox). */
  readonly lastHeartbeat: AgentMessageBody<'heartbeat'> | undefined;
  send<T extends CollectorMessageType>(type: T, body: CollectorMessageBody<T>): void;
  close(code: number, errorCode?: ErrorCode, message?: string): void;
}

/** Per-frame counters (the metrics plugin's; a no-op by default). Called on the hot path: must be cheap. */
export interface ConnectionMetrics {
  /** Every frame received; `type` is the envelope's as far as it could be read (untrusted). */
  frameReceived(type: string | undefined): void;
  /** A received frame that was not accepted, by the code it was answered with. */
  frameRejected(code: ErrorCode): void;
  frameSent(type: CollectorMessageType): void;
}

const NO_METRICS: ConnectionMetrics = { frameReceived() {}, frameRejected() {}, frameSent() {} };

/**
 * One agent's WebSocket. The host is taken from the token alone; every frame is decoded against
 * the shared schemas; accepted and rejected messages go to the ingest sink, and acks go back only
 * after they have been committed.
 */
export class AgentConnection implements AgentLink {
  private helloDone = false;
  private outSeq = 0;
  private badFrames = 0;
  private inflight = 0;
  private paused = false;
  private closed = false;
  private helloTimer: NodeJS.Timeout | undefined;
  private readonly limiter: FrameRateLimiter;
  /** Reading stopped until the rate limiter's debt is repaid. */
  private throttleTimer: NodeJS.Timeout | undefined;
  /** Since when this connection has been over its rate limit without a break. */
  private overSince: number | undefined;
  agentVersion = '';
  instanceId: string | undefined;
  helloLastSeq: number | undefined;
  closeReason: ErrorCode | undefined;
  /** The latest heartbeat this connection received (its agent's counters and outbox). */
  lastHeartbeat: AgentMessageBody<'heartbeat'> | undefined;

  constructor(
    readonly agentId: string,
    readonly hostId: string,
    private readonly socket: WebSocket,
    private readonly queue: IngestSink,
    private readonly settings: ConnectionSettings,
    private readonly hooks: ConnectionHooks,
    private readonly log: FastifyBaseLogger,
    private readonly metrics: ConnectionMetrics = NO_METRICS,
    readonly peer: string = '',
  ) {
    this.limiter = new FrameRateLimiter(settings.rate, Date.now());
    socket.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    socket.on('close', () => this.onClosed());
    socket.on('error', (err) => this.log.debug({ err }, 'agent socket error'));
    // Timers run before I/O in each turn of the event loop: after a stall longer than the timeout
    // (a reconnect storm on a busy process) the hello may be sitting in the socket unread. So the
    // verdict waits for the I/O phase (setImmediate runs after it) and only then closes.
    this.helloTimer = setTimeout(() => {
      setImmediate(() => {
        if (this.helloDone || this.closed) return;
        this.log.warn({ agentId: this.agentId, seconds: settings.helloTimeoutMs / 1000 }, 'no hello in time: closing');
        this.close(CLOSE_CODES.protocol, 'VIGIL_ERR_HELLO_REQUIRED', 'no hello in time');
      });
    }, settings.helloTimeoutMs);
  }

  send<T extends CollectorMessageType>(type: T, body: CollectorMessageBody<T>): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.metrics.frameSent(type);
    this.socket.send(JSON.stringify(collectorEnvelope(type, ++this.outSeq, body)));
  }

  sendError(code: ErrorCode, message?: string, seq?: number): void {
    this.send('error', { code, message: message ?? ERRORS[code].message, ...(seq === undefined ? {} : { seq }) });
  }

  close(code: number, errorCode?: ErrorCode, message?: string): void {
    if (this.closed) return;
    if (errorCode) this.sendError(errorCode, message);
    this.closed = true;
    this.closeReason = errorCode;
    clearTimeout(this.helloTimer);
    clearTimeout(this.throttleTimer);
    this.socket.close(code, (errorCode ?? '').slice(0, 100));
  }

  // --- AckTarget
  committed(upToSeq: number, rejected: { seq: number; code: string }[]): void {
    this.settle();
    if (upToSeq > 0) this.send('ack', { upToSeq, ...(rejected.length ? { rejected } : {}) });
  }

  failed(err?: unknown): void {
    this.settle();
    // Nothing was stored: make the agent reconnect and resend from its last ack.
    if (isStorageUnavailable(err)) this.close(CLOSE_CODES.storeUnavailable, 'VIGIL_ERR_STORAGE_UNAVAILABLE');
    else this.close(CLOSE_CODES.storeUnavailable, 'VIGIL_ERR_NOT_READY', 'the collector could not store your messages; retry later');
  }

  private settle(): void {
    this.inflight = 0;
    if (this.paused && !this.closed) {
      this.paused = false;
      if (!this.throttleTimer) this.socket.resume();
    }
  }

  /**
   * Counts a frame against the rate limits. Within them: nothing. Over them: reading stops until
   * the debt is repaid (the frame itself is handled: nothing read is ever dropped); the first time
   * in a spell over the limit the agent is told with a coded error, and a spell longer than
   * `rateLimitCloseMs` closes the connection. A spell ends at the first frame within the limits.
   */
  private meter(bytes: number): boolean {
    const now = Date.now();
    const wait = this.limiter.take(bytes, now);
    if (wait === 0) {
      this.overSince = undefined;
      return true;
    }
    if (this.overSince === undefined) {
      this.overSince = now;
      this.log.warn({ agentId: this.agentId, peer: this.peer, waitMs: wait }, 'agent over its frame rate limit: reading slowed');
      this.sendError('VIGIL_ERR_FRAME_RATE_LIMITED', `over the frame rate limit: reading paused for ${wait} ms; keep going for ${Math.round(this.settings.rateLimitCloseMs / 1000)} s and the connection is closed`);
    } else if (now - this.overSince >= this.settings.rateLimitCloseMs) {
      this.log.warn({ agentId: this.agentId, peer: this.peer, seconds: (now - this.overSince) / 1000 }, 'agent kept over its frame rate limit: closing');
      this.close(CLOSE_CODES.rateLimited, 'VIGIL_ERR_FRAME_RATE_LIMITED', 'kept sending over the frame rate limit');
      return false;
    }
    if (!this.throttleTimer) {
      this.socket.pause();
      this.throttleTimer = setTimeout(() => {
        this.throttleTimer = undefined;
        if (!this.closed && !this.paused) this.socket.resume();
      }, wait);
    }
    return true;
  }

  private track(): void {
    if (++this.inflight >= this.settings.maxInflight && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private bad(code: ErrorCode, reason: string, bytes: number): void {
    this.badFrames++;
    this.metrics.frameRejected(code);
    this.log.warn({ agentId: this.agentId, code, reason, bytes }, 'unreadable agent frame');
    if (this.helloDone) {
      this.track();
      this.queue.reject(this, { agentId: this.agentId, hostId: this.hostId, messageId: null, seq: null, type: null, code, reason, bytes });
    }
    if (this.badFrames > this.settings.maxBadFrames) {
      this.close(CLOSE_CODES.tooManyBadFrames, 'VIGIL_ERR_TOO_MANY_BAD_FRAMES');
    } else {
      this.sendError(code, reason);
    }
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    const bytes = data.length;
    if (!this.meter(bytes)) return;
    if (isBinary) {
      this.metrics.frameReceived(undefined);
      return this.bad('VIGIL_ERR_FRAME_BINARY', 'binary frames are not accepted', bytes);
    }
    const decoded = decodeAgentFrame(data.toString('utf8'));
    let code: ErrorCode | undefined;
    let reason = '';
    if (bytes > this.settings.maxFrameBytes) {
      code = 'VIGIL_ERR_FRAME_TOO_LARGE';
      reason = `frame of ${bytes} bytes is over the cap of ${this.settings.maxFrameBytes}`;
    } else if (!decoded.ok) {
      code = decoded.code;
      reason = decoded.reason;
    }
    const seq = decoded.ok ? decoded.envelope.seq : decoded.seq;
    const id = decoded.ok ? decoded.envelope.id : decoded.id;
    const type = decoded.ok ? decoded.envelope.type : decoded.type;
    this.metrics.frameReceived(type);

    if (!this.helloDone) {
      if (code || !decoded.ok) return this.refuse(code ?? 'VIGIL_ERR_HELLO_REQUIRED', reason);
      if (decoded.envelope.type !== 'hello') return this.refuse('VIGIL_ERR_HELLO_REQUIRED');
      return this.onHello(decoded.envelope);
    }
    if (code) {
      // Readable enough to name by seq: acknowledged as rejected and recorded, never blocking the queue.
      if (seq === undefined) return this.bad(code, reason, bytes);
      this.metrics.frameRejected(code);
      this.track();
      this.queue.reject(this, { agentId: this.agentId, hostId: this.hostId, messageId: id ?? null, seq, type: type?.slice(0, 64) ?? null, code, reason, bytes });
      return this.sendError(code, reason, seq);
    }
    if (!decoded.ok) return;
    const env = decoded.envelope;
    if (env.type === 'hello') {
      this.metrics.frameRejected('VIGIL_ERR_MESSAGE_INVALID');
      return this.sendError('VIGIL_ERR_MESSAGE_INVALID', 'hello was already received', env.seq);
    }
    if (env.type === 'heartbeat') this.lastHeartbeat = env.body;
    this.track();
    this.queue.message(this, env);
  }

  /** A frame before or at hello that cannot start the stream: answered with its code, and the stream closed. */
  private refuse(code: ErrorCode, reason?: string): void {
    this.metrics.frameRejected(code);
    this.log.warn({ agentId: this.agentId, code, reason }, 'agent stream refused before hello');
    this.close(CLOSE_CODES.protocol, code, reason);
  }

  private onHello(env: AgentEnvelope<'hello'>): void {
    const b = env.body;
    if (!isSupportedProtocolVersion(b.protocolVersion)) {
      return this.refuse(
        'VIGIL_ERR_PROTOCOL_VERSION',
        `protocol version ${b.protocolVersion} is not supported (this collector speaks ${PROTOCOL_VERSION})`,
      );
    }
    if (b.agentId !== this.agentId || (b.hostId !== undefined && b.hostId !== this.hostId)) {
      this.log.warn({ agentId: this.agentId, claimed: { agentId: b.agentId, hostId: b.hostId } }, 'hello claims another agent or host');
      return this.refuse('VIGIL_ERR_HOST_MISMATCH', 'this token belongs to another agent or host');
    }
    clearTimeout(this.helloTimer);
    this.helloDone = true;
    this.agentVersion = b.agentVersion;
    this.instanceId = b.instanceId;
    this.helloLastSeq = b.lastSeq;
    this.hooks.onHello(this);
  }

  private onClosed(): void {
    this.closed = true;
    clearTimeout(this.helloTimer);
    clearTimeout(this.throttleTimer);
    this.hooks.onClose(this);
  }
}
