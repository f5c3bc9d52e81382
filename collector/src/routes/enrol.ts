import type { FastifyInstance } from 'fastify';
import { EnrolRequest, VigilError, type EnrolResponse } from '@vigil/shared';

/**
 * `POST /api/v1/enrol`: an enrolment secret and host facts buy an agent id and token. The host's
 * groups come from the secret, never from what the endpoint says about itself.
 */
export async function enrolRoutes(app: FastifyInstance) {
  app.post<{ Body: EnrolRequest }>(
    '/api/v1/enrol',
    { schema: { body: EnrolRequest }, bodyLimit: 256 * 1024 },
    async (request, reply): Promise<EnrolResponse> => {
      const secret = app.store.credentials.findEnrolSecret(request.body.secret);
      if (!secret) {
        request.log.warn({ hostname: request.body.host.hostname.slice(0, 64), ip: request.ip }, 'enrolment refused: bad secret');
        throw new VigilError('VIGIL_ERR_ENROL_SECRET_INVALID');
      }
      const result = app.store.transaction(() => {
        const hostId = app.store.hosts.create(request.body.host, secret.groups, secret.id);
        return { hostId, ...app.store.agents.create(hostId) };
      });
      request.log.info({ hostId: result.hostId, agentId: result.agentId, secret: secret.name }, 'agent enrolled');
      reply.code(201);
      return result;
    },
  );
}
