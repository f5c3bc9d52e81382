import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { CLOSE_CODES, uuidv7, VigilError } from '@vigil/shared';
import type { AgentIdentity } from '../db/agents-repository.js';
import { AgentConnection, type ConnectionSettings } from '../services/agent-connection.js';
import { IngestQueue } from '../services/ingest-queue.js';
import { bearerToken } from './auth.js';

export interface AgentGateway {
  readonly queue: IngestQueue;
  /** Connected agents by agent id. */
  readonly connections: ReadonlyMap<string, AgentConnection>;
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
  Partial<Pick<ConnectionSettings, 'maxBadFrames' | 'helloTimeoutMs' | 'maxInflight'>>;

/**
 * `GET /agent/v1`: agents' WebSocket. The bearer token is checked before the upgrade, so a bad
 * token gets a plain 401 with a coded body and never a socket.
 */
export const agentGatewayPlugin = fp(
  async function agentGateway(app: FastifyInstance, opts: GatewayOptions) {
    const settings: ConnectionSettings = { maxBadFrames: 20, helloTimeoutMs: 10_000, maxInflight: 1000, ...opts };
    const connections = new Map<string, AgentConnection>();
    const engine = app.engine;
    const metrics = app.metrics;
    const queue = new IngestQueue(app.store, (err) => app.log.error({ err }, 'ingest commit failed'), 2000, {
      onStored: (hostId, env, at) => engine.onMessage(hostId, env, at),
      afterCommit: () => engine.afterCommit(),
      afterRollback: () => engine.afterRollback(),
    }, metrics);
    app.store.agents.resetConnections();

    const gateway: AgentGateway = {
      queue,
      connections,
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
      for (const c of connections.values()) c.sendConfig();
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

    app.get('/agent/v1', { websocket: true, preValidation: authenticate }, (socket, request) => {
      const agent = request.agent as AgentIdentity;
      const log = request.log.child({ agentId: agent.agentId, hostId: agent.hostId });
      metrics.agentConnected();
      new AgentConnection(agent.agentId, agent.hostId, socket, queue, app.store.agents, settings, {
        onHello(conn) {
          const previous = connections.get(conn.agentId);
          connections.set(conn.agentId, conn);
          if (previous && previous !== conn) {
            log.warn('a second connection with the same agent token replaced the first');
            previous.close(CLOSE_CODES.superseded, 'VIGIL_ERR_SUPERSEDED');
          }
          log.info({ agentVersion: conn.agentVersion }, 'agent connected');
        },
        idleThresholdFor: (hostId, configured) => engine.idleThresholdFor(hostId, configured),
        onClose(conn) {
          metrics.agentDisconnected();
          if (connections.get(conn.agentId) !== conn) return;
          connections.delete(conn.agentId);
          if (!closing) app.store.agents.markDisconnected(conn.hostId);
          log.info('agent disconnected');
        },
      }, log, metrics);
    });

    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
      // Commit and ack what has arrived, then let agents go; they reconnect and resend the rest.
      queue.flush();
      for (const c of connections.values()) c.close(CLOSE_CODES.goingAway, 'VIGIL_ERR_SHUTTING_DOWN');
      app.store.agents.resetConnections();
    });
  },
  { name: 'vigil-agent-gateway', dependencies: ['vigil-store', 'vigil-metrics', 'vigil-policy-engine'] },
);
