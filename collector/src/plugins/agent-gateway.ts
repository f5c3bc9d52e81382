import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import dns from 'node:dns/promises';
import net, { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { CLOSE_CODES, uuidv7, VigilError } from '@vigil/shared';
import type { AgentIdentity } from '../db/agents-repository.js';
import { connectionCapacity } from '../gateway/capacity.js';
import { detachSocket, type NativeHandle } from '../gateway/detach.js';
import { GatewayPool, type GatewayWorkerStatus } from '../gateway/pool.js';
import { AgentConnection, type AgentLink, type ConnectionSettings } from '../services/agent-connection.js';
import { CloneDetector } from '../services/clone-detector.js';
import { DEFAULT_FRAME_RATE, TokenBucket } from '../services/frame-rate-limit.js';
import { IngestQueue } from '../services/ingest-queue.js';
import { bearerToken } from './auth.js';

export interface AgentGateway {
  readonly queue: IngestQueue;
  /** Connected agents (hello accepted) by agent id, wherever their sockets are held. */
  readonly connections: ReadonlyMap<string, AgentLink>;
  /** Gateway worker processes configured (0: every socket is in this process). */
  readonly workers: number;
  /** Each gateway worker as it last reported (empty without workers). */
  workerStatus(): GatewayWorkerStatus[];
  /** Close every connection of a host (revocation). */
  disconnectHost(hostId: string, code: number, reason: string): number;
  /**
   * Send a host's connected agent a `collect-now` command (it answers with a full snapshot);
   * returns the command id, or null when no agent of the host is connected.
   */
  collectNow(hostId: string): string | null;
  /**
   * Starts accepting connections (instead of `app.listen`); resolves to the URL. Without workers
   * this process listens; with them, it binds the socket and every worker accepts on it (this
   * process gets only what is not an agent's WebSocket).
   */
  listen(opts: { host: string; port: number; backlog?: number }): Promise<string>;
  /** The port listened on (after listen()). */
  readonly port: number | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    gateway: AgentGateway;
  }
  interface FastifyRequest {
    agent: AgentIdentity | null;
  }
}

type DefaultedSettings = 'maxBadFrames' | 'headTimeoutMs' | 'helloTimeoutMs' | 'maxInflight' | 'rate' | 'rateLimitCloseMs';
export type GatewayOptions = Omit<ConnectionSettings, DefaultedSettings> &
  Partial<Pick<ConnectionSettings, DefaultedSettings>> & {
    /** Connection attempts one agent token may make per minute, and at once (0: no limit). */
    connectsPerMinute?: number;
    heartbeatSeconds: number;
    idleThresholdSeconds: number;
    /** Gateway worker processes holding agents' sockets (0: this process holds them). Plain HTTP only. */
    workers?: number;
    /** Agent sockets one process (this one, or each worker) may hold; default from its open-file limit. */
    maxConnectionsPerProcess?: number;
    /** The log level the workers log at, and whether for a human (pino-pretty). */
    workerLogLevel?: string;
    prettyLogs?: boolean;
  };

/** `agent.cloned` is raised (or bumped) at most this often per agent; detections in between are counted. */
const CLONE_RAISE_INTERVAL_MS = 60_000;

/**
 * `@fastify/websocket` keeps the bytes read past the upgrade request's headers under a symbol of
 * its own. A WebSocket client sends nothing before the 101, so this is nearly always empty; it
 * is handed over with the socket all the same.
 */
function upgradeHead(raw: object): Buffer {
  const key = Object.getOwnPropertySymbols(raw).find((s) => s.description === 'ws-head');
  const head = key ? (raw as Record<symbol, unknown>)[key] : undefined;
  return Buffer.isBuffer(head) ? head : Buffer.alloc(0);
}

/**
 * `GET /agent/v1`: agents' WebSocket. The bearer token is checked before the upgrade, so a bad
 * token gets a plain 401 with a coded body and never a socket. With `workers` > 0 the
 * authenticated socket is handed to a gateway worker process (src/gateway/): this process keeps
 * the store, the policy engine and the API, and no agent socket.
 */
export const agentGatewayPlugin = fp(
  async function agentGateway(app: FastifyInstance, opts: GatewayOptions) {
    const { heartbeatSeconds, idleThresholdSeconds, workers = 0, workerLogLevel: logLevel = 'info', prettyLogs = false, maxConnectionsPerProcess, connectsPerMinute = 30, ...limits } = opts;
    const capacity = maxConnectionsPerProcess ?? connectionCapacity();
    /** Agent sockets in this process (without workers), hello or not. */
    let localSockets = 0;
    let warnedAt = 0;
    const settings: ConnectionSettings = { maxBadFrames: 20, headTimeoutMs: 10_000, helloTimeoutMs: 30_000, maxInflight: 1000, rate: DEFAULT_FRAME_RATE, rateLimitCloseMs: 60_000, ...limits };
    const connections = new Map<string, AgentLink>();
    const engine = app.engine;
    const metrics = app.metrics;
    const queue = new IngestQueue(app.store, (err) => app.log.error({ err }, 'ingest commit failed'), 2000, {
      onStored: (hostId, env, at) => engine.onMessage(hostId, env, at),
      afterCommit: () => engine.afterCommit(),
      afterRollback: () => engine.afterRollback(),
    }, metrics);
    app.store.agents.resetConnections();
    let closing = false;

    /** Sends an agent its operational settings (at hello, and again when the policy changes them). */
    const sendConfig = (link: AgentLink) =>
      link.send('config', {
        heartbeatSeconds,
        idleThresholdSeconds: engine.idleThresholdFor(link.hostId, idleThresholdSeconds),
        maxFrameBytes: settings.maxFrameBytes,
      });

    const logFor = (link: AgentLink) => app.log.child({ agentId: link.agentId, hostId: link.hostId });

    // --- one token, two copies of the agent (see services/clone-detector.ts)
    const clones = new CloneDetector();
    /** Per agent: when agent.cloned was last raised, and detections since start. */
    const cloneRaised = new Map<string, { at: number; detections: number }>();
    const prune = setInterval(() => clones.prune(Date.now()), 60_000);
    prune.unref();
    const checkClone = (link: AgentLink, replaced: AgentLink | undefined) => {
      const now = Date.now();
      const evidence = clones.onHello({
        agentId: link.agentId,
        instanceId: link.instanceId,
        peer: link.peer,
        lastSeq: link.helloLastSeq,
        committedSeq: app.store.agents.committedSeq(link.agentId),
        replaced: replaced && { instanceId: replaced.instanceId, peer: replaced.peer },
        at: now,
      });
      if (!evidence) return;
      let raised = cloneRaised.get(link.agentId);
      if (!raised) {
        if (cloneRaised.size >= 100_000) cloneRaised.clear();
        cloneRaised.set(link.agentId, (raised = { at: 0, detections: 0 }));
      }
      raised.detections++;
      if (now - raised.at < CLONE_RAISE_INTERVAL_MS) return;
      raised.at = now;
      logFor(link).warn(
        { signals: evidence.signals, peers: evidence.copies.flatMap((c) => c.peers), copies: evidence.copies.length, helloLastSeq: evidence.helloLastSeq, committedSeq: evidence.committedSeq },
        'one agent token is used by two copies of the agent (a cloned image?): raising agent.cloned',
      );
      engine.raiseAgentCloned(link.hostId, evidence, raised.detections);
    };

    const onHello = (link: AgentLink) => {
      app.store.agents.markConnected(link.hostId, link.agentVersion);
      const previous = connections.get(link.agentId);
      connections.set(link.agentId, link);
      const replaced = previous && previous !== link ? previous : undefined;
      try {
        checkClone(link, replaced);
      } catch (err) {
        logFor(link).error({ err }, 'clone detection failed');
      }
      if (replaced) {
        logFor(link).warn({ peer: link.peer, replacedPeer: replaced.peer, instanceId: link.instanceId, replacedInstanceId: replaced.instanceId }, 'a second connection with the same agent token replaced the first');
        replaced.close(CLOSE_CODES.superseded, 'VIGIL_ERR_SUPERSEDED');
      }
      logFor(link).info({ agentVersion: link.agentVersion }, 'agent connected');
      sendConfig(link);
    };
    // --- connection floods: per agent token, attempts per minute; after a rate-limit close, a pause
    const connectBuckets = new Map<string, TokenBucket>();
    const refusedUntil = new Map<string, number>();
    /** Throws the coded refusal when this agent may not connect now. */
    const admit = (agentId: string) => {
      const now = Date.now();
      const until = refusedUntil.get(agentId);
      if (until !== undefined) {
        if (now < until) throw new VigilError('VIGIL_ERR_CONNECT_RATE_LIMITED', `This agent was closed for sending over its frame rate limit; retry in ${Math.ceil((until - now) / 1000)} s`);
        refusedUntil.delete(agentId);
      }
      if (connectsPerMinute <= 0) return;
      let bucket = connectBuckets.get(agentId);
      if (!bucket) {
        if (connectBuckets.size >= 100_000) connectBuckets.clear();
        connectBuckets.set(agentId, (bucket = new TokenBucket(connectsPerMinute / 60, connectsPerMinute, now)));
      }
      if (!bucket.tryTake(1, now)) throw new VigilError('VIGIL_ERR_CONNECT_RATE_LIMITED', `More than ${connectsPerMinute} connection attempts a minute with this agent token; retry later`);
    };

    const onClose = (link: AgentLink) => {
      if (!pool) localSockets--;
      metrics.agentDisconnected();
      if (link.closeReason === 'VIGIL_ERR_FRAME_RATE_LIMITED') {
        if (refusedUntil.size >= 100_000) refusedUntil.clear();
        refusedUntil.set(link.agentId, Date.now() + settings.rateLimitCloseMs);
      }
      if (connections.get(link.agentId) !== link) return;
      connections.delete(link.agentId);
      if (!closing) app.store.agents.markDisconnected(link.hostId);
      logFor(link).info('agent disconnected');
    };

    /** Whose agent token this is; throws the coded error an upgrade with it is refused with. */
    const identify = (token: string | null): AgentIdentity => {
      if (!token) throw new VigilError('VIGIL_ERR_UNAUTHENTICATED', 'An agent token is required (Authorization: Bearer …)');
      const agent = app.store.agents.findByToken(token);
      if (!agent) throw new VigilError('VIGIL_ERR_TOKEN_INVALID');
      if (agent.revoked || agent.retired) throw new VigilError('VIGIL_ERR_TOKEN_REVOKED');
      admit(agent.agentId);
      return agent;
    };
    /** A worker's upgrade: the same check as the route's. */
    const authenticateForWorker = (token: string | null) => {
      try {
        return identify(token);
      } catch (err) {
        if (err instanceof VigilError) return { code: err.code, message: err.message };
        throw err;
      }
    };
    /** A connection a worker passed on (the API, the dashboard, enrolment…): served by this process's HTTP server. */
    const onHttp = (handle: NativeHandle, head: Buffer) => {
      const socket = new Socket({ handle, readable: true, writable: true } as unknown as ConstructorParameters<typeof Socket>[0]);
      if (closing) return void socket.destroy();
      if (head.length) socket.unshift(head);
      app.server.emit('connection', socket);
    };

    let pool: GatewayPool | undefined;
    if (workers > 0) {
      pool = new GatewayPool({
        workers,
        capacity,
        settings,
        logLevel,
        prettyLogs,
        sink: queue,
        hooks: { authenticate: authenticateForWorker, onHttp, onHello, onClose },
        metrics,
        log: app.log,
      });
      await pool.start();
    }
    /** The bound socket the workers listen on (with workers, after listen()). */
    let shared: NativeHandle | undefined;
    let port: number | undefined;

    const gateway: AgentGateway = {
      queue,
      connections,
      workers,
      get port() {
        return port;
      },
      async listen({ host, port: wanted, backlog = 511 }) {
        if (!pool) {
          const url = await app.listen({ host, port: wanted, backlog });
          port = (app.server.address() as net.AddressInfo).port;
          return url;
        }
        await app.ready();
        const { address, family } = await dns.lookup(host);
        // Bound, not listening: this process never accepts on it, the workers do (Node's cluster
        // module shares a socket between processes the same way).
        const bound = (net as unknown as { _createServerHandle(a: string, p: number, t: number): NativeHandle | number })._createServerHandle(address, wanted, family);
        if (typeof bound === 'number') {
          const code = getSystemErrorName(bound);
          throw Object.assign(new Error(`listen ${code}: address already in use or unavailable ${address}:${wanted}`), { code });
        }
        shared = bound;
        const out: { port?: number } = {};
        (bound as unknown as { getsockname(o: object): number }).getsockname(out);
        port = out.port;
        await pool.share(bound, backlog);
        app.log.info({ workers, address, port }, 'gateway workers accepting connections');
        return `http://${family === 6 ? `[${address}]` : address}:${port}`;
      },
      workerStatus: () => pool?.status() ?? [],
      collectNow(hostId) {
        let sent: string | null = null;
        for (const c of connections.values()) {
          if (c.hostId !== hostId) continue;
          sent = uuidv7();
          c.send('command', { id: sent, kind: 'collect-now' });
        }
        return sent;
      },
      disconnectHost(hostId, code, reason) {
        let n = 0;
        for (const c of connections.values()) {
          if (c.hostId === hostId) {
            c.close(code, 'VIGIL_ERR_TOKEN_REVOKED', reason);
            n++;
          }
        }
        return n;
      },
    };
    app.decorate('gateway', gateway);
    // A policy change can lower a host's unattended threshold below the idle threshold agents use.
    engine.onPolicyChange(() => {
      for (const c of connections.values()) sendConfig(c);
    });
    // The engine could not rebuild a host's facts (a software diff with no inventory): ask its agent for a snapshot.
    engine.onSnapshotNeeded((hostId) => {
      if (gateway.collectNow(hostId)) app.log.info({ hostId }, 'asked the agent for a full snapshot');
    });
    app.decorateRequest('agent', null);

    await app.register(websocket, {
      options: {
        // Hard cap: ws closes with 1009 past it. Below it, our own cap answers with a coded error.
        maxPayload: settings.maxFrameBytes * 4,
        perMessageDeflate: false,
      },
    });

    const authenticate = async (request: FastifyRequest) => {
      request.agent = identify(bearerToken(request));
    };

    /** Refuses an agent past what the processes holding sockets can hold, before any socket is taken. */
    const atCapacity = (): VigilError => {
      if (Date.now() - warnedAt > 60_000) {
        warnedAt = Date.now();
        app.log.warn(
          { capacityPerProcess: capacity, workers },
          'agent connections at capacity: refusing new ones (503) until some close; run more gateway processes (--gateway-workers) or raise the open-file limit',
        );
      }
      return new VigilError('VIGIL_ERR_AT_CAPACITY');
    };

    /**
     * Before the handshake: refuse at capacity; with workers, hand the authenticated upgrade's socket
     * to one (it leaves this process before any handshake).
     */
    const handOff = async (request: FastifyRequest, reply: FastifyReply) => {
      if (!request.ws) return;
      if (!pool) {
        if (localSockets >= capacity) throw atCapacity();
        return;
      }
      const agent = request.agent as AgentIdentity;
      const socket = request.raw.socket as Socket;
      if (closing || pool.size === 0) throw new VigilError('VIGIL_ERR_NOT_READY', 'No gateway worker is ready; retry later');
      if (!pool.hasRoom()) throw atCapacity();
      reply.hijack();
      const detached = detachSocket(socket, upgradeHead(request.raw));
      if (!detached) return;
      if (!pool.handoff(agent, request.headers, detached.head, detached.handle)) detached.handle.close();
    };

    app.get('/agent/v1', { websocket: true, preValidation: authenticate, preHandler: handOff }, (socket, request) => {
      const agent = request.agent as AgentIdentity;
      const log = request.log.child({ agentId: agent.agentId, hostId: agent.hostId });
      metrics.agentConnected();
      localSockets++;
      const peer = `${request.socket.remoteAddress ?? ''}:${request.socket.remotePort ?? ''}`;
      new AgentConnection(agent.agentId, agent.hostId, socket, queue, settings, { onHello, onClose }, log, metrics, peer);
    });

    app.addHook('preClose', async () => {
      closing = true;
      clearInterval(prune);
      // Commit and ack what has arrived, then let agents go; they reconnect and resend the rest.
      queue.flush();
      for (const c of connections.values()) c.close(CLOSE_CODES.goingAway, 'VIGIL_ERR_SHUTTING_DOWN');
      await pool?.close();
      shared?.close();
      shared = undefined;
      app.store.agents.resetConnections();
    });
  },
  { name: 'vigil-agent-gateway', dependencies: ['vigil-store', 'vigil-metrics', 'vigil-policy-engine'] },
);
