import type { FastifyInstance } from 'fastify';
import {
  CatalogueTitleBody,
  CatalogueTitleParams,
  Role,
  SoftwareHostsQuery,
  SoftwareListQuery,
  type PutPolicyResponse,
  type SoftwareHosts,
  type SoftwareList,
} from '@vigil/shared';
import { actorOf } from '../plugins/auth.js';
import { changeCatalogue, type CatalogueChange } from '../services/catalogue-edit.js';
import { SoftwareTitles } from '../services/software-titles.js';

/**
 * The Software page's API. `GET /api/v1/software` (any role): titles across the fleet with their
 * installs, status and seats, searched, filtered, sorted and paged on the server.
 * `GET /api/v1/software/hosts` (any role): the hosts that have one of them.
 * `POST /api/v1/software/catalogue`, `PUT|DELETE /api/v1/software/catalogue/:title` (admin): a
 * catalogue title added, changed or removed as a new policy version, through the same path as
 * `PUT /api/v1/policy` (validated by the policy schema: 422 `VIGIL_ERR_POLICY_INVALID` with every
 * problem; audited; every host judged again).
 */
export async function softwareRoutes(app: FastifyInstance) {
  const anyRole = app.requireRole(...Role.options);
  const admin = app.requireRole('admin');
  const titles = new SoftwareTitles(app.store.software, () => app.engine.policyInForce, () => app.engine.backlog);

  app.get<{ Querystring: SoftwareListQuery }>('/api/v1/software', { schema: { querystring: SoftwareListQuery }, preHandler: anyRole }, async (request): Promise<SoftwareList> =>
    titles.list(request.query),
  );

  app.get<{ Querystring: SoftwareHostsQuery }>('/api/v1/software/hosts', { schema: { querystring: SoftwareHostsQuery }, preHandler: anyRole }, async (request): Promise<SoftwareHosts> =>
    titles.hosts(request.query),
  );

  const change = (c: CatalogueChange, actor: string): PutPolicyResponse => {
    const current = app.store.policy.currentDocument()?.document ?? '{}\n';
    return app.engine.setPolicy(changeCatalogue(current, c), 'api', actor);
  };

  app.post<{ Body: CatalogueTitleBody }>('/api/v1/software/catalogue', { schema: { body: CatalogueTitleBody }, preHandler: admin }, async (request, reply) => {
    const r = change({ kind: 'add', title: request.body.title }, actorOf(request));
    return reply.code(r.created ? 201 : 200).send(r);
  });

  app.put<{ Params: CatalogueTitleParams; Body: CatalogueTitleBody }>(
    '/api/v1/software/catalogue/:title',
    { schema: { params: CatalogueTitleParams, body: CatalogueTitleBody }, preHandler: admin },
    async (request): Promise<PutPolicyResponse> => change({ kind: 'replace', name: request.params.title, title: request.body.title }, actorOf(request)),
  );

  app.delete<{ Params: CatalogueTitleParams }>(
    '/api/v1/software/catalogue/:title',
    { schema: { params: CatalogueTitleParams }, preHandler: admin },
    async (request): Promise<PutPolicyResponse> => change({ kind: 'remove', name: request.params.title }, actorOf(request)),
  );
}
