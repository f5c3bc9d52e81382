import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostListItem, listEnvelope, Overview, uuidv7 } from '@vigil/shared';
import { ADMIN_TOKEN, hostFacts, startHarness, type Harness } from '../test-support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h.close());

const DAY = 86_400_000;

function alert(hostId: string | null, rule: string, firstSeenAt: number, resolvedAt: number | null) {
  h.store.db
    .prepare(
      `INSERT INTO alerts (id, rule, host_id, subject, severity, status, first_seen_at, last_seen_at, updated_at, resolved_at)
       VALUES (?, ?, ?, ?, 'high', ?, ?, ?, ?, ?)`,
    )
    .run(uuidv7(), rule, hostId, `s-${uuidv7()}`, resolvedAt === null ? 'open' : 'resolved', firstSeenAt, firstSeenAt, resolvedAt ?? firstSeenAt, resolvedAt);
}

describe('GET /api/v1/overview', () => {
  it('counts hosts in breach per rule, and open alerts at the end of each day', async () => {
    const a = await h.enrol(hostFacts({ hostname: 'a' }));
    const b = await h.enrol(hostFacts({ hostname: 'b' }));
    await h.enrol(hostFacts({ hostname: 'c' }));
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY;
    alert(a.hostId, 'usb.unauthorised', today - 2 * DAY - 1000, null); // open for three day ends
    alert(a.hostId, 'usb.unauthorised', today - DAY - 1000, today - 1000); // open at the first day end only: resolved before yesterday ended
    alert(b.hostId, 'software.unapproved', today + 1, null); // opened today
    alert(b.hostId, 'software.unapproved', today - 40 * DAY, today - 30 * DAY); // before the window

    const res = await h.app.inject({ url: '/api/v1/overview?days=3', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.statusCode).toBe(200);
    const o = Overview.parse(res.json());
    expect(o.hosts).toEqual({ total: 3, online: 0, withOpenAlerts: 2 });
    expect(o.compliance.find((c) => c.rule === 'usb.unauthorised')).toEqual({ rule: 'usb.unauthorised', hostsInBreach: 1, rate: 2 / 3 });
    expect(o.compliance.find((c) => c.rule === 'screenlock.noncompliant')).toEqual({ rule: 'screenlock.noncompliant', hostsInBreach: 0, rate: 1 });
    const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
    expect(o.openAlertsByDay).toEqual([
      { day: iso(today - 2 * DAY), counts: { 'usb.unauthorised': 2 } },
      { day: iso(today - DAY), counts: { 'usb.unauthorised': 1 } },
      { day: iso(today), counts: { 'usb.unauthorised': 1, 'software.unapproved': 1 } },
    ]);
  });

  it('GET /api/v1/hosts shows each host\'s open alerts, in all and by rule', async () => {
    const a = await h.enrol(hostFacts({ hostname: 'a' }));
    await h.enrol(hostFacts({ hostname: 'b' }));
    const now = Date.now();
    alert(a.hostId, 'usb.unauthorised', now - 1000, null);
    alert(a.hostId, 'usb.unauthorised', now - 900, null);
    alert(a.hostId, 'screenlock.noncompliant', now - 800, null);
    alert(a.hostId, 'software.unapproved', now - 5000, now - 100); // resolved
    const res = await h.app.inject({ url: '/api/v1/hosts', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const items = listEnvelope(HostListItem).parse(res.json()).items;
    expect(items.map((i) => [i.hostname, i.openAlerts, i.openAlertsByRule])).toEqual([
      ['a', 3, { 'usb.unauthorised': 2, 'screenlock.noncompliant': 1 }],
      ['b', 0, {}],
    ]);
  });

  it('is for signed-in principals only and checks its window', async () => {
    expect((await h.app.inject({ url: '/api/v1/overview' })).statusCode).toBe(401);
    expect((await h.app.inject({ url: '/api/v1/overview?days=400', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).statusCode).toBe(400);
  });
});
