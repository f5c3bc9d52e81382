import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { Logger } from 'pino';
import {
  agentEnvelope,
  CLOSE_CODES,
  decodeCollectorFrame,
  ErrorResponse,
  FATAL_CLOSE_CODES,
  PROTOCOL_VERSION,
  type CollectorMessageBody,
} from '@vigil/shared/agent';
import { Backoff } from './backoff.js';

/** What the link needs of the outbox. */
export interface OutboxPort {
  pending(afterSeq: number, maxCount: number, maxBytes?: number): { seq: number; line: string }[];
  markSent(count: number): void;
  ack(upToSeq: number, rejected?: { seq: number; code: string }[]): void;
  stats(): { pending: number; lastSeq: number; ackedSeq: number };
}

export interface LinkOptions {
  collectorUrl: string;
  agentId: string;
  hostId: string;
  agentToken: string;
  agentVersion: string;
  ca?: Buffer | undefined;
  outbox: OutboxPort;
  log: Logger;
  reconnectMaxMs: number;
  /** Messages sent but not yet acknowledged, at most. */
  maxInflight?: number;
  /** No ack for this long while messages are in flight: the connection is presumed dead. */
  ackTimeoutMs?: number;
  onConfig(config: CollectorMessageBody<'config'>): void;
  onCommand(command: CollectorMessageBody<'command'>): void;
  /** The collector does not know the token (e.g. its database was reset): enrol again. */
  onTokenUnknown(): void;
  onConnectionChange?(connected: boolean): void;
}

const MAX_BUFFERED = 1024 * 1024;

/**
 * Picked once per agent process and sent in every hello: the collector tells two copies of one
 * agent (a cloned machine image sharing a token) from one agent that reconnects or restarts.
 */
const INSTANCE_ID = randomUUID();

/**
 * The agent's WebSocket to the collector: hello, then the outbox in seq order, dropping from the
 * outbox only what the collector acknowledges. Reconnects with exponential backoff and jitter.
 */
export class CollectorLink {
  private ws: WebSocket | undefined;
  private ready = false;
  private stopped = false;
  private sentUpTo = 0;
  private inflight: number[] = [];
  private reconnectTimer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private readonly drainWaiters = new Set<() => void>();
  private readonly maxInflight: number;
  private readonly ackTimeoutMs: number;

  constructor(private readonly o: LinkOptions) {
    this.backoff = new Backoff(500, o.reconnectMaxMs);
    this.maxInflight = o.maxInflight ?? 500;
    this.ackTimeoutMs = o.ackTimeoutMs ?? 30_000;
  }

  get connected(): boolean {
    return this.ready;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** New messages are in the outbox: send them if connected. */
  notify(): void {
    this.pump();
  }

  /** Resolves true once everything in the outbox is acknowledged, false on timeout. */
  waitForDrain(timeoutMs: number): Promise<boolean> {
    if (this.o.outbox.stats().pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.drainWaiters.delete(waiter);
        resolve(ok);
      };
      const waiter = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.drainWaiters.add(waiter);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.ackTimer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close(1000, 'agent stopping');
    });
  }

  private wsUrl(): string {
    const u = new URL('/agent/v1', `${this.o.collectorUrl}/`);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString();
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.wsUrl(), {
      headers: { authorization: `Bearer ${this.o.agentToken}` },
      perMessageDeflate: false,
      maxPayload: 1024 * 1024,
      // A collector answering a reconnect storm of its whole fleet may take a while: a handshake
      // given up early comes back as another one (the collector holds a hello 30 s).
      handshakeTimeout: 30_000,
      ...(this.o.ca ? { ca: this.o.ca } : {}),
    });
    this.ws = ws;
    let fatal = false;

    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.length < 16 && chunks.push(c));
      res.on('end', () => {
        let code = `HTTP ${res.statusCode}`;
        try {
          const parsed = ErrorResponse.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          if (parsed.success) code = parsed.data.error.code;
        } catch {
          // not JSON: keep the status
        }
        this.o.log.error({ code, status: res.statusCode }, 'the collector refused the connection');
        if (code === 'VIGIL_ERR_TOKEN_INVALID') this.o.onTokenUnknown();
        fatal = res.statusCode === 401 || res.statusCode === 403;
        ws.terminate();
      });
    });

    ws.on('open', () => {
      this.sentUpTo = this.o.outbox.stats().ackedSeq;
      this.inflight = [];
      const s = this.o.outbox.stats();
      ws.send(
        JSON.stringify(
          agentEnvelope('hello', 0, {
            protocolVersion: PROTOCOL_VERSION,
            agentVersion: this.o.agentVersion,
            agentId: this.o.agentId,
            hostId: this.o.hostId,
            lastSeq: s.lastSeq,
            instanceId: INSTANCE_ID,
          }),
        ),
      );
    });

    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const d = decodeCollectorFrame((data as Buffer).toString('utf8'));
      if (!d.ok) {
        this.o.log.warn({ code: d.code, reason: d.reason }, 'unreadable frame from the collector');
        return;
      }
      const env = d.envelope;
      switch (env.type) {
        case 'config':
          if (!this.ready) {
            this.ready = true;
            this.backoff.reset();
            this.o.log.info({ url: this.o.collectorUrl }, 'connected to the collector');
            this.o.onConnectionChange?.(true);
          }
          this.o.onConfig(env.body);
          this.pump();
          break;
        case 'ack':
          this.onAck(env.body);
          break;
        case 'command':
          this.o.onCommand(env.body);
          break;
        case 'error':
          this.o.log.warn({ code: env.body.code, seq: env.body.seq, reason: env.body.message }, 'the collector reported an error');
          break;
      }
    });

    ws.on('close', (code, reason) => {
      const wasReady = this.ready;
      this.ready = false;
      this.ws = undefined;
      clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
      if (wasReady) this.o.onConnectionChange?.(false);
      if (this.stopped) return;
      fatal ||= FATAL_CLOSE_CODES.has(code);
      const delay = fatal ? Math.max(this.o.reconnectMaxMs, 1000) : this.backoff.next();
      const level = fatal ? 'error' : code === CLOSE_CODES.goingAway || code === 1006 ? 'info' : 'warn';
      this.o.log[level]({ code, reason: reason.toString('utf8').slice(0, 200), retryInMs: delay }, 'disconnected from the collector');
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });

    ws.on('error', (err) => this.o.log.debug({ err: err.message }, 'websocket error'));
  }

  private onAck(body: CollectorMessageBody<'ack'>): void {
    for (const r of body.rejected ?? []) this.o.log.warn({ seq: r.seq, code: r.code }, 'the collector rejected a message');
    this.o.outbox.ack(body.upToSeq, body.rejected);
    while (this.inflight.length && (this.inflight[0] as number) <= body.upToSeq) this.inflight.shift();
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.inflight.length) this.armAckTimer();
    if (this.o.outbox.stats().pending === 0) for (const w of [...this.drainWaiters]) w();
    this.pump();
  }

  private armAckTimer(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = setTimeout(() => {
      this.o.log.warn({ inflight: this.inflight.length }, 'no acknowledgement in time: reconnecting');
      this.ws?.terminate();
    }, this.ackTimeoutMs);
  }

  private pump(): void {
    const ws = this.ws;
    if (!ws || !this.ready || ws.readyState !== WebSocket.OPEN) return;
    let sent = 0;
    while (this.inflight.length < this.maxInflight && ws.bufferedAmount < MAX_BUFFERED) {
      const batch = this.o.outbox.pending(this.sentUpTo, Math.min(100, this.maxInflight - this.inflight.length), MAX_BUFFERED);
      if (batch.length === 0) break;
      for (const m of batch) {
        ws.send(m.line);
        this.sentUpTo = m.seq;
        this.inflight.push(m.seq);
      }
      sent += batch.length;
    }
    if (sent > 0) {
      this.o.outbox.markSent(sent);
      if (!this.ackTimer) this.armAckTimer();
    }
    // Past the buffer limit: look again once the socket has had time to drain.
    if (ws.bufferedAmount >= MAX_BUFFERED) setTimeout(() => this.pump(), 50).unref();
  }
}
