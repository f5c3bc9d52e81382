import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorResponse, Host, listEnvelope } from '@vigil/shared';
import { ADMIN_TOKEN, ENROL_SECRET, hostFacts, startHarness, type Harness } from '../test-support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h.close());

const auth = (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });

function expectError(res: { statusCode: number; json(): unknown }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  const body = ErrorResponse.parse(res.json());
  expect(body.error.code).toBe(code);
}

describe('POST /api/v1/enrol', () => {
  it('returns an agent id and token, keeps only the token hash, and takes groups from the secret', async () => {
    const { secret } = h.store.credentials.createEnrolSecret('finance', ['finance']);
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/enrol', payload: { secret, host: hostFacts() } });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.agentToken).toMatch(/^vga_[A-Za-z0-9_-]{43}$/);
    const row = h.store.db.prepare('SELECT token_hash FROM agents WHERE id = ?').get(body.agentId) as { token_hash: Buffer };
    expect(row.token_hash.length).toBe(32);
    expect(row.token_hash.toString('hex')).not.toContain(Buffer.from(body.agentToken).toString('hex'));
    expect(h.store.hosts.get(body.hostId)?.groups).toEqual(['finance']);
  });

  it('refuses a wrong enrolment secret with a coded error and stores nothing', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/enrol', payload: { secret: 'nope', host: hostFacts() } });
    expectError(res, 401, 'VIGIL_ERR_ENROL_SECRET_INVALID');
    expect(h.store.hosts.list({ limit: 10 }).items).toHaveLength(0);
  });

  it('answers invalid bodies with VIGIL_ERR_VALIDATION and the problems', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/enrol', payload: { secret: ENROL_SECRET, host: { hostname: '' } } });
    expectError(res, 400, 'VIGIL_ERR_VALIDATION');
    expect(JSON.stringify(res.json())).toContain('host.os');
  });

  it('answers a body that is not JSON with a coded error', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/enrol', headers: { 'content-type': 'application/json' }, payload: '{oops' });
    expectError(res, 400, 'VIGIL_ERR_BODY_NOT_JSON');
  });
});

describe('hosts API', () => {
  it('needs a valid API token', async () => {
    expectError(await h.app.inject({ url: '/api/v1/hosts' }), 401, 'VIGIL_ERR_UNAUTHENTICATED');
    expectError(await h.app.inject({ url: '/api/v1/hosts', headers: auth('vgt_forged') }), 401, 'VIGIL_ERR_TOKEN_INVALID');
  });

  it('lists hosts in pages with a cursor, and filters by hostname', async () => {
    for (const name of ['delta', 'alpha', 'Charlie', 'bravo', 'echo']) await h.enrol(hostFacts({ hostname: name }));
    const envelope = listEnvelope(Host);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await h.app.inject({ url: `/api/v1/hosts?limit=2${cursor ? `&cursor=${cursor}` : ''}`, headers: auth() });
      expect(res.statusCode).toBe(200);
      const page = envelope.parse(res.json());
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.hostname));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['alpha', 'bravo', 'Charlie', 'delta', 'echo']);
    const filtered = envelope.parse((await h.app.inject({ url: '/api/v1/hosts?q=CHAR', headers: auth() })).json());
    expect(filtered.items.map((i) => i.hostname)).toEqual(['Charlie']);
    const like = envelope.parse((await h.app.inject({ url: '/api/v1/hosts?q=%25', headers: auth() })).json());
    expect(like.items).toHaveLength(0);
  });

  it('sorts by last seen, open alerts and agent version both ways, paged with a cursor', async () => {
    const envelope = listEnvelope(Host);
    const names = ['delta', 'alpha', 'Charlie', 'bravo', 'echo'];
    const ids: Record<string, string> = {};
    for (const name of names) ids[name] = (await h.enrol(hostFacts({ hostname: name }))).hostId;
    const set = h.store.db.prepare('UPDATE hosts SET last_seen_at = ?, agent_version = ? WHERE id = ?');
    // Ties on purpose: alpha and echo share last seen and version; bravo was never seen.
    set.run(3000, '0.2.0', ids.alpha);
    set.run(3000, '0.2.0', ids.echo);
    set.run(1000, '0.1.0', ids.Charlie);
    set.run(2000, '0.3.0', ids.delta);
    set.run(null, null, ids.bravo);
    const alert = h.store.db.prepare(
      `INSERT INTO alerts (id, rule, host_id, subject, severity, status, first_seen_at, last_seen_at, updated_at) VALUES (?, 'agent.silent', ?, ?, 'low', ?, 1, 1, 1)`,
    );
    let n = 0;
    const give = (host: string, count: number, status = 'open') => {
      for (let i = 0; i < count; i++) alert.run(`a${++n}`, ids[host], `s${n}`, status);
    };
    give('delta', 3);
    give('bravo', 1);
    give('bravo', 1, 'acknowledged');
    give('echo', 5, 'resolved'); // closed alerts do not count
    const walk = async (query: string) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await h.app.inject({ url: `/api/v1/hosts?limit=2&${query}${cursor ? `&cursor=${cursor}` : ''}`, headers: auth() });
        expect(res.statusCode, res.body).toBe(200);
        const page = envelope.parse(res.json());
        seen.push(...page.items.map((i) => i.hostname));
        cursor = page.nextCursor;
      } while (cursor);
      return seen;
    };
    expect(await walk('sort=lastSeen')).toEqual(['bravo', 'Charlie', 'delta', 'alpha', 'echo']);
    expect(await walk('sort=lastSeen&order=desc')).toEqual(['echo', 'alpha', 'delta', 'Charlie', 'bravo']);
    expect(await walk('sort=openAlerts&order=desc')).toEqual(['delta', 'bravo', 'echo', 'Charlie', 'alpha']);
    expect(await walk('sort=openAlerts')).toEqual(['alpha', 'Charlie', 'echo', 'bravo', 'delta']);
    expect(await walk('sort=agentVersion')).toEqual(['bravo', 'Charlie', 'alpha', 'echo', 'delta']);
    expect(await walk('sort=agentVersion&order=desc')).toEqual(['delta', 'echo', 'alpha', 'Charlie', 'bravo']);
    expect(await walk('sort=hostname&order=desc')).toEqual(['echo', 'delta', 'Charlie', 'bravo', 'alpha']);
    expect(await walk('sort=openAlerts&order=desc&q=a')).toEqual(['delta', 'bravo', 'Charlie', 'alpha']);
    // A cursor belongs to its sort.
    const first = envelope.parse((await h.app.inject({ url: '/api/v1/hosts?limit=2&sort=lastSeen', headers: auth() })).json());
    expectError(await h.app.inject({ url: `/api/v1/hosts?limit=2&sort=agentVersion&cursor=${first.nextCursor}`, headers: auth() }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await h.app.inject({ url: '/api/v1/hosts?sort=os', headers: auth() }), 400, 'VIGIL_ERR_VALIDATION');
  });

  it('shows one host with its OS facts, and 404s an unknown one', async () => {
    const { hostId } = await h.enrol();
    const res = await h.app.inject({ url: `/api/v1/hosts/${hostId}`, headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(Host.parse(res.json())).toMatchObject({
      id: hostId,
      hostname: 'ws-0042',
      os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', arch: 'x64' },
      status: 'offline',
    });
    expectError(await h.app.inject({ url: '/api/v1/hosts/018f0000-0000-7000-8000-000000000000', headers: auth() }), 404, 'VIGIL_ERR_NOT_FOUND');
    expectError(await h.app.inject({ url: '/api/v1/hosts/not-a-uuid', headers: auth() }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await h.app.inject({ url: '/api/v1/hosts?limit=100000', headers: auth() }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await h.app.inject({ url: '/api/v1/hosts?cursor=garbage', headers: auth() }), 400, 'VIGIL_ERR_VALIDATION');
  });

  it('shows an agent gone quiet without a goodbye as silent, and one that said goodbye as offline', async () => {
    const quiet = await h.enrol(hostFacts({ hostname: 'quiet' }));
    const polite = await h.enrol(hostFacts({ hostname: 'polite' }));
    const longAgo = Date.now() - 10 * 60_000;
    h.store.db.prepare('UPDATE hosts SET last_seen_at = ? WHERE id IN (?, ?)').run(longAgo, quiet.hostId, polite.hostId);
    h.store.db.prepare("UPDATE hosts SET last_goodbye = 'shutdown' WHERE id = ?").run(polite.hostId);
    const silent = await h.app.inject({ url: '/api/v1/hosts?status=silent', headers: auth() });
    expect(silent.json().items.map((i: { hostname: string; status: string }) => [i.hostname, i.status])).toEqual([['quiet', 'silent']]);
    const offline = await h.app.inject({ url: '/api/v1/hosts?status=offline', headers: auth() });
    expect(offline.json().items.map((i: { hostname: string; status: string }) => [i.hostname, i.status])).toEqual([['polite', 'offline']]);
  });

  it('lets only an admin revoke', async () => {
    const { hostId } = await h.enrol();
    const { token } = h.store.credentials.createApiToken('it', 'analyst');
    expectError(await h.app.inject({ method: 'POST', url: `/api/v1/hosts/${hostId}/revoke`, headers: auth(token) }), 403, 'VIGIL_ERR_FORBIDDEN');
    const ok = await h.app.inject({ method: 'POST', url: `/api/v1/hosts/${hostId}/revoke`, headers: auth() });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ id: hostId, status: 'retired' });
    const listed = await h.app.inject({ url: '/api/v1/hosts?status=retired', headers: auth(token) });
    expect(listed.json().items.map((i: { id: string }) => i.id)).toEqual([hostId]);
  });
});

describe('errors and health', () => {
  it('answers unknown routes with a coded 404', async () => {
    expectError(await h.app.inject({ url: '/api/v1/nothing-here' }), 404, 'VIGIL_ERR_ROUTE_NOT_FOUND');
  });

  it('reports liveness and readiness', async () => {
    expect((await h.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await h.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  it('never logs a secret', async () => {
    await h.app.inject({ method: 'POST', url: '/api/v1/enrol', payload: { secret: 'wrong-secret-value', host: hostFacts() } });
    const { agentToken } = await h.enrol();
    await h.app.inject({ url: '/api/v1/hosts', headers: auth() });
    const all = h.logs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [ADMIN_TOKEN, ENROL_SECRET, agentToken, 'wrong-secret-value']) expect(all).not.toContain(secret);
  });
});
