import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../policy/finding.js';
import { AlertLifecycle } from '../alerts/alert-lifecycle.js';
import { openStore, type Store } from '../db/store.js';
import { hostFacts } from '../test-support/harness.js';
import { purgeExpired } from './retention.js';

const DAY = 86_400_000;
let dir: string;
let store: Store;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-retention-'));
  store = openStore({ dataDir: dir, silentAfterMs: 60_000 });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const finding = (subject: string): Finding => ({ rule: 'usb.unauthorised', subject, severity: 'high', details: {} });

describe('purgeExpired', () => {
  it('deletes old messages, closed alerts and their history, and keeps open alerts and the audit chain whole', () => {
    const now = Date.UTC(2026, 10, 23);
    const old = now - 200 * DAY;
    const hostId = store.hosts.create(hostFacts(), [], null, old);
    const insert = store.db.prepare(`INSERT INTO messages (id, agent_id, host_id, seq, type, agent_ts, received_at, body) VALUES (?, 'a', ?, ?, 'usb.attached', 0, ?, '{}')`);
    for (let i = 0; i < 12_000; i++) insert.run(`old-${i}`, hostId, i, old);
    insert.run('new', hostId, 99_999, now);

    const lifecycle = new AlertLifecycle(store.alerts, { audit: (e, at) => void store.audit.append(e, at) });
    const scope = { hostId, hostname: 'ws', groups: [], rules: ['usb.unauthorised' as const] };
    store.transaction(() => lifecycle.reconcile(scope, [finding('usb:old-open'), finding('usb:old-closed')], { now: old, monitorOnly: false }));
    store.transaction(() => lifecycle.reconcile(scope, [finding('usb:old-open')], { now: old + 1, monitorOnly: false }));
    store.transaction(() => lifecycle.reconcile(scope, [finding('usb:old-open'), finding('usb:recent')], { now: now - DAY, monitorOnly: false }));
    const auditBefore = store.audit.head();

    const purged = purgeExpired(store, 180, now);
    expect(purged).toMatchObject({ messages: 12_000, alerts: 1, alertEvents: 2 });
    expect((store.db.prepare('SELECT id FROM messages').all() as { id: string }[]).map((r) => r.id)).toEqual(['new']);
    const left = store.db.prepare('SELECT subject, status FROM alerts ORDER BY subject').all();
    expect(left).toEqual([
      { subject: 'usb:old-open', status: 'open' },
      { subject: 'usb:recent', status: 'open' },
    ]);
    const openId = (store.db.prepare(`SELECT id FROM alerts WHERE subject = 'usb:old-open'`).get() as { id: string }).id;
    expect(store.alerts.historyOf(openId).map((e) => e.action)).toEqual(['opened']);
    expect(store.audit.head()).toEqual(auditBefore);
    expect(store.audit.verify()).toMatchObject({ ok: true });
  });
});
