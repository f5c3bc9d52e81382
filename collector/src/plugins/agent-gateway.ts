import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Socket } from 'node:net';
import { CLOSE_CODES, uuidv7, VigilError } from '@vigil/shared';
import type { AgentIdentity } from '../db/agents-repository.js';
import { GatewayPool, type GatewayWorkerStatus, type NativeHandle } from '../gateway/pool.js';
import { AgentConnection, type AgentLink, type ConnectionSettings } from '../services/agent-connection.js';
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
}

declare module 'fastify' {
  interface FastifyInstance {
    gateway: AgentGateway;
  }
  interface FastifyRequest {
    agent: AgentIdentity | null;
  }
}

export type GatewayOptions = Omit<ConnectionSettings, 'maxBadFrames' | 'helloTimeoutMs' | 'maxInflight'> &
  Partial<Pick<ConnectionSettings, 'maxBadFrames' | 'helloTimeoutMs' | 'maxInflight'>> & {
    heartbeatSeconds: number;
    idleThresholdSeconds: number;
    /** Gateway worker processes holding agents' sockets (0: this process holds them). Plain HTTP only. */
    workers?: number;
    /** The log level the workers log at, and whether for a human (pino-pretty). */
    workerLogLevel?: string;
    prettyLogs?: boolean;
  };

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
 * Takes an upgrade's socket apart for a gateway worker: stops this process reading it, keeps what
 * it had read past the request (`head` plus anything buffered since), detaches the OS handle and
 * destroys the now handle-less socket, so the HTTP server counts the connection closed here (it
 * lives on in the worker). Node discards what a socket reads while its handle is being sent, and
 * its own socket-passing ties the server's close to the receiving process: this avoids both (an
 * agent's hello, sent the moment the worker's 101 arrives, would otherwise be lost now and then).
 */
function detachForHandoff(socket: Socket, head: Buffer): { handle: NativeHandle; head: Buffer } | undefined {
  const buffered = socket.readableLength > 0 ? (socket.read(socket.readableLength) as Buffer | null) : null;
  const s = socket as unknown as { _handle: NativeHandle | null };
  const handle = s._handle;
  if (!handle) return undefined;
  handle.reading = false;
  handle.readStop();
  s._handle = null;
  socket.destroy();
  return { handle, head: buffered ? Buffer.concat([head, buffered]) : head };
}

/**
 * `GET /agent/v1`: agents' WebSocket. The bearer token is checked before the upgrade, so a bad
 * token gets a plain 401 with a coded body and never a socket. With `workers` > 0 the
 * authenticated socket is handed to a gateway worker process (src/gateway/): this process keeps
 * the store, the policy engine and the API, and no agent socket.
 */
export const agentGatewayPlugin = fp(
  async function agentGateway(app: FastifyInstance, opts: GatewayOptions) {
    const { heartbeatSeconds, idleThresholdSeconds, workers = 0, workerLogLevel: logLevel = 'info', prettyLogs = false, ...limits } = opts;
    const settings: ConnectionSettings = { maxBadFrames: 20, helloTimeoutMs: 10_000, maxInflight: 1000, ...limits };
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
    const onHello = (link: AgentLink) => {
      app.store.agents.markConnected(link.hostId, link.agentVersion);
      const previous = connections.get(link.agentId);
      connections.set(link.agentId, link);
      if (previous && previous !== link) {
        logFor(link).warn('a second connection with the same agent token replaced the first');
        previous.close(CLOSE_CODES.superseded, 'VIGIL_ERR_SUPERSEDED');
      }
      logFor(link).info({ agentVersion: link.agentVersion }, 'agent connected');
      sendConfig(link);
    };
    const onClose = (link: AgentLink) => {
      metrics.agentDisconnected();
      if (connections.get(link.agentId) !== link) return;
      connections.delete(link.agentId);
      if (!closing) app.store.agents.markDisconnected(link.hostId);
      logFor(link).info('agent disconnected');
    };

    let pool: GatewayPool | undefined;
    if (workers > 0) {
      pool = new GatewayPool({ workers, settings, logLevel, prettyLogs, sink: queue, hooks: { onHello, onClose }, metrics, log: app.log });
      await pool.start();
    }

    const gateway: AgentGateway = {
      queue,
      connections,
      workers,
      workerStatus: () => pool?.status() ?? [],
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
      for (const c of connections.values()) {
        if (c.hostId !== hostId) continue;
        c.send('command', { id: uuidv7(), kind: 'collect-now' });
        app.log.info({ hostId }, 'asked the agent for a full snapshot');
      }
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
      const token = bearerToken(request);
      if (!token) throw new VigilError('VIGIL_ERR_UNAUTHENTICATED', 'An agent token is required (Authorization: Bearer …)');
      const agent = app.store.agents.findByToken(token);
      if (!agent) throw new VigilError('VIGIL_ERR_TOKEN_INVALID');
      if (agent.revoked || agent.retired) throw new VigilError('VIGIL_ERR_TOKEN_REVOKED');
      request.agent = agent;
    };

    /** With workers: the authenticated upgrade's socket leaves this process before any handshake. */
    const handOff = async (request: FastifyRequest, reply: FastifyReply) => {
      if (!pool || !request.ws) return;
      const agent = request.agent as AgentIdentity;
      const socket = request.raw.socket as Socket;
      if (closing || pool.size === 0) throw new VigilError('VIGIL_ERR_NOT_READY', 'No gateway worker is ready; retry later');
      reply.hijack();
      const detached = detachForHandoff(socket, upgradeHead(request.raw));
      if (!detached) return;
      metrics.agentConnected();
      if (!pool.handoff(agent, request.headers, detached.head, detached.handle)) {
        metrics.agentDisconnected();
        detached.handle.close();
      }
    };

    app.get('/agent/v1', { websocket: true, preValidation: authenticate, preHandler: handOff }, (socket, request) => {
      const agent = request.agent as AgentIdentity;
      const log = request.log.child({ agentId: agent.agentId, hostId: agent.hostId });
      metrics.agentConnected();
      new AgentConnection(agent.agentId, agent.hostId, socket, queue, settings, { onHello, onClose }, log, metrics);
    });

    app.addHook('preClose', async () => {
      closing = true;
      // Commit and ack what has arrived, then let agents go; they reconnect and resend the rest.
      queue.flush();
      for (const c of connections.values()) c.close(CLOSE_CODES.goingAway, 'VIGIL_ERR_SHUTTING_DOWN');
      await pool?.close();
      app.store.agents.resetConnections();
    });
  },
  { name: 'vigil-agent-gateway', dependencies: ['vigil-store', 'vigil-metrics', 'vigil-policy-engine'] },
);
