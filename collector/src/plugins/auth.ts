import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { VigilError, type Role } from '@vigil/shared';

export interface Principal {
  kind: 'api-token';
  id: string;
  name: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler that requires a valid API token whose role is one of `roles`. */
    requireRole(...roles: Role[]): preHandlerAsyncHookHandler;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** `Authorization: Bearer <token>`; null when absent or malformed. */
export function bearerToken(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]{1,512})[ \t]*$/i.exec(h);
  return m?.[1] ?? null;
}

/** Who did something, for history and the audit log: the principal's name (set by requireRole). */
export function actorOf(request: FastifyRequest): string {
  const p = request.principal;
  return p ? p.name : 'unknown';
}

/** API tokens (stored as SHA-256) mapped to roles; every route checks the role on the server. */
export const authPlugin = fp(
  async function auth(app: FastifyInstance) {
    app.decorateRequest('principal', null);
    app.decorate('requireRole', (...roles: Role[]): preHandlerAsyncHookHandler => {
      return async function checkRole(request: FastifyRequest) {
        const token = bearerToken(request);
        if (!token) throw new VigilError('VIGIL_ERR_UNAUTHENTICATED', 'An API token is required (Authorization: Bearer …)');
        const record = app.store.credentials.findApiToken(token);
        if (!record) throw new VigilError('VIGIL_ERR_TOKEN_INVALID');
        if (record.revoked) throw new VigilError('VIGIL_ERR_TOKEN_REVOKED');
        if (!roles.includes(record.role)) throw new VigilError('VIGIL_ERR_FORBIDDEN', `This needs one of the roles: ${roles.join(', ')}`);
        request.principal = { kind: 'api-token', id: record.id, name: record.name, role: record.role };
      };
    });
  },
  { name: 'vigil-auth', dependencies: ['vigil-store'] },
);
