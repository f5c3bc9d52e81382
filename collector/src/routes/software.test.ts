import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorResponse, PutPolicyResponse, SoftwareHosts, SoftwareList, type SoftwareItem, type SoftwareTitleRow } from '@vigil/shared';
import { ADMIN_TOKEN, hostFacts, startHarness, TestAgent, type Harness } from '../test-support/harness.js';

/** The Software page's API over real agents and a real SQLite file. */

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ evaluationTickMs: 3_600_000 });
});
afterEach(async () => h.close());

const auth = (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });

const bash: SoftwareItem = { name: 'bash', version: '5.2.15-2+b7', source: 'dpkg', arch: 'amd64', publisher: 'Matthias Klose <doko@debian.org>' };
const nodejs: SoftwareItem = { name: 'nodejs', version: '20.20.2-1nodesource1', source: 'dpkg', arch: 'amd64', publisher: 'NodeSource Support <support@nodesource.com>' };
const transmission: SoftwareItem = { name: 'transmission-gtk', version: '3.00-2.1', source: 'dpkg', arch: 'amd64', publisher: 'Debian Transmission Maintainers <pkg-transmission@lists.debian.org>' };
const qbittorrent: SoftwareItem = { name: 'qbittorrent', version: '4.5.2-3', source: 'dpkg', arch: 'amd64', publisher: 'Nobody <x@example.com>' };
const office = (version = '16.0.1'): SoftwareItem => ({ name: 'Microsoft Office Professional Plus 2021', version, source: 'registry', publisher: 'Microsoft Corporation' });

const POLICY = `# the catalogue
software:
  titles:
    - { title: "BitTorrent clients", match: { name: ["*torrent*", "transmission-*"] }, status: prohibited }
    - { title: "Microsoft Office", match: { name: "Microsoft Office*", source: [registry] }, status: licensed, seats: 2 }
    - { title: "Zoom", match: { name: zoom }, status: approved }
`;

async function connect(hostname: string) {
  const enrolled = await h.enrol(hostFacts({ hostname }));
  const agent = await TestAgent.connect(h.wsUrl, enrolled.agentToken, { agentId: enrolled.agentId });
  return {
    hostId: enrolled.hostId,
    async send<T extends Parameters<TestAgent['send']>[0]>(type: T, body: Parameters<TestAgent['send']>[1]) {
      const env = agent.send(type, body as never);
      await agent.waitForAck(env.seq);
    },
  };
}

async function list(query = '', token = ADMIN_TOKEN): Promise<SoftwareList> {
  const res = await h.app.inject({ url: `/api/v1/software?${query}`, headers: auth(token) });
  expect(res.statusCode, res.body).toBe(200);
  return SoftwareList.parse(res.json());
}
const row = (l: SoftwareList, name: string) => l.items.find((r) => r.name === name);
const brief = (r: SoftwareTitleRow | undefined) => r && { name: r.name, kind: r.kind, status: r.status, installs: r.installs, seats: r.seats, licensedHosts: r.licensedHosts, overBy: r.overBy };

async function fleet() {
  expect((await h.app.inject({ method: 'PUT', url: '/api/v1/policy', headers: { ...auth(), 'content-type': 'application/yaml' }, payload: POLICY })).statusCode).toBe(200);
  const hosts = await Promise.all(['pc-1', 'pc-2', 'pc-3'].map(connect));
  const [a, b, c] = hosts as [Awaited<ReturnType<typeof connect>>, Awaited<ReturnType<typeof connect>>, Awaited<ReturnType<typeof connect>>];
  await a.send('snapshot', { host: hostFacts({ hostname: 'pc-1' }), software: [bash, nodejs, transmission, office()] });
  await b.send('snapshot', { host: hostFacts({ hostname: 'pc-2' }), software: [bash, nodejs, office('16.0.2')] });
  await c.send('snapshot', { host: hostFacts({ hostname: 'pc-3' }), software: [bash, qbittorrent, office()] });
  return { a, b, c };
}

describe('GET /api/v1/software', () => {
  it('lists titles and uncatalogued packages with installs, status and seats against licensed hosts', async () => {
    await fleet();
    const all = await list('limit=200');
    expect(all.total).toBe(5);
    expect(all.items.map(brief)).toEqual([
      // Most installed first, then by name.
      { name: 'dpkg:bash', kind: 'package', status: 'os-vendor', installs: 3, seats: null, licensedHosts: null, overBy: null },
      { name: 'Microsoft Office', kind: 'title', status: 'licensed', installs: 3, seats: 2, licensedHosts: 3, overBy: 1 },
      { name: 'BitTorrent clients', kind: 'title', status: 'prohibited', installs: 2, seats: null, licensedHosts: null, overBy: null },
      { name: 'dpkg:nodejs', kind: 'package', status: 'unapproved', installs: 2, seats: null, licensedHosts: null, overBy: null },
      // A catalogue title nothing matches yet is listed too.
      { name: 'Zoom', kind: 'title', status: 'approved', installs: 0, seats: null, licensedHosts: null, overBy: null },
    ]);
    // Two versions of Office, two packages behind the title; the definition comes with it.
    expect(row(all, 'Microsoft Office')).toMatchObject({ packages: 2, definition: { title: 'Microsoft Office', status: 'licensed', seats: 2 } });
    expect(row(all, 'BitTorrent clients')?.packages).toBe(2);

    expect((await list('sort=name')).items.map((r) => r.name)).toEqual(['BitTorrent clients', 'dpkg:bash', 'dpkg:nodejs', 'Microsoft Office', 'Zoom']);
    expect((await list('q=OFFICE')).items.map((r) => r.name)).toEqual(['Microsoft Office']);
    expect((await list('status=unapproved')).items.map((r) => r.name)).toEqual(['dpkg:nodejs']);
    expect((await list('status=os-vendor')).items.map((r) => r.name)).toEqual(['dpkg:bash']);

    // Paged: every row once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: SoftwareList = await list(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((r) => r.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.items.map((r) => r.name));
    const tooMany = await h.app.inject({ url: '/api/v1/software?limit=201', headers: auth() });
    expect(ErrorResponse.parse(tooMany.json()).error.code).toBe('VIGIL_ERR_VALIDATION');
    expect((await h.app.inject({ url: '/api/v1/software?cursor=-3', headers: auth() })).statusCode).toBe(400);
  });

  it('follows software diffs and retirement, and is right at once after a policy change', async () => {
    const { a, c } = await fleet();
    await a.send('software.changed', { installed: [], removed: [nodejs], upgraded: [{ from: office(), to: office('16.0.3') }] });
    let all = await list();
    expect(brief(row(all, 'dpkg:nodejs'))).toMatchObject({ installs: 1 });
    expect(row(all, 'Microsoft Office')).toMatchObject({ installs: 3, packages: 3 });

    // Retired: its packages and its seat stop counting.
    expect((await h.app.inject({ method: 'POST', url: `/api/v1/hosts/${c.hostId}/revoke`, headers: auth() })).statusCode).toBe(200);
    all = await list();
    expect(brief(row(all, 'dpkg:bash'))).toMatchObject({ installs: 2 });
    expect(brief(row(all, 'Microsoft Office'))).toMatchObject({ installs: 2, licensedHosts: 2, overBy: 0 });
    expect(row(all, 'BitTorrent clients')?.installs).toBe(1);

    // Node approved by a new title: the list says so before the engine has judged any host again.
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/software/catalogue', headers: auth(), payload: { title: { title: 'Node.js', match: { name: 'nodejs', source: ['dpkg'] }, status: 'approved' } } });
    expect(res.statusCode, res.body).toBe(201);
    all = await list();
    expect(row(all, 'dpkg:nodejs')).toBeUndefined();
    expect(brief(row(all, 'Node.js'))).toMatchObject({ kind: 'title', status: 'approved', installs: 1 });
    h.app.engine.drainAll();
    expect(brief(row(await list(), 'Node.js'))).toMatchObject({ installs: 1 });
  });
});

describe('GET /api/v1/software/hosts', () => {
  it('names the hosts that have a title, from the seats of licensed ones and the inventories of others', async () => {
    await fleet();
    const hosts = async (q: string) => {
      const res = await h.app.inject({ url: `/api/v1/software/hosts?${q}`, headers: auth() });
      expect(res.statusCode, res.body).toBe(200);
      return SoftwareHosts.parse(res.json());
    };
    const office1 = await hosts(`name=${encodeURIComponent('Microsoft Office')}&status=licensed&limit=2`);
    expect(office1.items).toHaveLength(2);
    const office2 = await hosts(`name=${encodeURIComponent('Microsoft Office')}&status=licensed&limit=2&cursor=${office1.nextCursor}`);
    expect([...office1.items, ...office2.items].map((x) => x.hostname).sort()).toEqual(['pc-1', 'pc-2', 'pc-3']);
    expect(office2.nextCursor).toBeNull();
    expect((await hosts('name=dpkg%3Anodejs&status=unapproved')).items.map((x) => x.hostname).sort()).toEqual(['pc-1', 'pc-2']);
    expect((await hosts(`name=${encodeURIComponent('BitTorrent clients')}&status=prohibited`)).items.map((x) => x.hostname).sort()).toEqual(['pc-1', 'pc-3']);
    expect((await hosts('name=dpkg%3Abash&status=unapproved')).items).toEqual([]);
  });
});

describe('catalogue editing', () => {
  const post = (title: unknown, token = ADMIN_TOKEN) => h.app.inject({ method: 'POST', url: '/api/v1/software/catalogue', headers: auth(token), payload: { title } });

  it('adds, changes and removes titles as new policy versions, refusing a bad title with every problem', async () => {
    await fleet();
    const bad = await post({ title: 'Slack', match: { name: '   ' }, status: 'licensed' });
    expect(bad.statusCode).toBe(422);
    const body = ErrorResponse.parse(bad.json()).error as { code: string; details?: { path: string; message: string }[] };
    expect(body.code).toBe('VIGIL_ERR_POLICY_INVALID');
    expect(body.details?.map((p) => p.path).sort()).toEqual(['software.titles[3].match.name', 'software.titles[3].seats']);
    const dup = await post({ title: 'zoom', match: { name: 'zoom*' }, status: 'approved' });
    expect(dup.statusCode).toBe(422);
    expect(JSON.stringify(dup.json())).toContain('titles must be unique');

    const added = await post({ title: 'Node.js', match: { name: ['nodejs', 'node-*'], source: ['dpkg'] }, status: 'licensed', seats: 1, note: 'site licence' });
    expect(added.statusCode, added.body).toBe(201);
    expect(PutPolicyResponse.parse(added.json())).toMatchObject({ version: 2, created: true });
    const doc = (h.app.engine.policyInForce.policy.software.titles ?? []).map((t) => t.title);
    expect(doc).toEqual(['BitTorrent clients', 'Microsoft Office', 'Zoom', 'Node.js']);
    // The rest of the document stays as written.
    expect(h.store.policy.currentDocument()?.document).toMatch(/^# the catalogue\n/);
    // Seats held follow as the engine judges each host again.
    h.app.engine.drainAll();
    expect(brief(row(await list(), 'Node.js'))).toMatchObject({ status: 'licensed', installs: 2, seats: 1, licensedHosts: 2, overBy: 1 });

    const changed = await h.app.inject({ method: 'PUT', url: '/api/v1/software/catalogue/node.js', headers: auth(), payload: { title: { title: 'Node.js', match: { name: 'nodejs' }, status: 'licensed', seats: 5 } } });
    expect(changed.statusCode, changed.body).toBe(200);
    h.app.engine.drainAll();
    expect(brief(row(await list(), 'Node.js'))).toMatchObject({ seats: 5, overBy: 0 });

    expect((await h.app.inject({ method: 'DELETE', url: '/api/v1/software/catalogue/Node.js', headers: auth() })).statusCode).toBe(200);
    expect(row(await list(), 'Node.js')).toBeUndefined();
    expect(brief(row(await list(), 'dpkg:nodejs'))).toMatchObject({ status: 'unapproved', installs: 2 });
    const missing = await h.app.inject({ method: 'DELETE', url: '/api/v1/software/catalogue/Nothing', headers: auth() });
    expect(ErrorResponse.parse(missing.json()).error.code).toBe('VIGIL_ERR_NOT_FOUND');

    // Each change is a policy version, audited with who made it.
    const audit = h.store.db.prepare("SELECT actor, subject FROM audit_log WHERE action = 'policy.changed' ORDER BY seq").all();
    expect(audit).toEqual([
      { actor: 'first-run admin', subject: 'policy:1' },
      { actor: 'first-run admin', subject: 'policy:2' },
      { actor: 'first-run admin', subject: 'policy:3' },
      { actor: 'first-run admin', subject: 'policy:4' },
    ]);
  });

  it('lets every role read the list, and only admins change the catalogue', async () => {
    for (const role of ['analyst', 'auditor'] as const) {
      const { token } = h.store.credentials.createApiToken(role, role);
      expect((await list('', token)).items).toEqual([]);
      const res = await post({ title: 'Zoom', match: { name: 'zoom' }, status: 'approved' }, token);
      expect(ErrorResponse.parse(res.json()).error.code).toBe('VIGIL_ERR_FORBIDDEN');
      expect(res.statusCode).toBe(403);
      const del = await h.app.inject({ method: 'DELETE', url: '/api/v1/software/catalogue/Zoom', headers: auth(token) });
      expect(del.statusCode).toBe(403);
    }
    expect((await h.app.inject({ url: '/api/v1/software' })).statusCode).toBe(401);
    // The body's shape is checked at the boundary.
    expect((await post({ title: 'X', match: { name: 'x' }, status: 'approved', colour: 'red' })).statusCode).toBe(400);
  });
});
