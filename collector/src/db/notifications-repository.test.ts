import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CreateNotificationTargetRequest, REDACTED, VigilError } from '@vigil/shared';
import { alertNotice } from '../notifiers/test-support/notices.js';
import { openStore, type Store } from './store.js';

let store: Store;
beforeEach(() => {
  store = openStore({ dataDir: ':memory:', silentAfterMs: 60_000 });
});
afterEach(() => store.close());

const NOW = Date.parse('2025-03-04T10:00:00Z');
const create = (body: unknown) => store.notifications.createTarget(CreateNotificationTargetRequest.parse(body), 'admin', NOW);
const hook = (name: string, extra: Record<string, unknown> = {}) => create({ name, kind: 'webhook', config: { url: `https://siem.example/${name}` }, ...extra });
const pendingFor = (targetId: string) =>
  store.db.prepare("SELECT count(*) AS n FROM notification_deliveries WHERE target_id = ? AND status = 'pending'").get(targetId) as { n: number };
const roomy = { limit: 100, leaseMs: 60_000, room: () => 100 };

describe('targets', () => {
  it('never shows the webhook secret or credential header values', () => {
    const t = create({
      name: 'splunk',
      kind: 'webhook',
      config: { url: 'https://siem.example/hook', secret: 'a-long-shared-secret', headers: { Authorization: 'Splunk 1234', 'X-Team': 'it' } },
    });
    expect(t.config).toEqual({ url: 'https://siem.example/hook', headers: { Authorization: REDACTED, 'X-Team': 'it' }, hasSecret: true });
    expect(JSON.stringify(store.notifications.listTargets())).not.toMatch(/a-long-shared-secret|Splunk 1234/);
    expect(t.filter).toEqual({ actions: ['opened', 'escalated', 'resolved', 'auto_resolved'] });
    expect(t.deliveries).toEqual({ pending: 0, delivered: 0, failed: 0 });
  });

  it('merges a config patch: the secret and redacted headers are kept unless replaced', () => {
    const t = create({ name: 'h', kind: 'webhook', config: { url: 'https://a.example/', secret: 'a-long-shared-secret', headers: { Authorization: 'Bearer x' } } });
    store.notifications.updateTarget(t.id, { config: { url: 'https://b.example/', headers: { Authorization: REDACTED, 'X-Extra': '1' } } });
    const stored = JSON.parse((store.db.prepare('SELECT config FROM notification_targets WHERE id = ?').get(t.id) as { config: string }).config);
    expect(stored).toEqual({ url: 'https://b.example/', secret: 'a-long-shared-secret', headers: { Authorization: 'Bearer x', 'X-Extra': '1' } });

    const removed = store.notifications.updateTarget(t.id, { config: { secret: null } });
    expect(removed?.config).toMatchObject({ hasSecret: false });
    expect(() => store.notifications.updateTarget(t.id, { config: { url: 'ftp://nope' } })).toThrow(VigilError);
    expect(() => store.notifications.updateTarget(t.id, { config: { headers: { Cookie: REDACTED } } })).toThrow(/no stored value/);
    expect(() => store.notifications.updateTarget(t.id, { config: { transport: 'tcp' } })).toThrow(VigilError);
  });

  it('refuses more than the maximum number of targets', () => {
    for (let i = 0; i < 32; i++) hook(`t${i}`);
    expect(() => hook('one-too-many')).toThrow(expect.objectContaining({ code: 'VIGIL_ERR_CONFLICT' }));
  });
});

describe('queueing alert changes', () => {
  it('queues one delivery per enabled target whose filter takes the change', () => {
    const all = hook('all');
    const critical = hook('critical-only', { filter: { minSeverity: 'critical' } });
    const usbAck = hook('usb-acks', { filter: { rules: ['usb.unauthorised'], actions: ['acknowledged'] } });
    const silent = hook('silent-only', { filter: { rules: ['agent.silent'] } });
    const off = hook('disabled', { enabled: false });

    expect(store.notifications.enqueueAlert(alertNotice(), NOW)).toBe(1);
    expect(pendingFor(all.id).n).toBe(1);
    expect(store.notifications.enqueueAlert(alertNotice({}, { severity: 'critical' }), NOW)).toBe(2);
    expect(pendingFor(critical.id).n).toBe(1);
    expect(store.notifications.enqueueAlert(alertNotice({ action: 'acknowledged', actor: 'alice' }), NOW)).toBe(1);
    expect(pendingFor(usbAck.id).n).toBe(1);
    // 'bumped' is not in the default actions; monitor-only alerts notify nobody.
    expect(store.notifications.enqueueAlert(alertNotice({ action: 'bumped' }), NOW)).toBe(0);
    expect(store.notifications.enqueueAlert(alertNotice({}, { monitorOnly: true, severity: 'critical' }), NOW)).toBe(0);
    expect(pendingFor(silent.id).n).toBe(0);
    expect(pendingFor(off.id).n).toBe(0);

    const d = store.notifications.listDeliveries({ limit: 10, targetId: all.id }).items[0];
    expect(d).toMatchObject({ kind: 'alert', eventSeq: 17, status: 'pending', attempts: 0, targetName: 'all', payload: { type: 'alert', action: 'opened', cursor: '17' } });
  });

  it('sees target changes at once (the cached list is dropped on every change)', () => {
    const a = hook('a');
    expect(store.notifications.enqueueAlert(alertNotice(), NOW)).toBe(1);
    const b = hook('b');
    expect(store.notifications.enqueueAlert(alertNotice(), NOW)).toBe(2);
    store.notifications.updateTarget(a.id, { enabled: false });
    expect(store.notifications.enqueueAlert(alertNotice(), NOW)).toBe(1);
    store.notifications.updateTarget(b.id, { filter: { minSeverity: 'critical', actions: ['opened'] } });
    expect(store.notifications.enqueueAlert(alertNotice(), NOW)).toBe(0);
    store.notifications.updateTarget(a.id, { enabled: true });
    store.notifications.deleteTarget(b.id, NOW);
    expect(store.notifications.enqueueAlert(alertNotice(), NOW)).toBe(1);
  });

  it('commits or rolls back with the caller’s transaction', () => {
    hook('a');
    expect(() =>
      store.transaction(() => {
        store.notifications.enqueueAlert(alertNotice(), NOW);
        throw new Error('the alert change failed');
      }),
    ).toThrow('the alert change failed');
    expect(store.notifications.counts()).toEqual({ pending: 0, delivered: 0, failed: 0 });
    store.transaction(() => store.notifications.enqueueAlert(alertNotice(), NOW));
    expect(store.notifications.counts().pending).toBe(1);
  });

  it('queues the audit head for every enabled target regardless of filters', () => {
    hook('a', { filter: { rules: ['agent.silent'] } });
    hook('b', { enabled: false });
    expect(store.notifications.enqueueAuditHead({ seq: 41, hash: 'c'.repeat(64), at: '2025-03-04T00:00:00.000Z' }, NOW)).toBe(1);
    expect(store.notifications.listDeliveries({ limit: 5 }).items[0]).toMatchObject({ kind: 'audit-head', eventSeq: 41, payload: { type: 'audit.head', seq: 41 } });
  });
});

describe('claiming and outcomes', () => {
  it('claims per target up to its room, counts the attempt and leases the row', () => {
    const a = hook('a');
    hook('b');
    for (let i = 0; i < 5; i++) store.notifications.enqueueAlert(alertNotice({ cursor: String(100 + i) }), NOW + i);
    const r = store.notifications.claimDue(NOW + 10, { limit: 10, leaseMs: 60_000, room: (id) => (id === a.id ? 2 : 1) });
    expect(r.claimed.map((d) => d.target.name).sort()).toEqual(['a', 'a', 'b']);
    expect(r.claimed.map((d) => d.attempts)).toEqual([1, 1, 1]);
    // Oldest first per target.
    expect(r.claimed.filter((d) => d.target.id === a.id).map((d) => d.payload.type === 'alert' && d.payload.cursor)).toEqual(['100', '101']);
    // Targets with no room left say nothing about when they are due: a finishing send wakes the dispatcher.
    expect(r.nextDueAt).toBeNull();
    // Leased rows are not due again before the lease ends.
    expect(store.notifications.claimDue(NOW + 10, { limit: 10, leaseMs: 60_000, room: () => 0 }).claimed).toHaveLength(0);
    const again = store.notifications.claimDue(NOW + 10, roomy);
    expect(again.claimed).toHaveLength(7);
    expect(again.nextDueAt).toBe(NOW + 10 + 60_000);
    expect(store.notifications.claimDue(NOW + 10 + 60_000, roomy).claimed.map((d) => d.attempts)).toEqual(Array(10).fill(2));
  });

  it('takes turns between targets when the batch limit cuts a round short', () => {
    hook('a');
    hook('b');
    for (let i = 0; i < 4; i++) store.notifications.enqueueAlert(alertNotice({ cursor: String(i + 1) }), NOW);
    const one = () => store.notifications.claimDue(NOW, { limit: 1, leaseMs: 60_000, room: () => 5 });
    const first = one();
    // More may be due: the dispatcher is told to come back at once.
    expect(first.nextDueAt).toBe(NOW);
    const names = [first, one(), one(), one()].map((r) => r.claimed[0]?.target.name);
    expect(names.filter((n) => n === 'a')).toHaveLength(2);
    expect(names[0]).not.toBe(names[1]);
  });

  it('records delivered, retry and failed, keeping the last error visible', () => {
    hook('a');
    store.notifications.enqueueAlert(alertNotice(), NOW);
    const [d] = store.notifications.claimDue(NOW, roomy).claimed;
    if (!d) throw new Error('nothing claimed');
    store.notifications.scheduleRetry(d.id, 'HTTP 500: oops', NOW + 5_000);
    expect(store.notifications.claimDue(NOW + 4_999, roomy).claimed).toHaveLength(0);
    expect(store.notifications.claimDue(NOW + 5_000, roomy).claimed).toHaveLength(1);
    store.notifications.markFailed(d.id, 'connect ECONNREFUSED 127.0.0.1:9');
    const failed = store.notifications.listDeliveries({ limit: 5, status: 'failed' }).items;
    expect(failed).toEqual([expect.objectContaining({ id: d.id, status: 'failed', attempts: 2, lastError: 'connect ECONNREFUSED 127.0.0.1:9', nextAttemptAt: null })]);
    // Once failed, a late retry does not bring it back.
    store.notifications.scheduleRetry(d.id, 'late', NOW);
    expect(store.notifications.getDelivery(d.id)?.status).toBe('failed');
  });

  it('pauses a disabled target (only tests go out) and fails a deleted target’s pending deliveries', () => {
    const a = hook('a');
    store.notifications.enqueueAlert(alertNotice(), NOW);
    store.notifications.updateTarget(a.id, { enabled: false });
    store.notifications.enqueueTest(a.id, 'admin', NOW);
    const r = store.notifications.claimDue(NOW, roomy);
    expect(r.claimed.map((d) => d.payload.type)).toEqual(['test']);
    expect(pendingFor(a.id).n).toBe(2);
    store.notifications.deleteTarget(a.id, NOW);
    expect(pendingFor(a.id).n).toBe(0);
    expect(store.notifications.listDeliveries({ limit: 5, status: 'failed' }).items.map((d) => d.lastError)).toEqual([
      'target deleted before delivery',
      'target deleted before delivery',
    ]);
    expect(store.notifications.getTarget(a.id)).toBeUndefined();
    expect(store.notifications.deleteTarget(a.id, NOW)).toBe(false);
  });

  it('lists deliveries newest first in pages', () => {
    const a = hook('a');
    for (let i = 0; i < 7; i++) store.notifications.enqueueAlert(alertNotice({ cursor: String(i + 1) }), NOW);
    const seen: (number | null)[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = store.notifications.listDeliveries({ limit: 3, targetId: a.id, ...(cursor ? { cursor } : {}) });
      seen.push(...r.items.map((d) => d.eventSeq));
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(() => store.notifications.listDeliveries({ limit: 3, cursor: 'garbage' })).toThrow(VigilError);
    expect(store.notifications.getTarget(a.id)?.deliveries).toEqual({ pending: 7, delivered: 0, failed: 0 });
  });
});
