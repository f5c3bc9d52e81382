import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ErrorResponse, SessionInfo } from '@vigil/shared';
import { userAdd } from '../cli/user-add.js';
import { startHarness, type Harness } from '../test-support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h.close());

const ADMIN_PASSWORD = 'correct horse battery'; // the harness's first-run admin

async function login(name: string, password: string, ip = '192.0.2.1') {
  return h.app.inject({ method: 'POST', url: '/api/v1/session', payload: { name, password }, remoteAddress: ip });
}
function cookieOf(res: { headers: Record<string, unknown> }): string {
  const set = String(res.headers['set-cookie']);
  return set.split(';')[0]!;
}
const codeOf = (res: { json(): unknown }) => ErrorResponse.parse(res.json()).error.code;

async function addUser(name: string, role: 'admin' | 'analyst' | 'auditor', password = 'a long enough password') {
  // The same data directory, as `vigil-collector user add` would write it.
  expect(await userAdd({ dataDir: h.dir, name, role, password })).toMatchObject({ ok: true });
}

describe('dashboard sessions', () => {
  it('logs in with a password: an HttpOnly, SameSite=Strict cookie that authenticates API reads; the database keeps only its hash', async () => {
    const res = await login('admin', ADMIN_PASSWORD);
    expect(res.statusCode).toBe(200);
    const info = SessionInfo.parse(res.json());
    expect(info.user).toEqual({ name: 'admin', role: 'admin' });
    const set = String(res.headers['set-cookie']);
    expect(set).toMatch(/^vigil_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=604800$/);
    const cookie = cookieOf(res);
    expect((await h.app.inject({ url: '/api/v1/hosts', headers: { cookie } })).statusCode).toBe(200);
    const me = await h.app.inject({ url: '/api/v1/session', headers: { cookie } });
    expect(SessionInfo.parse(me.json())).toEqual(info);
    const raw = cookie.split('=')[1]!;
    const rows = h.store.db.prepare('SELECT * FROM user_sessions').all();
    expect(JSON.stringify(rows)).not.toContain(raw);
    const audited = h.store.db.prepare("SELECT actor, details FROM audit_log WHERE action = 'login'").all() as { actor: string; details: string }[];
    expect(audited.map((a) => ({ ...a, details: JSON.parse(a.details) as unknown }))).toEqual([{ actor: 'user:admin', details: { ok: true, method: 'password', ip: '192.0.2.1' } }]);
  });

  it('answers a wrong password and an unknown user alike, and records the failures', async () => {
    const wrong = await login('admin', 'not the password');
    const unknown = await login('mallory', 'not the password');
    for (const r of [wrong, unknown]) {
      expect(r.statusCode).toBe(401);
      expect(codeOf(r)).toBe('VIGIL_ERR_LOGIN_FAILED');
      expect(r.headers['set-cookie']).toBeUndefined();
    }
    expect(wrong.json()).toEqual(unknown.json());
    expect(h.store.db.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'login' AND details LIKE '%\"ok\":false%'").get()).toEqual({ n: 2 });
  });

  it('throttles failed logins per name, even for the right password, while another address and name still get in', async () => {
    await addUser('alice', 'analyst');
    for (let i = 0; i < 5; i++) expect((await login('alice', `wrong ${i}`, '198.51.100.7')).statusCode).toBe(401);
    const throttled = await login('alice', 'a long enough password', '198.51.100.8');
    expect(throttled.statusCode).toBe(429);
    expect(codeOf(throttled)).toBe('VIGIL_ERR_RATE_LIMITED');
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(800);
    expect((await login('admin', ADMIN_PASSWORD, '198.51.100.7')).statusCode).toBe(200);
  });

  it('needs the CSRF token for changes with a cookie (not with an API token), and checks the role on the server', async () => {
    await addUser('audrey', 'auditor');
    const res = await login('audrey', 'a long enough password');
    const { csrfToken } = SessionInfo.parse(res.json());
    const cookie = cookieOf(res);
    const put = (headers: Record<string, string>) =>
      h.app.inject({ method: 'PUT', url: '/api/v1/policy', headers: { cookie, 'content-type': 'application/json', ...headers }, payload: { document: 'version: 1\n' } });
    const noCsrf = await put({});
    expect(noCsrf.statusCode).toBe(403);
    expect(codeOf(noCsrf)).toBe('VIGIL_ERR_CSRF');
    expect(codeOf(await put({ 'x-vigil-csrf': 'forged' }))).toBe('VIGIL_ERR_CSRF');
    // With the token, the auditor is still only an auditor.
    const withCsrf = await put({ 'x-vigil-csrf': csrfToken });
    expect(withCsrf.statusCode).toBe(403);
    expect(codeOf(withCsrf)).toBe('VIGIL_ERR_FORBIDDEN');
    expect((await h.app.inject({ url: '/api/v1/policy', headers: { cookie } })).statusCode).toBe(403);
    expect((await h.app.inject({ url: '/api/v1/audit-log', headers: { cookie } })).statusCode).toBe(200);
  });

  it('logs out (with the CSRF token): the cookie is cleared and the session gone', async () => {
    const res = await login('admin', ADMIN_PASSWORD);
    const { csrfToken } = SessionInfo.parse(res.json());
    const cookie = cookieOf(res);
    expect((await h.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie } })).statusCode).toBe(403);
    const out = await h.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, 'x-vigil-csrf': csrfToken } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^vigil_session=; .*Max-Age=0/);
    const after = await h.app.inject({ url: '/api/v1/hosts', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(codeOf(after)).toBe('VIGIL_ERR_SESSION_EXPIRED');
  });

  it('ends a session idle for 12 hours, and sessions of a disabled user', async () => {
    const a = cookieOf(await login('admin', ADMIN_PASSWORD));
    h.store.db.prepare('UPDATE user_sessions SET last_seen_at = last_seen_at - 12 * 3600000 - 1').run();
    expect(codeOf(await h.app.inject({ url: '/api/v1/hosts', headers: { cookie: a } }))).toBe('VIGIL_ERR_SESSION_EXPIRED');
    const b = cookieOf(await login('admin', ADMIN_PASSWORD));
    expect((await h.app.inject({ url: '/api/v1/hosts', headers: { cookie: b } })).statusCode).toBe(200);
    h.store.db.prepare("UPDATE users SET disabled_at = 1 WHERE name = 'admin'").run();
    expect(codeOf(await h.app.inject({ url: '/api/v1/hosts', headers: { cookie: b } }))).toBe('VIGIL_ERR_SESSION_EXPIRED');
    expect(codeOf(await login('admin', ADMIN_PASSWORD))).toBe('VIGIL_ERR_LOGIN_FAILED');
  });

  it('opens the live alert feed with the cookie from its own origin only', async () => {
    const cookie = cookieOf(await login('admin', ADMIN_PASSWORD));
    const url = `${h.url.replace('http', 'ws')}/api/v1/alerts/stream`;
    const open = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers: { cookie, origin } });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => undefined);
      });
    expect(await open(h.url)).toBe(101);
    expect(await open('https://evil.example')).toBe(403);
  });
});
