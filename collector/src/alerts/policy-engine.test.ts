import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { Alert, AlertFeedFrame, AlertWithHistory, ErrorResponse, listEnvelope, type SoftwareItem, type UsbDevice } from '@vigil/shared';
import { hidStorageGadget, kinesisKeyboard, sandiskStick } from '../policy/test-support/usb-devices.js';
import { LICENCE_RECOUNT_INTERVAL_MS } from './licence-counter.js';
import { ADMIN_TOKEN, hostFacts, startHarness, TestAgent, type Harness } from '../test-support/harness.js';

/**
 * The policy engine wired into ingest, over real WebSocket agents and a real SQLite file: facts in,
 * alerts out, through the REST API and the live feed.
 */

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ evaluationTickMs: 3_600_000 });
});
afterEach(async () => h.close());

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const alertList = listEnvelope(Alert);

const bash: SoftwareItem = { name: 'bash', version: '5.2.15-2+b7', source: 'dpkg', arch: 'amd64', publisher: 'Matthias Klose <doko@debian.org>' };
const nodejs: SoftwareItem = { name: 'nodejs', version: '20.20.2-1nodesource1', source: 'dpkg', arch: 'amd64', publisher: 'NodeSource Support <support@nodesource.com>' };
const transmission: SoftwareItem = { name: 'transmission-gtk', version: '3.00-2.1', source: 'dpkg', arch: 'amd64', publisher: 'Debian Transmission Maintainers <pkg-transmission@lists.debian.org>' };
const office = (version = '16.0.1'): SoftwareItem => ({ name: 'Microsoft Office Professional Plus 2021', version, source: 'registry', publisher: 'Microsoft Corporation' });

const POLICY = `
software:
  titles:
    - { title: "BitTorrent clients", match: { name: ["*torrent*", "transmission-*"] }, status: prohibited }
    - { title: "Microsoft Office", match: { name: "Microsoft Office*", source: [registry] }, status: licensed, seats: 2 }
`;

interface Agent {
  hostId: string;
  agent: TestAgent;
  send<T extends Parameters<TestAgent['send']>[0]>(type: T, body: Parameters<TestAgent['send']>[1]): Promise<void>;
}

/** An enrolled, connected agent whose sends resolve once the collector has committed them. */
async function connect(hostname = 'ws-0042', groups: string[] = []): Promise<Agent> {
  const facts = hostFacts({ hostname });
  let enrolled;
  if (groups.length) {
    const { secret } = h.store.credentials.createEnrolSecret(`g-${hostname}`, groups);
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/enrol', payload: { secret, host: facts } });
    enrolled = res.json() as { agentId: string; hostId: string; agentToken: string };
  } else {
    enrolled = await h.enrol(facts);
  }
  const agent = await TestAgent.connect(h.wsUrl, enrolled.agentToken, { agentId: enrolled.agentId });
  return {
    hostId: enrolled.hostId,
    agent,
    async send(type, body) {
      const env = agent.send(type, body as never);
      await agent.waitForAck(env.seq);
    },
  };
}

const snapshot = (a: { usb?: UsbDevice[]; software?: SoftwareItem[] }, hostname = 'ws-0042') => ({
  host: hostFacts({ hostname }),
  ...(a.usb ? { usb: a.usb } : {}),
  ...(a.software ? { software: a.software } : {}),
});

async function alerts(query = ''): Promise<Alert[]> {
  const res = await h.app.inject({ url: `/api/v1/alerts?limit=500${query}`, headers: auth });
  expect(res.statusCode).toBe(200);
  return alertList.parse(res.json()).items;
}

async function putPolicy(document: string) {
  return h.app.inject({ method: 'PUT', url: '/api/v1/policy', headers: { ...auth, 'content-type': 'application/yaml' }, payload: document });
}

describe('usb.unauthorised', () => {
  it('raises exactly one alert for an unapproved stick, bumps it on a second attach, and resolves it as approved', async () => {
    const a = await connect();
    await a.send('snapshot', snapshot({ usb: [kinesisKeyboard], software: [bash] }));
    expect(await alerts()).toHaveLength(1); // the keyboard: default deny applies to HID too
    await a.send('usb.attached', { device: sandiskStick, present: false });
    let open = (await alerts('&rule=usb.unauthorised&status=open')).filter((x) => x.subject === sandiskStick.key);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ hostId: a.hostId, hostname: 'ws-0042', severity: 'high', count: 1, status: 'open' });
    expect(open[0]?.details).toMatchObject({ vendorId: '0781', productId: '5581', busPaths: ['1-1.2'] });

    // Unplugged, it stays an incident: the alert stays open, marked no longer present.
    await a.send('usb.detached', { key: sandiskStick.key, busPath: sandiskStick.busPath });
    const afterDetach = (await alerts(`&hostId=${a.hostId}`)).find((x) => x.subject === sandiskStick.key);
    expect(afterDetach).toMatchObject({ status: 'open', count: 1, lastSeenAt: open[0]?.lastSeenAt });
    expect(afterDetach?.details).toMatchObject({ present: false });

    // Plugged in again, twice: the same alert, bumped each time.
    await a.send('usb.attached', { device: sandiskStick, present: false });
    await a.send('usb.attached', { device: { ...sandiskStick, busPath: '1-1.2' }, present: false });
    open = (await alerts('&status=open')).filter((x) => x.subject === sandiskStick.key);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ count: 3, details: { present: true } });

    const approve = await h.app.inject({
      method: 'POST',
      url: '/api/v1/usb/approvals',
      headers: auth,
      payload: { alertId: open[0]?.id, reason: 'Finance backup stick, ticket 4711' },
    });
    expect(approve.statusCode).toBe(201);
    expect(approve.json()).toMatchObject({ deviceKey: sandiskStick.key, scope: { hostId: a.hostId }, active: true });
    const detail = await h.app.inject({ url: `/api/v1/alerts/${open[0]?.id}`, headers: auth });
    const resolved = AlertWithHistory.parse(detail.json());
    expect(resolved).toMatchObject({ status: 'resolved', resolution: 'approved', resolvedBy: 'first-run admin' });
    expect(resolved.history.map((e) => e.action)).toEqual(['opened', 'updated', 'bumped', 'bumped', 'resolved']);
    // Approved: attaching it again raises nothing.
    await a.send('usb.attached', { device: sandiskStick, present: false });
    expect((await alerts('&status=open')).filter((x) => x.subject === sandiskStick.key)).toHaveLength(0);

    // Every state change and the approval went into the audit chain, which verifies.
    const actions = h.store.audit.list({ limit: 100 }).items.map((e) => e.action);
    expect(actions.filter((x) => x === 'alert.opened')).toHaveLength(2); // the keyboard and the stick
    expect(actions).toEqual(expect.arrayContaining(['usb.approval.created', 'alert.resolved']));
    expect(actions).not.toContain('alert.bumped');
    expect(h.store.audit.verify()).toMatchObject({ ok: true });
  });

  it('bumps an open alert after other devices came and went (one device judged at a time)', async () => {
    const a = await connect();
    await a.send('snapshot', snapshot({ usb: [] }));
    await a.send('usb.attached', { device: sandiskStick, present: false });
    await a.send('usb.detached', { key: sandiskStick.key, busPath: sandiskStick.busPath });
    // An allowed device (a hub) comes and goes: judged alone, it must not hide the stick's open alert.
    const hub = { ...kinesisKeyboard, key: 'usb:1d6b:0002:', vendorId: '1d6b', productId: '0002', interfaceClasses: ['09'], isHub: true, busPath: '1-1.9' };
    await a.send('usb.attached', { device: hub, present: false });
    await a.send('usb.detached', { key: hub.key, busPath: hub.busPath });
    await a.send('usb.attached', { device: sandiskStick, present: false });
    expect(h.app.engine.stats.failures).toBe(0);
    const open = await alerts('&status=open');
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ subject: sandiskStick.key, count: 2 });
  });

  it('keeps the alert of a stick attached and detached within one batch', async () => {
    const a = await connect();
    await a.send('snapshot', snapshot({ usb: [] }));
    a.agent.send('usb.attached', { device: sandiskStick, present: false });
    const last = a.agent.send('usb.detached', { key: sandiskStick.key, busPath: sandiskStick.busPath });
    await a.agent.waitForAck(last.seq);
    const all = await alerts();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ subject: sandiskStick.key, status: 'open', count: 1, details: { present: false } });
  });

  it("auto-resolves an unplugged device's alert when the policy comes to allow it", async () => {
    const a = await connect();
    await a.send('usb.attached', { device: sandiskStick, present: false });
    await a.send('usb.detached', { key: sandiskStick.key, busPath: sandiskStick.busPath });
    expect((await putPolicy('usb: { allow: [ { vendorId: "0781", note: "SanDisk" } ] }')).statusCode).toBe(200);
    h.app.engine.drainAll();
    expect((await alerts())[0]).toMatchObject({ status: 'auto_resolved', resolution: 'cleared' });
  });

  it('lets a HID-only allow rule pass a keyboard but not a keyboard that is also mass storage', async () => {
    expect((await putPolicy('usb: { allow: [ { interfaceClasses: ["03"], note: "keyboards and mice" } ] }')).statusCode).toBe(200);
    const a = await connect();
    await a.send('snapshot', snapshot({ usb: [kinesisKeyboard, hidStorageGadget] }));
    const open = await alerts('&status=open');
    expect(open.map((x) => x.subject)).toEqual([hidStorageGadget.key]);
    expect(JSON.stringify(open[0]?.details.reasons)).toContain('also has [08]');
  });

  it('baselines every device present on a host in one call', async () => {
    const a = await connect();
    await a.send('snapshot', snapshot({ usb: [kinesisKeyboard, sandiskStick] }));
    expect(await alerts('&status=open')).toHaveLength(2);
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/usb/approvals/baseline', headers: auth, payload: { scope: { hostId: a.hostId }, reason: 'day-one baseline' } });
    expect(res.statusCode).toBe(201);
    expect(res.json().approvals).toHaveLength(2);
    expect(await alerts('&status=open')).toHaveLength(0);
    expect((await alerts('&status=resolved')).every((x) => x.resolution === 'approved')).toBe(true);

    // The approvals list filters by state; revoking one makes its device an alert again.
    const list = async (q: string) => (await h.app.inject({ url: `/api/v1/usb/approvals?${q}`, headers: auth })).json().items as { id: string }[];
    expect(await list('active=true')).toHaveLength(2);
    expect(await list(`hostId=${a.hostId}`)).toHaveLength(2);
    const [first] = await list('active=true');
    expect((await h.app.inject({ method: 'POST', url: `/api/v1/usb/approvals/${first?.id}/revoke`, headers: auth })).statusCode).toBe(200);
    expect(await list('active=true')).toHaveLength(1);
    expect((await list('active=false')).map((x) => x.id)).toEqual([first?.id]);
    h.app.engine.drainAll();
    expect(await alerts('&status=open')).toHaveLength(1);
  });
});

describe('software', () => {
  it('raises software.unapproved and software.prohibited, auto-resolves them on removal, and re-judges on a policy change', async () => {
    expect((await putPolicy(POLICY)).statusCode).toBe(200);
    const a = await connect();
    await a.send('snapshot', snapshot({ software: [bash, nodejs] }));
    let open = await alerts('&status=open');
    expect(open.map((x) => [x.rule, x.subject])).toEqual([['software.unapproved', 'dpkg:nodejs']]);

    await a.send('software.changed', { installed: [transmission], removed: [], upgraded: [] });
    open = await alerts('&status=open&rule=software.prohibited');
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ subject: 'BitTorrent clients', severity: 'critical' });

    await a.send('software.changed', { installed: [], removed: [transmission], upgraded: [] });
    expect(await alerts('&status=open&rule=software.prohibited')).toHaveLength(0);
    expect((await alerts('&status=auto_resolved'))[0]).toMatchObject({ subject: 'BitTorrent clients', resolution: 'cleared' });

    // Approving node through the catalogue clears its alert once the re-evaluation has run.
    const res = await putPolicy(`${POLICY}    - { title: "Node.js", match: { name: nodejs, source: [dpkg] }, status: approved }\n`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: 2, created: true, reevaluating: 1 });
    h.app.engine.drainAll();
    expect(await alerts('&status=open')).toHaveLength(0);
  });

  it('bounds what one host can raise: at most 200 alerts per rule, the rest folded into one', async () => {
    const a = await connect();
    const many: SoftwareItem[] = Array.from({ length: 5000 }, (_, i) => ({ name: `junk-${String(i).padStart(4, '0')}`, version: '1.0', source: 'dpkg', publisher: 'Nobody <x@example.com>' }));
    await a.send('snapshot', snapshot({ software: many }));
    const open = await alerts('&rule=software.unapproved');
    expect(open).toHaveLength(200);
    const more = open.find((x) => x.subject === '(more)');
    expect(more?.details).toMatchObject({ count: 4801 });
    expect((more?.details.subjects as string[]).length).toBe(100);
    expect(open.filter((x) => x.subject === 'dpkg:junk-0000')).toHaveLength(1);
    // Removing them all clears every one.
    await a.send('software.changed', { installed: [], removed: many, upgraded: [] });
    expect(await alerts('&rule=software.unapproved&status=open')).toHaveLength(0);
  });

  it('asks the agent for a snapshot when a diff arrives with no inventory to apply it to', async () => {
    const a = await connect();
    await a.send('software.changed', { installed: [nodejs], removed: [], upgraded: [] });
    const command = await a.agent.waitFor((f) => f.type === 'command');
    expect(command.body).toMatchObject({ kind: 'collect-now' });
    expect(h.store.hostState.get(a.hostId).software).toBeNull();
    // Asked once: a second diff in a row does not ask again.
    await a.send('software.changed', { installed: [bash], removed: [], upgraded: [] });
    expect(a.agent.frames.filter((f) => f.type === 'command')).toHaveLength(1);
  });

  it('counts licence seats exactly across the fleet and says where, recounting a title at most once a second', async () => {
    expect((await putPolicy(POLICY)).statusCode).toBe(200);
    const hosts = await Promise.all(['pc-1', 'pc-2', 'pc-3', 'pc-4'].map((n) => connect(n)));
    const started = Date.now();
    for (const [i, a] of hosts.entries()) await a.send('snapshot', snapshot({ software: i < 2 ? [office(), office('16.0.2')] : [office()] }, `pc-${i + 1}`));
    expect(Date.now() - started).toBeLessThan(LICENCE_RECOUNT_INTERVAL_MS); // else the coalescing below is not tested
    // The first seat was counted at once; the next three within the second, together, when it was up.
    const open = async (installs: number) => {
      for (const end = Date.now() + 5_000; Date.now() < end; await sleep(50)) {
        const [a, ...more] = await alerts('&rule=licence.over_deployed&status=open');
        expect(more).toHaveLength(0);
        if (a?.details.installs === installs) return a;
      }
      throw new Error(`no open licence alert with ${installs} installs`);
    };
    const four = await open(4);
    expect(four).toMatchObject({ hostId: null, subject: 'Microsoft Office', status: 'open', details: { seats: 2, installs: 4, overBy: 2 } });
    expect((four.details.hosts as { hostname: string }[]).map((x) => x.hostname).sort()).toEqual(['pc-1', 'pc-2', 'pc-3', 'pc-4']);
    const history = async (id: string) => AlertWithHistory.parse((await h.app.inject({ url: `/api/v1/alerts/${id}`, headers: auth })).json()).history.map((e) => e.action);
    expect(await history(four.id)).toEqual(['opened']); // not opened at 3 then updated to 4

    await hosts[3]?.send('software.changed', { installed: [], removed: [office()], upgraded: [] });
    expect((await open(3)).details).toMatchObject({ installs: 3, overBy: 1 });
    await hosts[2]?.send('software.changed', { installed: [], removed: [office()], upgraded: [] });
    for (const end = Date.now() + 5_000; (await alerts('&rule=licence.over_deployed&status=open')).length > 0; await sleep(50)) {
      if (Date.now() > end) throw new Error('the licence alert did not clear');
    }
    expect(await history(four.id)).toEqual(['opened', 'updated', 'auto_resolved']);
  });
});

describe('policy document', () => {
  it('refuses a bad document with every problem and its line, and keeps the old one', async () => {
    expect((await putPolicy(POLICY)).statusCode).toBe(200);
    const res = await putPolicy('mode: enforce\nusb:\n  allow:\n    - { vendorId: 781 }\nscreenlock: { maxIdleSeconds: -5 }\nbogus: 1\n');
    expect(res.statusCode).toBe(422);
    const body = ErrorResponse.parse(res.json());
    expect(body.error.code).toBe('VIGIL_ERR_POLICY_INVALID');
    const problems = (res.json() as { error: { details: { path: string; line?: number }[] } }).error.details;
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['usb.allow[0].vendorId', 4],
      ['screenlock.maxIdleSeconds', 5],
      ['bogus', 6],
    ]);
    const current = await h.app.inject({ url: '/api/v1/policy', headers: auth });
    expect(current.json()).toMatchObject({ version: 1, createdBy: 'first-run admin', source: 'api' });
    expect(current.json().document).toBe(POLICY);
  });

  it('is admin only and keeps every version', async () => {
    const { token } = h.store.credentials.createApiToken('it', 'analyst');
    const res = await h.app.inject({ method: 'PUT', url: '/api/v1/policy', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, payload: '{}' });
    expect(res.statusCode).toBe(403);
    await putPolicy('{}');
    await h.app.inject({ method: 'PUT', url: '/api/v1/policy', headers: auth, payload: { document: 'mode: monitor-only' } });
    const versions = await h.app.inject({ url: '/api/v1/policy/versions', headers: auth });
    expect(versions.json().items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  });

  it('records alerts without notifying in monitor-only mode', async () => {
    await putPolicy('mode: monitor-only');
    const a = await connect();
    await a.send('snapshot', snapshot({ usb: [sandiskStick] }));
    expect((await alerts())[0]).toMatchObject({ monitorOnly: true, status: 'open' });
  });
});

describe('alert lifecycle', () => {
  it('acknowledges and resolves by hand; a breach that still holds opens a new alert at the next evaluation', async () => {
    const a = await connect();
    await a.send('snapshot', snapshot({ usb: [sandiskStick] }));
    const [first] = await alerts();
    const ack = await h.app.inject({ method: 'POST', url: `/api/v1/alerts/${first?.id}/acknowledge`, headers: auth, payload: { note: 'looking' } });
    expect(ack.json()).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'first-run admin' });
    const again = await h.app.inject({ method: 'POST', url: `/api/v1/alerts/${first?.id}/acknowledge`, headers: auth, payload: {} });
    expect(again.statusCode).toBe(409);
    const res = await h.app.inject({ method: 'POST', url: `/api/v1/alerts/${first?.id}/resolve`, headers: auth, payload: { resolution: 'false_positive', note: 'it is mine' } });
    expect(res.json()).toMatchObject({ status: 'resolved', resolution: 'false_positive', note: 'it is mine' });
    await a.send('snapshot', snapshot({ usb: [sandiskStick] }));
    const all = await alerts();
    expect(all.map((x) => x.status).sort()).toEqual(['open', 'resolved']);
  });

  it('lets an auditor read but not triage', async () => {
    const a = await connect();
    await a.send('snapshot', snapshot({ usb: [sandiskStick] }));
    const { token } = h.store.credentials.createApiToken('audit', 'auditor');
    const headers = { authorization: `Bearer ${token}` };
    const [first] = await alerts();
    expect((await h.app.inject({ url: '/api/v1/alerts', headers })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'POST', url: `/api/v1/alerts/${first?.id}/acknowledge`, headers, payload: {} })).statusCode).toBe(403);
  });

  it('accepts a breach with an exception until it expires', async () => {
    const a = await connect();
    await a.send('snapshot', snapshot({ usb: [sandiskStick] }));
    const [first] = await alerts();
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/exceptions', headers: auth, payload: { alertId: first?.id, expiresAt, reason: 'conference week' } });
    expect(res.statusCode).toBe(201);
    expect((await alerts())[0]).toMatchObject({ status: 'resolved', resolution: 'excepted' });
    await a.send('usb.attached', { device: sandiskStick, present: false });
    expect(await alerts('&status=open')).toHaveLength(0);
    const detail = (await h.app.inject({ url: `/api/v1/hosts/${a.hostId}`, headers: auth })).json();
    expect(detail.exceptions).toMatchObject([{ rule: 'usb.unauthorised', subject: sandiskStick.key, reason: 'conference week' }]);
    // Past its expiry, the time-driven evaluation opens a new alert.
    h.app.engine.tick(Date.now() + 3_700_000);
    h.app.engine.drainAll();
    expect(await alerts('&status=open')).toHaveLength(1);
  });
});

describe('failures', () => {
  it('stores and acknowledges a message even when judging it fails, and judges the next one', async () => {
    const a = await connect();
    const real = h.store.hostState.apply.bind(h.store.hostState);
    let calls = 0;
    h.store.hostState.apply = (...args) => {
      if (++calls === 1) {
        real(...args); // written, then rolled back with the savepoint
        throw new Error('boom');
      }
      return real(...args);
    };
    await a.send('usb.attached', { device: sandiskStick, present: false });
    expect(h.app.engine.stats.failures).toBe(1);
    expect(h.logs.join('')).toContain('policy evaluation failed');
    const stored = h.store.db.prepare("SELECT count(*) AS n FROM messages WHERE type = 'usb.attached'").get() as { n: number };
    expect(stored.n).toBe(1);
    expect(h.store.hostState.get(a.hostId).usb).toBeNull();
    expect(await alerts()).toHaveLength(0);
    await a.send('usb.attached', { device: sandiskStick, present: false });
    expect(await alerts()).toHaveLength(1);
  });
});

describe('time-driven rules', () => {
  it('raises terminal.unattended for a session idle and unlocked past the threshold, and clears it on lock', async () => {
    const a = await connect();
    const idleSince = new Date(Date.now() - 1000).toISOString();
    const session = { id: '2', user: 'alice', locked: false, idle: true, idleSince, remote: false, seat: 'seat0', type: 'x11' };
    await a.send('session.state', { sessions: [session] });
    expect(await alerts()).toHaveLength(0);
    h.app.engine.tick(Date.now() + 1_021_000);
    // (Jumping the clock that far also makes the connected agent look hung: agent.silent.)
    const [alert] = await alerts('&rule=terminal.unattended');
    expect(alert).toMatchObject({ rule: 'terminal.unattended', subject: 'session:alice@seat0', severity: 'low' });
    await a.send('session.state', { sessions: [{ ...session, locked: true }] });
    expect((await alerts('&rule=terminal.unattended'))[0]).toMatchObject({ status: 'auto_resolved' });
    expect((await alerts('&rule=agent.silent'))[0]).toMatchObject({ status: 'auto_resolved' });
  });

  it('raises agent.silent for an agent gone without goodbye, not for one that said goodbye', async () => {
    const quiet = await connect('quiet');
    const polite = await connect('polite');
    await quiet.send('snapshot', snapshot({}, 'quiet'));
    await polite.send('goodbye', { reason: 'sleep' });
    quiet.agent.close();
    polite.agent.close();
    await new Promise((r) => setTimeout(r, 100));
    h.app.engine.tick(Date.now() + 91_000);
    const silent = await alerts('&rule=agent.silent');
    expect(silent.map((x) => x.hostname)).toEqual(['quiet']);
  });
});

describe('live feed', () => {
  it('streams alert changes and resumes from a cursor without a gap or a duplicate', async () => {
    const a = await connect();
    const url = h.wsUrl.replace('/agent/v1', '/api/v1/alerts/stream');
    const frames: AlertFeedFrame[] = [];
    const ws = new WebSocket(`${url}?rule=usb.unauthorised`, { headers: auth });
    ws.on('message', (d) => frames.push(AlertFeedFrame.parse(JSON.parse(String(d)))));
    await new Promise((r) => ws.once('open', r));
    await a.send('usb.attached', { device: sandiskStick, present: false });
    await until(() => frames.length === 1);
    expect(frames[0]).toMatchObject({ action: 'opened', alert: { subject: sandiskStick.key, status: 'open' } });
    ws.close();

    // While disconnected: a bump and a detach (an update: no longer present). Resuming replays exactly those.
    await a.send('usb.attached', { device: sandiskStick, present: false });
    await a.send('usb.detached', { key: sandiskStick.key, busPath: sandiskStick.busPath });
    const resumed: AlertFeedFrame[] = [];
    const ws2 = new WebSocket(`${url}?cursor=${frames[0]?.cursor}`, { headers: auth });
    ws2.on('message', (d) => resumed.push(AlertFeedFrame.parse(JSON.parse(String(d)))));
    await new Promise((r) => ws2.once('open', r));
    await until(() => resumed.length === 2);
    await a.send('usb.attached', { device: sandiskStick, present: false });
    await until(() => resumed.length === 3);
    expect(resumed.map((f) => f.action)).toEqual(['bumped', 'updated', 'bumped']);
    expect(resumed.map((f) => f.alert.count)).toEqual([2, 2, 3]);
    const cursors = resumed.map((f) => Number(f.cursor));
    expect(cursors).toEqual([...cursors].sort((x, y) => x - y));
    ws2.close();
  });

  it('refuses a feed without a token', async () => {
    const url = h.wsUrl.replace('/agent/v1', '/api/v1/alerts/stream');
    const ws = new WebSocket(url);
    const status = await new Promise<number>((r) => ws.once('unexpected-response', (_req, res) => r(res.statusCode ?? 0)));
    expect(status).toBe(401);
  });
});

describe('host detail', () => {
  it('shows USB history, software with catalogue status, screen lock and sessions', async () => {
    await putPolicy(POLICY);
    const a = await connect();
    await a.send('snapshot', snapshot({ usb: [kinesisKeyboard], software: [bash, transmission] }));
    await a.send('usb.attached', { device: sandiskStick, present: false });
    await a.send('usb.detached', { key: sandiskStick.key, busPath: sandiskStick.busPath });
    const res = await h.app.inject({ url: `/api/v1/hosts/${a.hostId}`, headers: auth });
    const d = res.json();
    expect(d.usb.status).toBe('known');
    expect(d.usb.present.map((x: UsbDevice) => x.key)).toEqual([kinesisKeyboard.key]);
    expect(d.usb.history.map((x: { event: string }) => x.event)).toEqual(['detached', 'attached']);
    expect(d.software.counts).toMatchObject({ approved: 1, prohibited: 1 });
    expect(d.software.items.find((x: SoftwareItem) => x.name === 'transmission-gtk')).toMatchObject({ status: 'prohibited', title: 'BitTorrent clients' });
    expect(d.screenlock.status).toBe('never');
    expect(d.openAlerts).toBe(3); // the keyboard, the stick (unplugged, still open), BitTorrent
  });
});

async function until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
