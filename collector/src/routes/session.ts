import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LoginRequest, Role, VigilError, type SessionInfo } from '@vigil/shared';
import { sessionIdOf } from '../plugins/auth.js';
import { hashPassword, verifyPassword } from '../services/secrets.js';
import { csrfTokenFor, LoginThrottle, newSessionId, SESSION_IDLE_MS, SESSION_MAX_MS, sessionCookie } from '../services/user-sessions.js';

export interface SessionRoutesOptions {
  /** Mark the cookie Secure (the collector serves TLS, or a TLS proxy fronts it). */
  secureCookies?: boolean;
  throttle?: LoginThrottle;
}

/**
 * Dashboard login: `POST /api/v1/session` (name + password → the `vigil_session` cookie: HttpOnly,
 * SameSite=Strict, Secure behind TLS), `GET` (who am I, and the CSRF token), `DELETE` (log out).
 * A wrong name and a wrong password get the same answer in about the same time; failures are
 * throttled per name and per address and recorded in the audit log.
 */
export async function sessionRoutes(app: FastifyInstance, opts: SessionRoutesOptions) {
  const secure = opts.secureCookies ?? false;
  const throttle = opts.throttle ?? new LoginThrottle();
  // Unknown users are checked against this, so they take as long as known ones.
  let dummyHash: Promise<string> | undefined;
  const anyRole = app.requireRole(...Role.options);

  app.post<{ Body: LoginRequest }>('/api/v1/session', { schema: { body: LoginRequest } }, async (request, reply): Promise<SessionInfo> => {
    const { name, password } = request.body;
    const now = Date.now();
    const wait = throttle.blockedFor(name, request.ip, now);
    if (wait > 0) {
      request.log.warn({ user: name.slice(0, 64), ip: request.ip }, 'login throttled');
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      throw new VigilError('VIGIL_ERR_RATE_LIMITED', `Too many failed logins; retry in ${Math.ceil(wait / 1000)} s`);
    }
    const user = app.store.credentials.findUser(name);
    let ok = false;
    if (user && !user.disabled) ok = await verifyPassword(password, user.passwordHash);
    else await verifyPassword(password, await (dummyHash ??= hashPassword('not anyone’s password')));
    const subject = `user:${name.slice(0, 64)}`;
    if (!ok || !user) {
      throttle.failed(name, request.ip, now);
      app.store.audit.append({ actor: subject, action: 'login', subject, details: { ok: false, method: 'password', ip: request.ip } });
      request.log.warn({ user: name.slice(0, 64), ip: request.ip }, 'login failed');
      throw new VigilError('VIGIL_ERR_LOGIN_FAILED');
    }
    throttle.succeeded(name);
    const sessionId = newSessionId();
    const csrfToken = csrfTokenFor(sessionId);
    const expiresAt = now + SESSION_MAX_MS;
    app.store.transaction(() => {
      app.store.credentials.purgeSessions(now, now - SESSION_IDLE_MS);
      app.store.credentials.createSession(sessionId, user.id, now, expiresAt);
      app.store.audit.append({ actor: subject, action: 'login', subject, details: { ok: true, method: 'password', ip: request.ip } });
    });
    request.log.info({ user: user.name, role: user.role }, 'user logged in');
    reply.header('set-cookie', sessionCookie(sessionId, secure));
    return { user: { name: user.name, role: user.role }, csrfToken, expiresAt: new Date(expiresAt).toISOString() };
  });

  // A session, not an API token, is what these two are about.
  const sessionOnly = async (request: FastifyRequest) => {
    if (!sessionIdOf(request) || request.headers.authorization) throw new VigilError('VIGIL_ERR_UNAUTHENTICATED', 'Not logged in (this is about a dashboard session)');
  };

  app.get('/api/v1/session', { preHandler: [sessionOnly, anyRole] }, async (request): Promise<SessionInfo> => {
    const s = app.store.credentials.findSession(sessionIdOf(request)!)!;
    return { user: { name: s.name, role: s.role }, csrfToken: s.csrfToken, expiresAt: new Date(s.expiresAt).toISOString() };
  });

  // Logging out is a change: it needs the CSRF token, so another site cannot log people out.
  app.delete('/api/v1/session', { preHandler: [sessionOnly, anyRole] }, async (request, reply) => {
    app.store.credentials.deleteSession(sessionIdOf(request)!);
    reply.header('set-cookie', sessionCookie('', secure));
    return reply.code(204).send();
  });
}
