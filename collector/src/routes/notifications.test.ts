import { createHmac } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorResponse, NotificationDelivery, NotificationTarget, listEnvelope } from '@vigil/shared';
import { alertNotice } from '../notifiers/test-support/notices.js';
import { startHttpReceiver, startTcpReceiver, startUdpReceiver, until } from '../notifiers/test-support/receivers.js';
import { parseRfc5424 } from '../notifiers/test-support/syslog-parse.js';
import { ADMIN_TOKEN, startHarness, type Harness } from '../test-support/harness.js';

/**
 * Outgoing notifications end to end: targets made through the API, alert changes queued the way
 * the engine does (inside a store transaction), and real receivers on 127.0.0.1 — an HTTP server,
 * a UDP syslog socket and a TCP syslog server reading RFC 6587 frames.
 */

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const SECRET = 'whsec-0123456789abcdef';

/** A port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let h: Harness;
let web: Awaited<ReturnType<typeof startHttpReceiver>>;
beforeEach(async () => {
  web = await startHttpReceiver();
  h = await startHarness({
    notifications: {
      retry: { baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 3 },
      tuning: { sendTimeoutMs: 5_000, stopGraceMs: 100 },
      syslogHostname: 'collector-test',
    },
  });
});
afterEach(async () => {
  await h.close();
  await web.close();
});

async function createTarget(body: Record<string, unknown>): Promise<NotificationTarget> {
  const res = await h.app.inject({ method: 'POST', url: '/api/v1/notifications/targets', headers: auth, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return NotificationTarget.parse(res.json());
}

async function deliveries(query = ''): Promise<NotificationDelivery[]> {
  const res = await h.app.inject({ url: `/api/v1/notifications/deliveries${query}`, headers: auth });
  expect(res.statusCode, res.body).toBe(200);
  return listEnvelope(NotificationDelivery).parse(res.json()).items;
}

/** Queue an alert change exactly as the engine does: in the transaction that records the change. */
function raise(...args: Parameters<typeof alertNotice>): number {
  return h.app.store.transaction(() => h.app.notifications.enqueueAlert(alertNotice(...args), Date.now()));
}

describe('delivery to real receivers', () => {
  it('sends one alert change as signed JSON, Slack text, UDP syslog and TCP syslog', async () => {
    const udp = await startUdpReceiver();
    const tcp = await startTcpReceiver();
    try {
      const hook = await createTarget({
        name: 'SIEM webhook',
        kind: 'webhook',
        config: { url: `${web.base}/ok?channel=sec`, secret: SECRET, headers: { 'X-Tenant': 'acme' } },
      });
      expect(hook.config).toEqual({ url: `${web.base}/ok?channel=sec`, headers: { 'X-Tenant': 'acme' }, hasSecret: true });
      await createTarget({ name: 'IT Slack', kind: 'slack', config: { url: `${web.base}/slack` } });
      await createTarget({ name: 'syslog udp', kind: 'syslog', config: { host: '127.0.0.1', port: udp.port, transport: 'udp' } });
      await createTarget({ name: 'syslog tcp', kind: 'syslog', config: { host: '127.0.0.1', port: tcp.port, transport: 'tcp', facility: 'auth', appName: 'vigil-test' } });

      const notice = alertNotice({}, { details: { manufacturer: 'SanDisk', product: 'Cruzer <!channel>' } });
      expect(h.app.store.transaction(() => h.app.notifications.enqueueAlert(notice, Date.now()))).toBe(4);

      const json = await until('the webhook', () => web.requests.find((r) => r.path === '/ok?channel=sec'));
      expect(JSON.parse(json.body)).toEqual({ type: 'alert', action: 'opened', cursor: '17', actor: 'engine', note: null, alert: notice.alert });
      expect(json.headers['content-type']).toBe('application/json');
      expect(json.headers['x-tenant']).toBe('acme');
      expect(json.headers['x-vigil-event']).toBe('alert.opened');
      expect(json.headers['user-agent']).toMatch(/^vigil-collector\//);
      expect(json.headers['x-vigil-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(json.body).digest('hex')}`);

      const slack = await until('the Slack webhook', () => web.requests.find((r) => r.path === '/slack'));
      expect(JSON.parse(slack.body)).toEqual({
        text: '[HIGH] usb.unauthorised opened on `ws-0042`: `usb:0781:5567:4C530001230101117264` — `SanDisk Cruzer &lt;!channel&gt;` (count 2)',
      });
      expect(slack.headers['x-vigil-signature']).toBeUndefined();

      const dgramMsg = parseRfc5424(await until('the UDP datagram', () => udp.messages[0]));
      expect(dgramMsg).toMatchObject({ pri: 16 * 8 + 3, version: 1, hostname: 'collector-test', appName: 'vigil', msgId: 'alert', timestamp: notice.alert.updatedAt });
      expect(dgramMsg.sd).toEqual({
        id: 'vigil@32473',
        params: expect.objectContaining({ rule: 'usb.unauthorised', alertId: notice.alert.id, host: 'ws-0042', subject: notice.alert.subject, action: 'opened' }),
      });
      expect(dgramMsg.msg).toBe('[HIGH] usb.unauthorised opened on ws-0042: usb:0781:5567:4C530001230101117264 — SanDisk Cruzer <!channel> (count 2)');

      const frame = parseRfc5424(await until('the TCP frame', () => tcp.frames[0]));
      expect(frame).toMatchObject({ pri: 4 * 8 + 3, appName: 'vigil-test', msgId: 'alert' });

      // The audit head follows on the same TCP connection.
      expect(h.app.store.transaction(() => h.app.notifications.enqueueAuditHead({ seq: 52, hash: 'e'.repeat(64), at: '2025-03-05T00:00:00.000Z' }, Date.now()))).toBe(4);
      const head = parseRfc5424(await until('the audit head over TCP', () => tcp.frames[1]));
      expect(head).toMatchObject({ pri: 4 * 8 + 5, msgId: 'audit-head', sd: { params: { seq: '52', hash: 'e'.repeat(64) } } });
      expect(tcp.connections()).toBe(1);

      const all = await until('all eight delivered', () => {
        const items = h.app.store.notifications.listDeliveries({ limit: 20 }).items;
        return items.length === 8 && items.every((d) => d.status === 'delivered') && items;
      });
      expect(all.every((d) => d.attempts === 1 && d.lastError === null && d.deliveredAt !== null)).toBe(true);
      expect((await deliveries('?status=delivered')).length).toBe(8);
    } finally {
      await udp.close();
      await tcp.close();
    }
  });

  it('retries a receiver that answers 500 twice, then delivers', async () => {
    await createTarget({ name: 'flaky', kind: 'webhook', config: { url: `${web.base}/flaky` } });
    raise();
    const d = await until('the delivery to succeed', () => h.app.store.notifications.listDeliveries({ limit: 5 }).items.find((x) => x.status === 'delivered'));
    expect(web.requests.filter((r) => r.path === '/flaky')).toHaveLength(3);
    expect(d).toMatchObject({ attempts: 3, lastError: 'HTTP 500: upstream broke' });
    // Every try carries the same delivery id, so a receiver can drop duplicates.
    expect(new Set(web.requests.map((r) => r.headers['x-vigil-delivery']))).toEqual(new Set([String(d.id)]));
  });

  it('marks deliveries to a receiver that is down as failed after the attempt limit, visible through the API', async () => {
    const port = await deadPort();
    await createTarget({ name: 'down webhook', kind: 'webhook', config: { url: `http://127.0.0.1:${port}/hook` } });
    await createTarget({ name: 'down syslog', kind: 'syslog', config: { host: '127.0.0.1', port, transport: 'tcp' } });
    await createTarget({ name: 'redirecting', kind: 'webhook', config: { url: `${web.base}/moved` } });
    expect(raise()).toBe(3);
    const failed = await until('three failures', () => {
      const items = h.app.store.notifications.listDeliveries({ limit: 10, status: 'failed' }).items;
      return items.length === 3 && items;
    });
    expect(failed.map((d) => d.attempts)).toEqual([3, 3, 3]);
    const viaApi = await deliveries('?status=failed');
    const byName = Object.fromEntries(viaApi.map((d) => [d.targetName, d]));
    expect(byName['down webhook']?.lastError).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(byName['down syslog']?.lastError).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(byName.redirecting?.lastError).toBe('HTTP 302: redirects are not followed');
    expect(web.requests.filter((r) => r.path === '/elsewhere')).toHaveLength(0);
    expect(await deliveries('?status=pending')).toEqual([]);
    // The failures are logged without the URL's path or query.
    const giveUps = h.logs.filter((l) => l.includes('giving up'));
    expect(giveUps.length).toBe(3);
    expect(giveUps.join('')).not.toContain('/hook');
  });

  it('keeps delivering to other targets while one receiver hangs, and still closes promptly', async () => {
    const slow = await createTarget({ name: 'slow', kind: 'webhook', config: { url: `${web.base}/slow` } });
    await createTarget({ name: 'fast', kind: 'webhook', config: { url: `${web.base}/ok` } });
    const started = Date.now();
    expect(raise()).toBe(2);
    raise({ cursor: '18', action: 'escalated' }, { severity: 'critical', count: 3 });
    await until('the slow receiver to be hanging', () => web.hanging.length >= 1);
    const fast = await until('both fast deliveries', () => {
      const items = h.app.store.notifications.listDeliveries({ limit: 10, status: 'delivered' }).items;
      return items.length === 2 && items;
    });
    expect(fast.map((d) => d.targetName)).toEqual(['fast', 'fast']);
    expect(Date.now() - started).toBeLessThan(2_000);
    const slowOnes = h.app.store.notifications.listDeliveries({ limit: 10, targetId: slow.id }).items;
    expect(slowOnes.map((d) => d.status)).toEqual(['pending', 'pending']);
    expect(web.hanging.length).toBeLessThanOrEqual(2);

    const closing = Date.now();
    await h.app.close();
    expect(Date.now() - closing).toBeLessThan(2_000);
  });
});

describe('notifications API', () => {
  const expectError = (res: { statusCode: number; json(): unknown }, status: number, code: string) => {
    expect(res.statusCode).toBe(status);
    expect(ErrorResponse.parse(res.json()).error.code).toBe(code);
  };

  it('is for admins only', async () => {
    const { token } = h.store.credentials.createApiToken('it-analyst', 'analyst');
    expectError(await h.app.inject({ url: '/api/v1/notifications/targets' }), 401, 'VIGIL_ERR_UNAUTHENTICATED');
    expectError(await h.app.inject({ url: '/api/v1/notifications/targets', headers: { authorization: `Bearer ${token}` } }), 403, 'VIGIL_ERR_FORBIDDEN');
    expectError(await h.app.inject({ url: '/api/v1/notifications/deliveries', headers: { authorization: `Bearer ${token}` } }), 403, 'VIGIL_ERR_FORBIDDEN');
  });

  it('refuses configurations that are not safe or not valid', async () => {
    const bad = async (body: Record<string, unknown>, path: string) => {
      const res = await h.app.inject({ method: 'POST', url: '/api/v1/notifications/targets', headers: auth, payload: body });
      expectError(res, 400, 'VIGIL_ERR_VALIDATION');
      expect(JSON.stringify(res.json())).toContain(path);
    };
    await bad({ name: 'x', kind: 'webhook', config: { url: 'file:///etc/passwd' } }, 'config.url');
    await bad({ name: 'x', kind: 'webhook', config: { url: 'https://user:pw@siem.example/' } }, 'config.url');
    await bad({ name: 'x', kind: 'webhook', config: { url: 'https://siem.example/', headers: { Host: 'evil' } } }, 'config.headers');
    await bad({ name: 'x', kind: 'webhook', config: { url: 'https://siem.example/', headers: { 'X-A': 'line\r\nInjected: 1' } } }, 'config.headers');
    await bad({ name: 'x', kind: 'webhook', config: { url: 'https://siem.example/', secret: 'short' } }, 'config.secret');
    await bad({ name: 'x', kind: 'syslog', config: { host: 'siem example', port: 514 } }, 'config.host');
    await bad({ name: 'x', kind: 'syslog', config: { host: 'siem', appName: 'has space' } }, 'config.appName');
    await bad({ name: 'x', kind: 'slack', config: { url: 'https://hooks.slack.com/x', secret: 'a-long-enough-secret' } }, 'config');
    await bad({ name: 'x', kind: 'email', config: {} }, 'kind');
    await bad({ name: 'x', kind: 'slack', config: { url: 'https://hooks.slack.com/x' }, filter: { minSeverity: 'urgent' } }, 'filter.minSeverity');
  });

  it('shows, updates, tests and deletes a target', async () => {
    const t = await createTarget({ name: 'syslog', kind: 'syslog', config: { host: 'siem.example' }, filter: { rules: ['usb.unauthorised'] } });
    expect(t).toMatchObject({
      kind: 'syslog',
      config: { host: 'siem.example', port: 514, transport: 'udp', facility: 'local0', appName: 'vigil' },
      filter: { rules: ['usb.unauthorised'], actions: ['opened', 'escalated', 'resolved', 'auto_resolved'] },
      enabled: true,
      createdBy: 'first-run admin',
    });
    const got = await h.app.inject({ url: `/api/v1/notifications/targets/${t.id}`, headers: auth });
    expect(got.json()).toEqual(JSON.parse(JSON.stringify(t)));

    const patched = await h.app.inject({
      method: 'PATCH',
      url: `/api/v1/notifications/targets/${t.id}`,
      headers: auth,
      payload: { name: 'SIEM', enabled: false, config: { port: 6514, transport: 'tcp' } },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'SIEM', enabled: false, config: { host: 'siem.example', port: 6514, transport: 'tcp' } });
    expectError(
      await h.app.inject({ method: 'PATCH', url: `/api/v1/notifications/targets/${t.id}`, headers: auth, payload: { config: { port: 0 } } }),
      400,
      'VIGIL_ERR_VALIDATION',
    );
    expectError(await h.app.inject({ method: 'PATCH', url: `/api/v1/notifications/targets/${t.id}`, headers: auth, payload: {} }), 400, 'VIGIL_ERR_VALIDATION');

    const list = await h.app.inject({ url: '/api/v1/notifications/targets', headers: auth });
    expect(listEnvelope(NotificationTarget).parse(list.json()).items.map((x) => x.name)).toEqual(['SIEM']);

    const del = await h.app.inject({ method: 'DELETE', url: `/api/v1/notifications/targets/${t.id}`, headers: auth });
    expect(del.statusCode).toBe(204);
    expectError(await h.app.inject({ url: `/api/v1/notifications/targets/${t.id}`, headers: auth }), 404, 'VIGIL_ERR_NOT_FOUND');
    expectError(await h.app.inject({ method: 'DELETE', url: `/api/v1/notifications/targets/${t.id}`, headers: auth }), 404, 'VIGIL_ERR_NOT_FOUND');
    expectError(await h.app.inject({ method: 'POST', url: `/api/v1/notifications/targets/${t.id}/test`, headers: auth }), 404, 'VIGIL_ERR_NOT_FOUND');
  });

  it('queues a test delivery, returns it, and the receiver gets it even while the target is disabled', async () => {
    const t = await createTarget({ name: 'hook', kind: 'webhook', enabled: false, config: { url: `${web.base}/ok` } });
    const res = await h.app.inject({ method: 'POST', url: `/api/v1/notifications/targets/${t.id}/test`, headers: auth });
    expect(res.statusCode, res.body).toBe(202);
    const d = NotificationDelivery.parse(res.json());
    expect(d).toMatchObject({ targetId: t.id, targetName: 'hook', kind: 'test', status: 'pending', attempts: 0, payload: { type: 'test', by: 'first-run admin' } });
    const got = await until('the test message', () => web.requests.find((r) => r.path === '/ok'));
    expect(JSON.parse(got.body)).toEqual({ type: 'test', at: d.createdAt, by: 'first-run admin' });
    expect(got.headers['x-vigil-event']).toBe('test');
    await until('delivered', () => h.app.store.notifications.getDelivery(d.id)?.status === 'delivered');
    // A disabled target receives no alert changes.
    expect(raise()).toBe(0);
  });

  it('pages deliveries with a cursor and filters them by target', async () => {
    await h.close();
    h = await startHarness({ notifications: { dispatch: false } });
    const a = await createTarget({ name: 'a', kind: 'slack', config: { url: 'https://hooks.slack.com/services/T/B/X' } });
    await createTarget({ name: 'b', kind: 'slack', config: { url: 'https://hooks.slack.com/services/T/B/Y' } });
    for (let i = 1; i <= 5; i++) raise({ cursor: String(i) });
    const seen: (number | null)[] = [];
    let cursor = '';
    for (let page = 0; page < 5; page++) {
      const res = await h.app.inject({ url: `/api/v1/notifications/deliveries?targetId=${a.id}&limit=2${cursor}`, headers: auth });
      const body = listEnvelope(NotificationDelivery).parse(res.json());
      seen.push(...body.items.map((d) => d.eventSeq));
      if (!body.nextCursor) break;
      cursor = `&cursor=${encodeURIComponent(body.nextCursor)}`;
    }
    expect(seen).toEqual([5, 4, 3, 2, 1]);
    expect(await deliveries('?status=pending&limit=500')).toHaveLength(10);
    expectError(await h.app.inject({ url: '/api/v1/notifications/deliveries?status=lost', headers: auth }), 400, 'VIGIL_ERR_VALIDATION');
  });
});
