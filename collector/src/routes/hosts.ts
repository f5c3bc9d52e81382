import type { FastifyInstance } from 'fastify';
import { CLOSE_CODES, HostIdParams, HostListQuery, VigilError, type Host, type HostDetail, type ListEnvelope } from '@vigil/shared';
import { hostDetail } from '../alerts/host-detail.js';
import { actorOf } from '../plugins/auth.js';

export async function hostRoutes(app: FastifyInstance) {
  const anyRole = app.requireRole('admin', 'analyst', 'auditor');

  app.get<{ Querystring: HostListQuery }>(
    '/api/v1/hosts',
    { schema: { querystring: HostListQuery }, preHandler: anyRole },
    async (request): Promise<ListEnvelope<Host>> => app.store.hosts.list(request.query),
  );

  app.get<{ Params: HostIdParams }>(
    '/api/v1/hosts/:id',
    { schema: { params: HostIdParams }, preHandler: anyRole },
    async (request): Promise<HostDetail> => {
      const host = app.store.hosts.get(request.params.id);
      if (!host) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such host');
      return hostDetail(app.store, app.engine, host);
    },
  );

  /** Revoke every agent token of a host and retire it; a connected agent is cut off at once. */
  app.post<{ Params: HostIdParams }>(
    '/api/v1/hosts/:id/revoke',
    { schema: { params: HostIdParams }, preHandler: app.requireRole('admin') },
    async (request): Promise<Host> => {
      if (!app.store.agents.revokeHost(request.params.id)) throw new VigilError('VIGIL_ERR_NOT_FOUND', 'No such host');
      const closed = app.gateway.disconnectHost(request.params.id, CLOSE_CODES.revoked, 'token revoked');
      app.store.audit.append({ actor: actorOf(request), action: 'host.revoked', subject: request.params.id, details: { disconnected: closed } });
      app.engine.retireHost(request.params.id, actorOf(request));
      request.log.info({ hostId: request.params.id, by: request.principal?.name, closed }, 'host revoked');
      return app.store.hosts.get(request.params.id) as Host;
    },
  );
}
