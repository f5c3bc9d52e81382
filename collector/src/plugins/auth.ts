import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { VigilError, type Role } from '@vigil/shared';
import { cookieValue, CSRF_HEADER, SESSION_COOKIE, SESSION_IDLE_MS, SESSION_TOUCH_MS } from '../services/user-sessions.js';

export interface Principal {
  /** A script's API token, or a person logged in to the dashboard (session cookie). */
  kind: 'api-token' | 'user';
  id: string;
  name: string;
  role: Role;
}

/** Marks a role check made by requireRole (see the onRoute hook). */
const ROLE_CHECK = Symbol('vigil.roleCheck');

/** Methods that change nothing: no CSRF token needed with a session cookie. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The session id in the request's cookie, if any. */
export function sessionIdOf(request: FastifyRequest): string | undefined {
  return cookieValue(request.headers.cookie, SESSION_COOKIE);
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
  return parseBearer(request.headers.authorization);
}

/** The token of an `Authorization: Bearer <token>` header's value; null when absent or malformed. */
export function parseBearer(h: string | undefined): string | null {
  if (typeof h !== 'string') return null;
  const m = /^Bearer[ \t]+([A-Za-z0-9._~+/=-]{1,512})[ \t]*$/i.exec(h);
  return m?.[1] ?? null;
}

/** Who did something, for history and the audit log: the principal's name (set by requireRole). */
export function actorOf(request: FastifyRequest): string {
  const p = request.principal;
  if (!p) return 'unknown';
  return p.kind === 'user' ? `user:${p.name}` : p.name;
}

/**
 * API tokens (stored as SHA-256) and dashboard sessions (cookie, SHA-256 stored) mapped to roles;
 * every route checks the role on the server. A bearer token wins over a cookie. With a cookie, a
 * state-changing request must carry the session's CSRF token in `x-vigil-csrf`, and a WebSocket
 * upgrade must come from the collector's own origin.
 */
export const authPlugin = fp(
  async function auth(app: FastifyInstance) {
    app.decorateRequest('principal', null);

    const fromSession = (request: FastifyRequest, sessionId: string): Principal => {
      const s = app.store.credentials.findSession(sessionId);
      const now = Date.now();
      if (!s || s.disabled || s.expiresAt <= now || s.lastSeenAt < now - SESSION_IDLE_MS) throw new VigilError('VIGIL_ERR_SESSION_EXPIRED');
      if (!SAFE_METHODS.has(request.method)) {
        const sent = request.headers[CSRF_HEADER];
        if (typeof sent !== 'string' || !sameSecret(sent, s.csrfToken)) throw new VigilError('VIGIL_ERR_CSRF');
      }
      if ((request as { ws?: boolean }).ws) {
        // Cross-site WebSocket hijacking: browsers send the cookie with any origin's handshake.
        const origin = request.headers.origin;
        let sameOrigin = false;
        try {
          sameOrigin = origin === undefined || new URL(origin).host === request.headers.host;
        } catch {
          sameOrigin = false;
        }
        if (!sameOrigin) throw new VigilError('VIGIL_ERR_FORBIDDEN', 'A WebSocket with a session cookie must come from this collector\'s own pages');
      }
      if (now - s.lastSeenAt > SESSION_TOUCH_MS) app.store.credentials.touchSession(sessionId, now);
      return { kind: 'user', id: s.userId, name: s.name, role: s.role };
    };

    app.decorate('requireRole', (...roles: Role[]): preHandlerAsyncHookHandler => {
      const check = async function checkRole(request: FastifyRequest) {
        const token = bearerToken(request);
        let principal: Principal;
        if (token) {
          const record = app.store.credentials.findApiToken(token);
          if (!record) throw new VigilError('VIGIL_ERR_TOKEN_INVALID');
          if (record.revoked) throw new VigilError('VIGIL_ERR_TOKEN_REVOKED');
          principal = { kind: 'api-token', id: record.id, name: record.name, role: record.role };
        } else {
          const sessionId = sessionIdOf(request);
          if (!sessionId) throw new VigilError('VIGIL_ERR_UNAUTHENTICATED', 'An API token (Authorization: Bearer …) or a login session is required');
          principal = fromSession(request, sessionId);
        }
        if (!roles.includes(principal.role)) throw new VigilError('VIGIL_ERR_FORBIDDEN', `This needs one of the roles: ${roles.join(', ')}`);
        request.principal = principal;
      };
      return Object.assign(check, { [ROLE_CHECK]: true });
    });

    // Routes name their role check as a preHandler (the usual place to read), but a caller who may
    // not use a route must learn nothing from it: not its body's schema (validation runs before
    // preHandlers), and the collector must not read and parse a stranger's body at all. So every
    // role check is moved to onRequest, before the body is read — for every route, whoever wrote it.
    app.addHook('onRoute', (route) => {
      const pre = [route.preHandler ?? []].flat();
      const checks = pre.filter((f) => (f as { [ROLE_CHECK]?: boolean })[ROLE_CHECK]);
      if (!checks.length) return;
      route.preHandler = pre.filter((f) => !checks.includes(f));
      route.onRequest = [...(checks as unknown as onRequestHookHandler[]), ...[route.onRequest ?? []].flat()];
    });
  },
  { name: 'vigil-auth', dependencies: ['vigil-store'] },
);
