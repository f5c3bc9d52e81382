import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import path from 'node:path';
import zlib from 'node:zlib';
import { PDFDocument } from 'pdf-lib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Audit, AuditReport, AuditVerifyResult, ErrorResponse, type ScreenlockSetting, type SoftwareItem } from '@vigil/shared';
import { sandiskStick } from '../policy/test-support/usb-devices.js';
import { ADMIN_TOKEN, hostFacts, startHarness, TestAgent, type Harness } from '../test-support/harness.js';

/**
 * Audits over real HTTP, a real SQLite file and real WebSocket agents: draw, fresh evidence,
 * evidence packs, decisions, close, exports, verification and tamper detection.
 */

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ evaluationTickMs: 3_600_000 });
});
afterEach(async () => h.close());

const bearer = (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });

function expectError(res: { statusCode: number; json(): unknown }, status: number, code: string) {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
  expect(ErrorResponse.parse(res.json()).error.code).toBe(code);
}

/** Independent of sampling.ts: rank by HMAC-SHA256(seed, host id), lowest hex first. */
function expectedOrder(seed: string, hostIds: string[]): string[] {
  const mac = (id: string) => crypto.createHmac('sha256', seed).update(id).digest('hex');
  return [...hostIds].sort((a, b) => (mac(a) < mac(b) ? -1 : 1));
}

async function enrolMany(n: number, platform: 'linux' | 'win32' | 'darwin' = 'linux', groups: string[] = []): Promise<string[]> {
  const secret = groups.length ? h.store.credentials.createEnrolSecret(`g-${groups.join('-')}-${platform}`, groups).secret : undefined;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const facts = hostFacts({ hostname: `${platform}-${groups[0] ?? 'none'}-${i}`, os: { platform, distro: platform, release: '1', arch: 'x64' } });
    const res = secret
      ? (await h.app.inject({ method: 'POST', url: '/api/v1/enrol', payload: { secret, host: facts } })).json()
      : await h.enrol(facts);
    out.push((res as { hostId: string }).hostId);
  }
  return out;
}

async function draw(body: Record<string, unknown>, token = ADMIN_TOKEN) {
  return h.app.inject({ method: 'POST', url: '/api/v1/audits', headers: bearer(token), payload: body });
}

async function drawOk(body: Record<string, unknown>, token = ADMIN_TOKEN): Promise<Audit> {
  const res = await draw(body, token);
  expect(res.statusCode, res.body).toBe(201);
  return Audit.parse(res.json());
}

async function verify(id: string, token = ADMIN_TOKEN): Promise<AuditVerifyResult> {
  const res = await h.app.inject({ url: `/api/v1/audits/${id}/verify`, headers: bearer(token) });
  expect(res.statusCode, res.body).toBe(200);
  return AuditVerifyResult.parse(res.json());
}

/** Someone with write access to the SQLite file, on a second connection. */
function tamper(sql: string, ...params: unknown[]) {
  const db = new Database(path.join(h.dir, 'vigil.db'));
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

describe('drawing a sample', () => {
  it('records seed, exact population and algorithm; the same seed and population give the same sample, another seed another', async () => {
    const hostIds = await enrolMany(12);
    const a = await drawOk({ size: 12, seed: 'q4-licence-review' });
    expect(a).toMatchObject({ algorithm: 'vigil-hmac-sha256-v1', seed: 'q4-licence-review', seedGenerated: false, populationSize: 12, sampleSize: 12, status: 'open' });
    expect(a.population.map((m) => m.hostId)).toEqual([...hostIds].sort());
    expect(a.sample.map((m) => m.hostId)).toEqual(expectedOrder('q4-licence-review', hostIds));
    expect(a.sample.map((m) => m.rank)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));

    const again = await drawOk({ size: 5, seed: 'q4-licence-review' });
    expect(again.id).not.toBe(a.id);
    expect(again.sample.map((m) => m.hostId)).toEqual(a.sample.slice(0, 5).map((m) => m.hostId));
    expect(again.populationSha256).toBe(a.populationSha256);

    const other = await drawOk({ size: 12, seed: 'another seed' });
    expect(other.sample.map((m) => m.hostId)).not.toEqual(a.sample.map((m) => m.hostId));
    expect(other.sample.map((m) => m.hostId)).toEqual(expectedOrder('another seed', hostIds));

    // The draw is in the hash chain with the seed and hashes.
    const entry = h.store.audit.list({ limit: 10, action: 'audit.sampled' }).items.find((e) => e.subject === `audit:${a.id}`);
    expect(entry?.details).toMatchObject({ seed: 'q4-licence-review', populationSha256: a.populationSha256, sampleSha256: a.sampleSha256, algorithm: 'vigil-hmac-sha256-v1' });
    expect(entry?.seq).toBe(a.auditLogSeq);
  });

  it('draws a 256-bit random seed when none is given, and sizes by percentage (rounded up)', async () => {
    await enrolMany(7);
    const a = await drawOk({ percent: 30 });
    expect(a.seedGenerated).toBe(true);
    expect(a.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(a.sampleSize).toBe(3); // 30 % of 7 = 2.1 → 3
    expect((await verify(a.id)).ok).toBe(true);
    // Default period: the last 90 days up to the draw.
    expect(Date.parse(a.period.to) - Date.parse(a.period.from)).toBe(90 * 86_400_000);
  });

  it('refuses bad sizes and periods with coded errors, and filters the population', async () => {
    const linux = await enrolMany(3, 'linux');
    await enrolMany(2, 'win32');
    expectError(await draw({ size: 6 }), 422, 'VIGIL_ERR_SAMPLE_SIZE');
    expectError(await draw({ size: 0 }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await draw({}), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await draw({ size: 1, percent: 10 }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await draw({ size: 1, seed: 'tab\there' }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await draw({ size: 1, seed: 'lone \ud800 surrogate' }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await draw({ size: 1, period: { from: '2026-10-01T00:00:00Z', to: '2026-09-01T00:00:00Z' } }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await draw({ size: 1, period: { from: 'last week', to: '2026-09-01T00:00:00Z' } }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await draw({ size: 1, period: { from: '2999-01-01T00:00:00Z', to: '2999-02-01T00:00:00Z' } }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await draw({ size: 4, platforms: ['linux'] }), 422, 'VIGIL_ERR_SAMPLE_SIZE');
    expectError(await draw({ size: 1, platforms: ['darwin'] }), 422, 'VIGIL_ERR_SAMPLE_SIZE');
    const a = await drawOk({ size: 3, platforms: ['linux'], period: { from: '2026-09-01T00:00:00Z', to: '2026-12-01T00:00:00Z' } });
    expect(a.population.map((m) => m.hostId)).toEqual([...linux].sort());
    expect(a.period).toEqual({ from: '2026-09-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z' });

    // A retired host is not in the population.
    expect((await h.app.inject({ method: 'POST', url: `/api/v1/hosts/${linux[0]}/revoke`, headers: bearer() })).statusCode).toBe(200);
    const b = await drawOk({ size: 2, platforms: ['linux'] });
    expect(b.population.map((m) => m.hostId)).toEqual([...linux.slice(1)].sort());
  });

  it('stratifies by platform (largest remainder) or group (fixed per stratum), and each stratum is ranked on its own', async () => {
    const linux = await enrolMany(8, 'linux', ['finance']);
    const win = await enrolMany(3, 'win32', ['finance']);
    const kiosk = await enrolMany(1, 'win32', ['kiosk']);
    // 5 of 12: linux 5·8/12 = 3.33, win32 5·4/12 = 1.67 → 3 + 1, the seat left goes to win32 (.67).
    const a = await drawOk({ size: 5, seed: 's', strata: { by: ['platform'] } });
    expect(a.sample.filter((m) => m.stratum === 'linux').map((m) => m.hostId)).toEqual(expectedOrder('s', linux).slice(0, 3));
    expect(a.sample.filter((m) => m.stratum === 'win32').map((m) => m.hostId)).toEqual(expectedOrder('s', [...win, ...kiosk]).slice(0, 2));

    const b = await drawOk({ seed: 's', strata: { by: ['group'], groups: ['kiosk', 'finance'], allocation: 'fixed', perStratum: 2 } });
    expect(b.sample.map((m) => [m.stratum, m.hostId])).toEqual([
      ...expectedOrder('s', [...linux, ...win]).slice(0, 2).map((id) => ['finance', id]),
      ['kiosk', kiosk[0]],
    ]);
    const c = await drawOk({ size: 3, seed: 's', strata: { by: ['platform', 'group'] } });
    expect(new Set(c.population.map((m) => m.stratum))).toEqual(new Set(['linux/finance', 'win32/finance', 'win32/kiosk']));
    expect((await verify(b.id)).ok).toBe(true);
    expect((await verify(c.id)).ok).toBe(true);
    expectError(await draw({ size: 2, strata: { by: ['group'], allocation: 'fixed', perStratum: 1 } }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await draw({ size: 2, strata: { by: ['platform'], groups: ['finance'] } }), 400, 'VIGIL_ERR_VALIDATION');
  });
});

describe('verify', () => {
  it('matches an untouched audit and detects edits to the stored sample, the population, or both with their hash', async () => {
    const hostIds = await enrolMany(10);
    const a = await drawOk({ size: 3, seed: 'tamper-test' });
    expect(await verify(a.id)).toMatchObject({ ok: true, sampleMatches: true, populationMatchesStored: true, matchesAuditLog: true, auditLogIntact: true, problems: [] });

    // 1. Swap a sampled host for one that was not drawn.
    const notDrawn = hostIds.find((id) => !a.sample.some((m) => m.hostId === id))!;
    tamper('UPDATE audit_hosts SET host_id = ? WHERE audit_id = ? AND position = 0', notDrawn, a.id);
    let r = await verify(a.id);
    expect(r).toMatchObject({ ok: false, sampleMatches: false, matchesAuditLog: false });
    expect(r.problems.join('\n')).toContain(a.sample[0]!.hostId);
    tamper('UPDATE audit_hosts SET host_id = ? WHERE audit_id = ? AND position = 0', a.sample[0]!.hostId, a.id);
    expect((await verify(a.id)).ok).toBe(true);

    // 2. Rewrite the population so that it yields a different sample, sample rows to match, and the stored hash too.
    const kept = a.population.filter((m) => m.hostId !== a.sample[0]!.hostId);
    const order = expectedOrder('tamper-test', kept.map((m) => m.hostId)).slice(0, 3);
    const canonical = kept.map((m) => `${m.hostId}\tall\n`).join('');
    tamper('UPDATE audits SET population = ?, population_size = ?, population_sha256 = ? WHERE id = ?', JSON.stringify(kept), kept.length, crypto.createHash('sha256').update(canonical).digest('hex'), a.id);
    tamper('DELETE FROM audit_hosts WHERE audit_id = ?', a.id);
    order.forEach((hostId, i) =>
      tamper('INSERT INTO audit_hosts (audit_id, position, host_id, stratum, rank, hmac) VALUES (?, ?, ?, ?, ?, ?)', a.id, i, hostId, 'all', i + 1, crypto.createHmac('sha256', 'tamper-test').update(hostId).digest('hex')),
    );
    r = await verify(a.id);
    // Self-consistent now, but not what the audit log recorded at draw time.
    expect(r).toMatchObject({ ok: false, sampleMatches: true, populationMatchesStored: true, matchesAuditLog: false, auditLogIntact: true });
    expect(r.problems.join('\n')).toContain(`audit-log entry ${a.auditLogSeq}`);
  });
});

const zoom: SoftwareItem = { name: 'zoom', version: '6.2.5.2497', source: 'dpkg', arch: 'amd64', publisher: 'Zoom Video Communications, Inc.' };
const office: SoftwareItem = { name: 'Microsoft Office Professional Plus 2021', version: '16.0.1', source: 'registry', publisher: 'Microsoft Corporation' };
const lockDisabled: ScreenlockSetting = {
  user: 'alice',
  desktop: 'gnome',
  enabled: { status: 'known', value: false, source: 'gsettings org.gnome.desktop.screensaver lock-enabled' },
  idleTimeoutSeconds: { status: 'known', value: 300, source: 'gsettings org.gnome.desktop.session idle-delay' },
  graceSeconds: { status: 'known', value: 0, source: 'gsettings org.gnome.desktop.screensaver lock-delay' },
  passwordRequired: { status: 'known', value: true, source: 'default' },
};
const POLICY = `
software:
  titles:
    - { title: "Microsoft Office", match: { name: "Microsoft Office*", source: [registry] }, status: licensed, seats: 1 }
`;

async function connectAgent(hostname: string) {
  const enrolled = await h.enrol(hostFacts({ hostname }));
  const agent = await TestAgent.connect(h.wsUrl, enrolled.agentToken, { agentId: enrolled.agentId });
  const send = async (type: Parameters<TestAgent['send']>[0], body: unknown) => {
    const env = agent.send(type, body as never);
    await agent.waitForAck(env.seq);
  };
  return { ...enrolled, agent, send };
}

async function report(id: string, token = ADMIN_TOKEN): Promise<AuditReport> {
  const res = await h.app.inject({ url: `/api/v1/audits/${id}/report`, headers: bearer(token) });
  expect(res.statusCode, res.body).toBe(200);
  return AuditReport.parse(res.json());
}

describe('evidence', () => {
  it('shows an unapproved title, an unapproved USB stick and a disabled screen lock, with fresh evidence from collect-now', async () => {
    expect((await h.app.inject({ method: 'PUT', url: '/api/v1/policy', headers: { ...bearer(), 'content-type': 'application/yaml' }, payload: POLICY })).statusCode).toBe(200);
    const a = await connectAgent('ws-audit-1');
    const b = await connectAgent('ws-audit-2');
    await a.send('snapshot', { host: hostFacts({ hostname: 'ws-audit-1' }), software: [zoom, office], usb: [] });
    await a.send('usb.attached', { device: sandiskStick, present: false });
    await a.send('screenlock.state', { settings: [lockDisabled] });
    await b.send('snapshot', { host: hostFacts({ hostname: 'ws-audit-2' }), software: [office] });

    const audit = await drawOk({ size: 2, seed: 'evidence' });
    // Both agents are asked for fresh evidence; the command id is recorded.
    const cmd = await a.agent.waitFor((f) => f.type === 'command');
    expect(cmd.body).toMatchObject({ kind: 'collect-now' });
    const sampledA = audit.sample.find((m) => m.hostId === a.hostId)!;
    expect(sampledA.commandId).toBe(cmd.body.id);
    expect(sampledA.freshEvidenceAt).toBeNull();
    // Host a answers with a full snapshot (as the real agent does), b does not.
    await a.send('snapshot', { host: hostFacts({ hostname: 'ws-audit-1' }), software: [zoom, office], usb: [sandiskStick], screenlock: [lockDisabled] });
    await a.send('command.result', { commandId: cmd.body.id, kind: 'collect-now', status: 'ok' });

    const r = await report(audit.id);
    const ea = r.hosts.find((x) => x.host.id === a.hostId)!;
    const eb = r.hosts.find((x) => x.host.id === b.hostId)!;
    expect(ea.freshness.freshEvidenceAt).not.toBeNull();
    expect(eb.freshness.freshEvidenceAt).toBeNull();
    expect(eb.freshness.facts.software.status).toBe('known');
    expect(eb.freshness.facts.software.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(eb.findings.find((f) => f.kind === 'freshness')?.status).toBe('requested, not yet received');

    // 1. the title nobody approved or licensed
    expect(ea.software.items.find((s) => s.name === 'zoom')).toMatchObject({ status: 'unapproved', title: null });
    expect(ea.findings).toContainEqual(expect.objectContaining({ kind: 'software', subject: 'zoom', status: 'unapproved' }));
    // licensed title with its seat use: 2 installs of 1 seat
    expect(ea.software.licences).toEqual([{ title: 'Microsoft Office', seats: 1, installsFleetWide: 2, overBy: 1 }]);
    // 2. the stick, not approved
    expect(ea.usb.devices).toEqual([expect.objectContaining({ key: sandiskStick.key, approved: false, presentNow: true })]);
    expect(ea.findings).toContainEqual(expect.objectContaining({ kind: 'usb', subject: sandiskStick.key, status: 'unapproved' }));
    // 3. the disabled screen lock, and its alert in the period
    expect(ea.screenlock.compliant).toBe(false);
    expect(ea.screenlock.settings[0]?.breaches).toContain('the screen lock is disabled');
    expect(ea.screenlock.noncompliantAlerts).toEqual([expect.objectContaining({ rule: 'screenlock.noncompliant', status: 'open' })]);
    expect(ea.alerts.map((x) => x.rule).sort()).toEqual(['screenlock.noncompliant', 'software.unapproved', 'usb.unauthorised']);
    // No logged-in users list or sessions in the pack.
    expect(JSON.stringify(ea)).not.toContain('tty2');

    // The audit view shows the fresh evidence too.
    const view = Audit.parse((await h.app.inject({ url: `/api/v1/audits/${audit.id}`, headers: bearer() })).json());
    expect(view.sample.find((m) => m.hostId === a.hostId)?.freshEvidenceAt).toBe(ea.freshness.freshEvidenceAt);
  });

  it('pseudonymises usernames when the audit asks, stable within the audit and different across audits', async () => {
    const a = await connectAgent('ws-pseudo');
    await a.send('snapshot', { host: hostFacts({ hostname: 'ws-pseudo' }), screenlock: [lockDisabled] });
    const one = await drawOk({ size: 1, pseudonymiseUsers: true });
    const two = await drawOk({ size: 1, pseudonymiseUsers: true });
    const plain = await drawOk({ size: 1 });
    const p1 = (await report(one.id)).hosts[0]!;
    const p1again = (await report(one.id)).hosts[0]!;
    const p2 = (await report(two.id)).hosts[0]!;
    const clear = (await report(plain.id)).hosts[0]!;
    expect(clear.screenlock.settings[0]?.user).toBe('alice');
    expect(p1.screenlock.settings[0]?.user).toMatch(/^user-[0-9a-f]{16}$/);
    expect(p1again.screenlock.settings[0]?.user).toBe(p1.screenlock.settings[0]?.user);
    expect(p2.screenlock.settings[0]?.user).not.toBe(p1.screenlock.settings[0]?.user);
    const text = JSON.stringify(p1);
    expect(text).not.toContain('alice');
  });
});

/** A minimal RFC 4180 reader, independent of the exporter. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell || row.length) throw new Error('CSV does not end with CRLF');
  return rows;
}

/** The text a PDF shows: inflate each content stream, decode its `<hex> Tj` strings (a reader independent of the exporter). */
function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  const out: string[] = [];
  for (const m of raw.matchAll(/stream\r?\n/g)) {
    const start = (m.index ?? 0) + m[0].length;
    const end = raw.indexOf('endstream', start);
    let content: string;
    try {
      content = zlib.inflateSync(pdf.subarray(start, end)).toString('latin1');
    } catch {
      continue;
    }
    for (const t of content.matchAll(/<([0-9A-Fa-f]*)> Tj/g)) out.push(Buffer.from(t[1] ?? '', 'hex').toString('latin1'));
  }
  return out.join('\n');
}

describe('exports, decisions and roles', () => {
  const hostile: SoftwareItem[] = [
    { name: '=HYPERLINK("http://x")', version: '1', source: 'dpkg' },
    { name: '@SUM(A1)', version: '1', source: 'dpkg' },
    { name: '+cmd|" /C calc"!A0', version: '1', source: 'dpkg' },
    { name: '-2+3', version: '1', source: 'dpkg' },
    { name: '\tTAB', version: '1', source: 'dpkg' },
    { name: '<script>alert(1)</script>', version: '1', source: 'dpkg' },
  ];

  it('exports CSV neutral to formula injection, escaped HTML, complete JSON and a PDF, each with its SHA-256 in a header, the audit and the audit log', async () => {
    const a = await connectAgent('<script>alert("host")</script>');
    await a.send('snapshot', { host: hostFacts({ hostname: '<script>alert("host")</script>' }), software: hostile });
    const audit = await drawOk({ size: 1, seed: '=cmd seed' });

    const csv = await h.app.inject({ url: `/api/v1/audits/${audit.id}/export?format=csv`, headers: bearer() });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const sha = csv.headers['x-vigil-export-sha256'];
    expect(sha).toBe(crypto.createHash('sha256').update(csv.rawPayload).digest('hex'));
    expect(csv.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const rows = parseCsv(csv.rawPayload.toString('utf8').slice(1));
    const [header, ...body] = rows;
    expect(header?.slice(0, 4)).toEqual(['audit_id', 'seed', 'generated_at', 'audit_log_head']);
    expect(body.every((r) => r.length === header!.length)).toBe(true);
    // No cell a spreadsheet would run as a formula.
    for (const cell of body.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    // The hostile names, each in one cell, neutralised by a leading apostrophe and otherwise intact.
    const subjects = body.filter((r) => r[10] === 'software').map((r) => r[11]);
    expect(subjects).toEqual(expect.arrayContaining([`'=HYPERLINK("http://x")`, `'@SUM(A1)`, `'+cmd|" /C calc"!A0`, `'-2+3`, `'\tTAB`, '<script>alert(1)</script>']));
    expect(body[0]?.[1]).toBe("'=cmd seed");
    expect(body[0]?.[0]).toBe(audit.id);
    const head = h.store.audit.list({ limit: 1, action: 'audit.sampled' }).items[0]!;
    expect(body[0]?.[3]).toBe(`${head.seq}:${head.hash}`);

    const html = await h.app.inject({ url: `/api/v1/audits/${audit.id}/export?format=html`, headers: bearer() });
    expect(html.statusCode).toBe(200);
    expect(html.body).not.toMatch(/<script/i);
    expect(html.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.body).toContain('&lt;script&gt;alert(&quot;host&quot;)&lt;/script&gt;');
    expect(html.body).toContain('=cmd seed');
    expect(html.headers['content-security-policy']).toContain("default-src 'none'");

    const json = await h.app.inject({ url: `/api/v1/audits/${audit.id}/export?format=json`, headers: bearer() });
    const full = AuditReport.parse(JSON.parse(json.body));
    expect(full.audit.id).toBe(audit.id);
    expect(full.audit.seed).toBe('=cmd seed');
    expect(full.hosts[0]?.software.items.map((s) => s.name)).toEqual(expect.arrayContaining(hostile.map((s) => s.name)));
    expect(full.auditLogHead.seq).toBeGreaterThan(0);

    const headBeforePdf = h.store.audit.head()!;
    const pdf = await h.app.inject({ url: `/api/v1/audits/${audit.id}/export?format=pdf`, headers: bearer() });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.headers['x-vigil-export-sha256']).toBe(crypto.createHash('sha256').update(pdf.rawPayload).digest('hex'));
    const loaded = await PDFDocument.load(pdf.rawPayload);
    expect(loaded.getPageCount()).toBeGreaterThanOrEqual(2); // summary, then a page per host
    expect(loaded.getTitle()).toBe(`Vigil audit ${audit.id}`);
    const shown = pdfText(pdf.rawPayload);
    for (const want of [audit.id, '=cmd seed', `${headBeforePdf.seq}:${headBeforePdf.hash}`, '=HYPERLINK("http://x")', '<script>alert(1)</script>', ' TAB']) expect(shown).toContain(want);

    // Every export recorded with its SHA-256: on the audit and in the audit log.
    const view = Audit.parse((await h.app.inject({ url: `/api/v1/audits/${audit.id}`, headers: bearer() })).json());
    expect(view.exports.map((e) => [e.format, e.sha256])).toEqual([
      ['csv', sha],
      ['html', html.headers['x-vigil-export-sha256']],
      ['json', json.headers['x-vigil-export-sha256']],
      ['pdf', pdf.headers['x-vigil-export-sha256']],
    ]);
    const logged = h.store.audit.list({ limit: 10, action: 'export' }).items.map((e) => e.details.sha256);
    expect(logged).toEqual(expect.arrayContaining(view.exports.map((e) => e.sha256)));
    expect(Number(csv.headers['x-vigil-audit-log-seq'])).toBe(view.exports[0]?.auditLogSeq);
    expect(h.store.audit.verify().ok).toBe(true);
  });

  it('lets auditors decide and close; analysts only read; a closed audit is read-only (409)', async () => {
    await enrolMany(3);
    const auditor = h.store.credentials.createApiToken('auditor', 'auditor').token;
    const analyst = h.store.credentials.createApiToken('analyst', 'analyst').token;
    expectError(await draw({ size: 1 }, analyst), 403, 'VIGIL_ERR_FORBIDDEN');
    const audit = await drawOk({ size: 2 }, auditor);
    expect(audit.createdBy).toBe('auditor');
    const hostId = audit.sample[0]!.hostId;
    const decide = (token: string, body: Record<string, unknown>, host = hostId) =>
      h.app.inject({ method: 'PUT', url: `/api/v1/audits/${audit.id}/hosts/${host}/decision`, headers: bearer(token), payload: body });

    expectError(await decide(analyst, { decision: 'accepted', comment: 'ok' }), 403, 'VIGIL_ERR_FORBIDDEN');
    expectError(await decide(auditor, { decision: 'maybe', comment: 'ok' }), 400, 'VIGIL_ERR_VALIDATION');
    expectError(await decide(auditor, { decision: 'accepted', comment: 'x' }, audit.population.find((m) => !audit.sample.some((s) => s.hostId === m.hostId))!.hostId), 404, 'VIGIL_ERR_NOT_FOUND');
    const decided = await decide(auditor, { decision: 'exception', comment: 'Zoom pending licence, ticket 812' });
    expect(decided.statusCode).toBe(200);
    expect(Audit.parse(decided.json()).sample[0]).toMatchObject({ decision: 'exception', comment: 'Zoom pending licence, ticket 812', decidedBy: 'auditor' });

    // Analysts read: list, view, report, verify; no export.
    expect((await h.app.inject({ url: '/api/v1/audits', headers: bearer(analyst) })).json().items).toHaveLength(1);
    expect((await h.app.inject({ url: `/api/v1/audits/${audit.id}`, headers: bearer(analyst) })).statusCode).toBe(200);
    expect((await verify(audit.id, analyst)).ok).toBe(true);
    await report(audit.id, analyst);
    expectError(await h.app.inject({ url: `/api/v1/audits/${audit.id}/export?format=csv`, headers: bearer(analyst) }), 403, 'VIGIL_ERR_FORBIDDEN');
    expectError(await h.app.inject({ method: 'POST', url: `/api/v1/audits/${audit.id}/close`, headers: bearer(analyst), payload: {} }), 403, 'VIGIL_ERR_FORBIDDEN');

    const closed = await h.app.inject({ method: 'POST', url: `/api/v1/audits/${audit.id}/close`, headers: bearer(auditor), payload: { comment: 'done' } });
    expect(closed.statusCode).toBe(200);
    expect(Audit.parse(closed.json())).toMatchObject({ status: 'closed', closedBy: 'auditor' });
    expectError(await decide(auditor, { decision: 'accepted', comment: 'too late' }), 409, 'VIGIL_ERR_AUDIT_CLOSED');
    expectError(await h.app.inject({ method: 'POST', url: `/api/v1/audits/${audit.id}/close`, headers: bearer(), payload: {} }), 409, 'VIGIL_ERR_AUDIT_CLOSED');
    // Still readable and exportable once closed; the decision stands.
    expect((await h.app.inject({ url: `/api/v1/audits/${audit.id}/export?format=json`, headers: bearer(auditor) })).statusCode).toBe(200);
    expect(h.store.db.prepare('SELECT decision FROM audit_hosts WHERE audit_id = ? AND host_id = ?').get(audit.id, hostId)).toEqual({ decision: 'exception' });

    const actions = h.store.audit.list({ limit: 50 }).items.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['audit.sampled', 'audit.decided', 'audit.closed', 'export']));
    expect((await h.app.inject({ url: `/api/v1/audits?status=closed`, headers: bearer() })).json().items).toHaveLength(1);
    expect((await h.app.inject({ url: `/api/v1/audits/${crypto.randomUUID()}`, headers: bearer() })).statusCode).toBe(404);
  });
});
