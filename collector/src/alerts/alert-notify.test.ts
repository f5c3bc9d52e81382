import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandiskStick } from '../policy/test-support/usb-devices.js';
import { ADMIN_TOKEN, hostFacts, startHarness, TestAgent, type Harness } from '../test-support/harness.js';

/**
 * Alert changes from the engine reach a real webhook receiver on 127.0.0.1; monitor-only alerts
 * do not; the audit chain head goes out to every target.
 */

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
let h: Harness;
let server: http.Server;
let received: { path: string; body: Record<string, unknown> }[];
let base: string;

beforeEach(async () => {
  received = [];
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  h = await startHarness({ evaluationTickMs: 3_600_000, notifications: { tuning: { idlePollMs: 20 } } });
});
afterEach(async () => {
  await h.close();
  await new Promise((r) => server.close(r));
});

async function until<T>(probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out; received ${JSON.stringify(received).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function agentOn(hostname: string, groups: string[]) {
  const { secret } = h.store.credentials.createEnrolSecret(hostname, groups);
  const res = await h.app.inject({ method: 'POST', url: '/api/v1/enrol', payload: { secret, host: hostFacts({ hostname }) } });
  const e = res.json() as { agentId: string; agentToken: string };
  return TestAgent.connect(h.wsUrl, e.agentToken, { agentId: e.agentId });
}

describe('alert notifications', () => {
  it('sends opened and resolved to a webhook, not the unplug (an update), and nothing for a monitor-only group', async () => {
    const target = await h.app.inject({ method: 'POST', url: '/api/v1/notifications/targets', headers: auth, payload: { name: 'siem', kind: 'webhook', config: { url: `${base}/hook` } } });
    expect(target.statusCode).toBe(201);
    const policy = await h.app.inject({ method: 'PUT', url: '/api/v1/policy', headers: { ...auth, 'content-type': 'application/yaml' }, payload: 'overrides:\n  - { groups: [pilot], mode: monitor-only }\n' });
    expect(policy.statusCode).toBe(200);

    const pilot = await agentOn('pilot-1', ['pilot']);
    const office = await agentOn('office-1', ['office']);
    for (const a of [pilot, office]) {
      const env = a.send('usb.attached', { device: sandiskStick, present: false });
      await a.waitForAck(env.seq);
    }
    const opened = await until(() => received.find((r) => r.body.type === 'alert' && r.body.action === 'opened'));
    expect(opened.body).toMatchObject({ action: 'opened', alert: { rule: 'usb.unauthorised', hostname: 'office-1', monitorOnly: false } });

    const env = office.send('usb.detached', { key: sandiskStick.key, busPath: sandiskStick.busPath });
    await office.waitForAck(env.seq);
    const alertId = (opened.body.alert as { id: string }).id;
    const approval = await h.app.inject({ method: 'POST', url: '/api/v1/usb/approvals', headers: auth, payload: { alertId, reason: 'known stick' } });
    expect(approval.statusCode).toBe(201);
    await until(() => received.find((r) => r.body.action === 'resolved'));
    // The pilot host's alert exists, recorded as monitor-only, and was never sent.
    const pilotAlerts = (await h.app.inject({ url: '/api/v1/alerts?q=&limit=10', headers: auth })).json().items.filter((x: { hostname: string }) => x.hostname === 'pilot-1');
    expect(pilotAlerts).toMatchObject([{ monitorOnly: true, status: 'open' }]);
    expect(received.filter((r) => (r.body.alert as { hostname?: string } | undefined)?.hostname === 'pilot-1')).toEqual([]);
    expect(received.filter((r) => r.body.type === 'alert').map((r) => r.body.action)).toEqual(['opened', 'resolved']);
  });
});

describe('audit chain head', () => {
  it('is published to every target and can be checked against the log', async () => {
    await h.close();
    h = await startHarness({ notifications: { tuning: { idlePollMs: 20 } }, auditHead: { checkMs: 50, everyMs: 86_400_000 } });
    await h.app.inject({ method: 'POST', url: '/api/v1/notifications/targets', headers: auth, payload: { name: 'siem', kind: 'webhook', config: { url: `${base}/hook` } } });
    const head = await until(() => received.find((r) => r.body.type === 'audit.head'));
    const now = h.store.audit.head();
    expect(head.body.seq).toBeGreaterThan(0);
    // The published head is in the chain (the target's creation may have been appended after it).
    expect(h.store.audit.verify({ expectHead: { seq: head.body.seq as number, hash: head.body.hash as string } })).toMatchObject({ ok: true });
    expect(now?.seq).toBeGreaterThanOrEqual(head.body.seq as number);
    // Once a day: later checks do not send it again.
    await new Promise((r) => setTimeout(r, 200));
    expect(received.filter((r) => r.body.type === 'audit.head')).toHaveLength(1);
  });
});
