import type { FastifyInstance } from 'fastify';
import { CLOSE_CODES, HostIdParams, HostListQuery, VigilError, type Host, type HostDetail, type HostListItem, type ListEnvelope } from '@vigil/shared';
import { hostDetail } from '../alerts/host-detail.js';
import { actorOf } from '../plugins/auth.js';

export async function hostRoutes(app: FastifyInstance) {
  const anyRole = app.requireRole('admin', 'analyst', 'auditor');

  const openAlertsOf = app.store.db.prepare(
    `SELECT host_id, rule, count(*) AS n FROM alerts
     WHERE host_id IN (SELECT value FROM json_each(?)) AND status IN ('open', 'acknowledged') GROUP BY host_id, rule`,
  );
  app.get<{ Querystring: HostListQuery }>(
    '/api/v1/hosts',
    { schema: { querystring: HostListQuery }, preHandler: anyRole },
    async (request): Promise<ListEnvelope<HostListItem>> => {
      const page = app.store.hosts.list(request.query);
      // Compliance at a glance: the page's hosts' open alerts by rule, in one indexed query.
      const byHost = new Map<string, Record<string, number>>();
      const rows = openAlertsOf.all(JSON.stringify(page.items.map((h) => h.id))) as { host_id: string; rule: string; n: number }[];
      for (const r of rows) (byHost.get(r.host_id) ?? byHost.set(r.host_id, {}).get(r.host_id)!)[r.rule] = r.n;
      return {
        ...page,
        items: page.items.map((h) => {
          const byRule = byHost.get(h.id) ?? {};
          return { ...h, openAlerts: Object.values(byRule).reduce((a, b) => a + b, 0), openAlertsByRule: byRule };
        }),
      };
    },
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
