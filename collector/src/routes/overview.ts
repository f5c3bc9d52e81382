import type { FastifyInstance } from 'fastify';
import { OverviewQuery, Role, type Overview } from '@vigil/shared';
import type { z } from 'zod';
import { OverviewRepository } from '../db/overview-repository.js';

/** `GET /api/v1/overview?days=14` (any role): hosts online and in breach, compliance per rule, open alerts per day. */
export async function overviewRoutes(app: FastifyInstance) {
  const repo = new OverviewRepository(app.store.db);
  app.get<{ Querystring: z.infer<typeof OverviewQuery> }>(
    '/api/v1/overview',
    { schema: { querystring: OverviewQuery }, preHandler: app.requireRole(...Role.options) },
    async (request): Promise<Overview> => repo.overview(request.query.days),
  );
}
