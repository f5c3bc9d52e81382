import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Alert, AlertFeedFrame, Host, HostDetail, listEnvelope, UsbApproval } from '@vigil/shared';
import { addSysfsDevice, loadSysfsFixture, makeSysfsRoot, removeSysfsDevice, type SysfsDevice } from '../agent/src/probes/usb/test-support/sysfs-tree.js';
import { cleanedAfterEach } from './support/cleanup.js';
import { ADMIN_TOKEN, api, freePort, startAgent, startCollector, until, type CollectorProc, type Proc } from './support/processes.js';

/**
 * The policy engine seen from outside: a real collector and real agents as child processes, the
 * agents reading a sysfs tree and a copy of this machine's dpkg database that the test edits, and
 * every check made through the collector's REST API and its live alert feed.
 */

const { procs, feeds, scratch } = cleanedAfterEach();

const hostList = listEnvelope(Host);
const alertList = listEnvelope(Alert);

// --- the live feed

interface Feed {
  frames: AlertFeedFrame[];
  /** Resolves with the first frame (in arrival order) matching, waiting at most `timeoutMs`. */
  next(pred: (f: AlertFeedFrame) => boolean, timeoutMs?: number): Promise<AlertFeedFrame>;
}

async function openFeed(collector: CollectorProc, query: string): Promise<Feed> {
  const ws = new WebSocket(`${collector.url.replace(/^http/, 'ws')}/api/v1/alerts/stream?${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  feeds.push(ws);
  const frames: AlertFeedFrame[] = [];
  ws.on('message', (d) => frames.push(AlertFeedFrame.parse(JSON.parse(String(d)))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`feed refused: ${res.statusCode}`)));
  });
  return {
    frames,
    next: (pred, timeoutMs = 10_000) => until(async () => frames.find(pred), timeoutMs, 20),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- API helpers

async function onlyHost(collector: CollectorProc): Promise<Host> {
  return until(async () => hostList.parse((await api(collector.url, '/api/v1/hosts')).body).items[0]);
}

async function hostDetail(collector: CollectorProc, id: string): Promise<HostDetail> {
  return HostDetail.parse((await api(collector.url, `/api/v1/hosts/${id}`)).body);
}

async function alerts(collector: CollectorProc, query: string): Promise<Alert[]> {
  const { status, body } = await api(collector.url, `/api/v1/alerts?limit=500&${query}`);
  expect(status).toBe(200);
  return alertList.parse(body).items;
}

async function putPolicy(collector: CollectorProc, yaml: string): Promise<void> {
  const res = await api(collector.url, '/api/v1/policy', { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: yaml });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

// --- USB: devices from real sysfs captures

/** The SanDisk stick of `sandisk-stick.json` and the hubs it sits behind. */
async function sandisk(): Promise<{ hubs: SysfsDevice[]; stick: SysfsDevice }> {
  const fixture = await loadSysfsFixture('sandisk-stick.json');
  const stick = fixture.devices.find((d) => d.attrs.idVendor === '0781');
  if (!stick) throw new Error('fixture has no stick');
  return { hubs: fixture.devices.filter((d) => d !== stick), stick };
}

/** The same stick (same vendor, product and serial, so the same device key) in another port of the hub. */
function atPort(stick: SysfsDevice, busPath: string): SysfsDevice {
  const from = path.basename(stick.path);
  return {
    ...stick,
    path: path.join(path.dirname(stick.path), busPath),
    interfaces: Object.fromEntries(Object.entries(stick.interfaces ?? {}).map(([name, attrs]) => [name.replace(from, busPath), attrs])),
  };
}

// --- software: a copy of this machine's dpkg database

const REAL_DPKG_STATUS = '/var/lib/dpkg/status';

/** A dpkg status stanza as dpkg writes one for an installed package. */
function stanza(p: { name: string; version: string; maintainer: string; description: string }): string {
  return [
    `Package: ${p.name}`,
    'Status: install ok installed',
    'Priority: optional',
    'Section: misc',
    'Installed-Size: 2048',
    `Maintainer: ${p.maintainer}`,
    'Architecture: amd64',
    `Version: ${p.version}`,
    `Description: ${p.description}`,
    ' Added by the Vigil end-to-end test.',
    '',
  ].join('\n');
}

const ACME_SYNC = stanza({ name: 'acme-sync', version: '2.4.1-1', maintainer: 'Acme Software Ltd <packages@acme.example>', description: 'Acme file sync client' });
// transmission-gtk as Debian ships it: an OS vendor package, which a prohibited title must still catch.
const TRANSMISSION = stanza({
  name: 'transmission-gtk',
  version: '3.00-2.1',
  maintainer: 'Debian Transmission Maintainers <pkg-transmission@lists.debian.org>',
  description: 'lightweight BitTorrent client (GTK+ interface)',
});
const ACME_CAD = stanza({ name: 'acme-cad', version: '11.2-3', maintainer: 'Acme Software Ltd <packages@acme.example>', description: 'Acme CAD workstation' });

class DpkgDatabase {
  readonly statusPath: string;
  private readonly original: string;
  private extra: string[] = [];

  constructor(dir: string) {
    this.statusPath = path.join(dir, 'status');
    this.original = fs.readFileSync(REAL_DPKG_STATUS, 'utf8');
    this.write();
  }

  install(s: string): void {
    this.extra.push(s);
    this.write();
  }

  remove(s: string): void {
    this.extra = this.extra.filter((x) => x !== s);
    this.write();
  }

  /** Rewritten whole and renamed into place, as dpkg does. */
  private write(): void {
    const base = this.original.endsWith('\n\n') ? this.original : `${this.original.replace(/\n*$/, '')}\n\n`;
    const tmp = `${this.statusPath}-new`;
    fs.writeFileSync(tmp, base + this.extra.join('\n'));
    fs.renameSync(tmp, this.statusPath);
  }
}

async function softwareAgent(collector: CollectorProc, dpkg: DpkgDatabase): Promise<Proc> {
  const agent = startAgent({
    stateDir: scratch('agent'),
    url: collector.url,
    // An empty USB bus, so only software is judged.
    env: { VIGIL_SYSFS_ROOT: await makeSysfsRoot(), VIGIL_DPKG_STATUS: dpkg.statusPath, VIGIL_SOFTWARE_CHECK_SECONDS: '1' },
  });
  procs.push(agent);
  return agent;
}

describe('alerts raised by the policy engine, seen through the API and the live feed', () => {
  it('usb.unauthorised: one alert per unapproved stick, kept open when unplugged, bumped when it comes back, resolved by an approval', async () => {
    const { hubs, stick } = await sandisk();
    const key = `usb:${stick.attrs.idVendor}:${stick.attrs.idProduct}:${stick.attrs.serial}`;
    const sysfs = await makeSysfsRoot();
    for (const hub of hubs) await addSysfsDevice(sysfs, hub);
    const collector = await startCollector({ dataDir: scratch('collector'), port: await freePort() });
    procs.push(collector);
    const feed = await openFeed(collector, 'rule=usb.unauthorised');
    const agent = startAgent({ stateDir: scratch('agent'), url: collector.url, env: { VIGIL_SYSFS_ROOT: sysfs } });
    procs.push(agent);
    const host = await onlyHost(collector);
    // The hubs are reported and allowed (usb.allowHubs): nothing is raised for them.
    await until(async () => (await hostDetail(collector, host.id)).usb.present.length === hubs.length, 15_000);
    /** Until the collector has stored `n` events of this kind from the agent. */
    const usbEvents = async (event: 'attached' | 'detached', n: number) =>
      until(async () => (await hostDetail(collector, host.id)).usb.history.filter((e) => e.event === event).length === n, 10_000);

    // Plugged in: exactly one alert, opened once.
    await addSysfsDevice(sysfs, stick);
    const opened = await feed.next((f) => f.action === 'opened' && f.alert.subject === key);
    expect(opened.alert).toMatchObject({ rule: 'usb.unauthorised', hostId: host.id, status: 'open', count: 1, severity: 'high' });
    expect(opened.alert.details).toMatchObject({ vendorId: '0781', productId: '5581', busPaths: ['1-1.2'] });
    await sleep(2_500); // more than two polls of the agent
    expect(feed.frames).toHaveLength(1);
    expect(await alerts(collector, 'rule=usb.unauthorised&status=open')).toHaveLength(1);

    // The same device key at a second port while the alert is open: the alert is bumped, not doubled.
    await addSysfsDevice(sysfs, atPort(stick, '1-1.3'));
    const bumped = await feed.next((f) => f.action === 'bumped');
    expect(bumped.alert).toMatchObject({ id: opened.alert.id, status: 'open', count: 2 });
    expect(bumped.alert.details.busPaths).toEqual(['1-1.2', '1-1.3']);

    // One of the two unplugged: the breach still holds; the alert stays open and says where it is now.
    await removeSysfsDevice(sysfs, atPort(stick, '1-1.3'));
    const moved = await feed.next((f) => f.action === 'updated');
    expect(moved.alert).toMatchObject({ id: opened.alert.id, status: 'open', count: 2, details: { busPaths: ['1-1.2'], present: true } });

    // Both gone: still an incident (a stick used for ten seconds is one). The alert stays open,
    // marked no longer present; its lastSeenAt stays when it was last attached.
    await removeSysfsDevice(sysfs, stick);
    const unplugged = await feed.next((f) => f.action === 'updated' && f.alert.details.present === false);
    expect(unplugged.alert).toMatchObject({ id: opened.alert.id, status: 'open', count: 2, lastSeenAt: moved.alert.lastSeenAt });

    // Plugged in again: the same alert, bumped.
    await addSysfsDevice(sysfs, stick);
    const again = await feed.next((f) => f.action === 'bumped' && f.alert.count === 3);
    expect(again.alert).toMatchObject({ id: opened.alert.id, status: 'open', details: { present: true } });
    expect(await alerts(collector, 'rule=usb.unauthorised')).toHaveLength(1);

    // Approved from the alert: resolved as approved, on the feed.
    const approval = await api<UsbApproval>(collector.url, '/api/v1/usb/approvals', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ alertId: opened.alert.id, reason: 'Finance backup stick, ticket 4711' }),
    });
    expect(approval.status).toBe(201);
    expect(UsbApproval.parse(approval.body)).toMatchObject({ deviceKey: key, scope: { hostId: host.id }, active: true });
    const resolved = await feed.next((f) => f.action === 'resolved');
    expect(resolved.alert).toMatchObject({ id: opened.alert.id, status: 'resolved', resolution: 'approved', resolvedBy: 'first-run admin', count: 3 });
    expect(resolved.alert.note).toContain('ticket 4711');

    // Approved, it can come and go without raising anything.
    await removeSysfsDevice(sysfs, stick);
    await usbEvents('detached', 3);
    await addSysfsDevice(sysfs, stick);
    await usbEvents('attached', 4);
    await sleep(500);
    expect(feed.frames.map((f) => f.action)).toEqual(['opened', 'bumped', 'updated', 'updated', 'bumped', 'resolved']);
    expect(await alerts(collector, 'rule=usb.unauthorised&status=open')).toHaveLength(0);
  });

  it('software.unapproved and software.prohibited follow the dpkg database, and a policy change re-judges without the agent', async () => {
    const collector = await startCollector({
      dataDir: scratch('collector'),
      port: await freePort(),
      // No heartbeat during the test, so "no new agent message" can be checked exactly.
      env: { VIGIL_HEARTBEAT_SECONDS: '3600' },
    });
    procs.push(collector);
    const policy = `software:
  titles:
    - { title: "BitTorrent clients", match: { name: ["*torrent*", "transmission-*"] }, status: prohibited }
`;
    await putPolicy(collector, policy);
    const feed = await openFeed(collector, 'rule=software.unapproved,software.prohibited');
    const dpkg = new DpkgDatabase(scratch('dpkg'));
    await softwareAgent(collector, dpkg);
    const host = await onlyHost(collector);
    await until(async () => (await hostDetail(collector, host.id)).software.status === 'known', 15_000);
    const forSubject = (subject: string) => feed.frames.filter((f) => f.alert.subject === subject);

    // A package no title covers, from a maintainer that is not the OS vendor.
    dpkg.install(ACME_SYNC);
    const unapproved = await feed.next((f) => f.action === 'opened' && f.alert.subject === 'dpkg:acme-sync');
    expect(unapproved.alert).toMatchObject({ rule: 'software.unapproved', hostId: host.id, severity: 'medium', count: 1 });
    expect(unapproved.alert.details.items).toEqual([{ name: 'acme-sync', version: '2.4.1-1', source: 'dpkg', publisher: 'Acme Software Ltd <packages@acme.example>', arch: 'amd64' }]);

    // A package a prohibited title matches, even though Debian maintains it.
    dpkg.install(TRANSMISSION);
    const prohibited = await feed.next((f) => f.action === 'opened' && f.alert.subject === 'BitTorrent clients');
    expect(prohibited.alert).toMatchObject({ rule: 'software.prohibited', hostId: host.id, severity: 'critical' });
    expect((prohibited.alert.details.items as { name: string }[]).map((i) => i.name)).toEqual(['transmission-gtk']);

    // Removed from the database: both clear by themselves.
    dpkg.remove(ACME_SYNC);
    dpkg.remove(TRANSMISSION);
    for (const subject of ['dpkg:acme-sync', 'BitTorrent clients']) {
      const f = await feed.next((x) => x.action === 'auto_resolved' && x.alert.subject === subject);
      expect(f.alert).toMatchObject({ status: 'auto_resolved', resolution: 'cleared' });
    }
    expect(forSubject('dpkg:acme-sync').map((f) => f.action)).toEqual(['opened', 'auto_resolved']);
    expect(forSubject('BitTorrent clients').map((f) => f.action)).toEqual(['opened', 'auto_resolved']);

    // Installed again, then approved in the catalogue: the alert clears with no new message from the agent.
    dpkg.install(ACME_SYNC);
    const again = await feed.next((f) => f.action === 'opened' && f.alert.subject === 'dpkg:acme-sync' && f.alert.id !== unapproved.alert.id);
    await sleep(1_500); // let the agent settle (its software check runs every second)
    const before = (await hostDetail(collector, host.id)).agent.messagesStored;
    await putPolicy(collector, `${policy}    - { title: "Acme Sync", match: { name: acme-sync, source: [dpkg] }, status: approved }\n`);
    const clearedByPolicy = await feed.next((f) => f.action === 'auto_resolved' && f.alert.id === again.alert.id);
    expect(clearedByPolicy.alert).toMatchObject({ status: 'auto_resolved', resolution: 'cleared', resolvedBy: 'policy-engine' });
    const after = await hostDetail(collector, host.id);
    expect(after.agent.messagesStored).toBe(before);
    expect(after.software.items.find((i) => i.name === 'acme-sync')).toMatchObject({ status: 'approved', title: 'Acme Sync' });
    expect((await alerts(collector, 'status=open')).filter((a) => a.subject === 'dpkg:acme-sync' || a.subject === 'BitTorrent clients')).toHaveLength(0);
  });

  it('licence.over_deployed counts installs across agents exactly and clears when they fit the seats', async () => {
    const collector = await startCollector({ dataDir: scratch('collector'), port: await freePort() });
    procs.push(collector);
    await putPolicy(
      collector,
      `software:
  titles:
    - { title: "Acme CAD", match: { name: acme-cad, source: [dpkg] }, status: licensed, seats: 2 }
`,
    );
    const feed = await openFeed(collector, 'rule=licence.over_deployed');
    const dbs = [0, 1, 2, 3].map(() => new DpkgDatabase(scratch('dpkg')));
    for (const db of dbs) db.install(ACME_CAD);
    await Promise.all(dbs.map((db) => softwareAgent(collector, db)));
    const hosts = await until(async () => {
      const page = hostList.parse((await api(collector.url, '/api/v1/hosts')).body);
      return page.items.length === 4 && page.items;
    }, 15_000);

    type Details = { seats: number; installs: number; overBy: number; hosts: { id: string }[]; hostsNotShown: number };
    const overDeployed = async (pred: (d: Details) => boolean) =>
      until(async () => {
        const [a] = await alerts(collector, 'rule=licence.over_deployed&status=open');
        return a && pred(a.details as Details) && a;
      }, 15_000);

    // Four installs for two seats.
    const four = await overDeployed((d) => d.installs === 4);
    expect(four).toMatchObject({ hostId: null, subject: 'Acme CAD', severity: 'medium' });
    expect(four.details).toMatchObject({ seats: 2, installs: 4, overBy: 2, hostsNotShown: 0 });
    expect((four.details as Details).hosts.map((h) => h.id).sort()).toEqual(hosts.map((h) => h.id).sort());
    await sleep(1_500); // the agents' next software checks change nothing
    expect(await alerts(collector, 'rule=licence.over_deployed')).toMatchObject([{ id: four.id, details: { seats: 2, installs: 4, overBy: 2 } }]);

    // Uninstalled on one machine: three for two, still the same open alert.
    dbs[3]?.remove(ACME_CAD);
    const three = await overDeployed((d) => d.installs === 3);
    expect(three).toMatchObject({ id: four.id, details: { seats: 2, installs: 3, overBy: 1 } });
    expect((three.details as Details).hosts).toHaveLength(3);
    // …and the live feed was told (an update of the same alert, not a new one).
    await feed.next((f) => f.action === 'updated' && (f.alert.details as Details).installs === 3);

    // Uninstalled on a second: two for two, cleared by itself.
    dbs[2]?.remove(ACME_CAD);
    const cleared = await feed.next((f) => f.action === 'auto_resolved');
    expect(cleared.alert).toMatchObject({ id: four.id, status: 'auto_resolved', resolution: 'cleared' });
    expect(await alerts(collector, 'rule=licence.over_deployed&status=open')).toHaveLength(0);
    expect(feed.frames.filter((f) => f.action === 'opened')).toHaveLength(1);
  });
});
