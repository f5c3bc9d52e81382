// Growth (`npm run bench -- --growth`; alone: `node bench/growth.mjs [--tiers 0,1000000]`): how the
// API and ingest figures change as stored events grow. For each tier (by default 0, 1 M and 10 M
// stored events) on a fresh data dir:
//
// 1. the built collector starts once on the empty dir (its migrations create the schema, the
//    enrolment secret and admin token are set) and stops;
// 2. this process fills the SQLite file directly, in big transactions: a fleet of HOSTS hosts with
//    one agent each and their current state (the same snapshot the ingest bench's hosts send: 4
//    allowed USB devices, 700 approved packages, compliant screen lock, a session), the tier's
//    events in `messages` (one snapshot per host, then the ingest bench's mixed events — 70 %
//    session, 20 % USB, 10 % software — spread over the last 170 days, inside the default 180-day
//    retention), and one alert per 100 events with its history (`alert_events`): 40 % USB, 25 %
//    unapproved software, 15 % unattended terminals, 10 % screen lock, 7 % silent agents, 3 %
//    prohibited software; 92 % of them resolved or auto-resolved, the rest open USB alerts whose
//    devices have been unplugged. One host, a busy kiosk, gets 1 % of all events, nearly all session
//    changes (1 in 1,000 a USB event): host detail's worst case. The `messages` indexes are dropped for the load and rebuilt
//    with the collector's own definitions. Nothing else is changed (no ANALYZE: the collector never
//    runs it);
// 3. the collector starts again on it (start-up time recorded); once it is quiet (its start-up
//    re-evaluation of the fleet done), each API request is timed over REQUESTS sequential calls
//    (p50/p99), the ingest bench's two loads are driven through it (10 new agents each), and EXPLAIN QUERY PLAN (with the
//    query's own time on a read-only connection) is taken for the SQL behind each request;
// 4. the collector stops and the data dir is deleted.
//
// Disk: the free space of the temp dir is checked before each tier and a tier that would not fit
// (with a margin) is scaled down, with a note in the results.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { uuidv7 } from '@vigil/shared';
import { BASE_DEVICES, buildFrames, hostFacts, inventory, mixedEvents, prng, screenlock, session, THIRD_PARTY } from './event-mix.mjs';
import { measureIngest } from './ingest.mjs';
import { ADMIN_TOKEN, median, ROOT, rssBytes, startCollector, stopChild, summarise, tempDir, waitQuiet } from './lib.mjs';

const Database = createRequire(path.join(ROOT, 'collector/package.json'))('better-sqlite3');

const DAY = 86_400_000;
const HISTORY_DAYS = 170;
const SITES = ['lon', 'man', 'edi', 'bri', 'lee', 'gla', 'car', 'bel'];
const GROUPS = ['finance', 'engineering', 'sales', 'hr', 'support', 'legal', 'ops', 'marketing'];
/** One host in 50 is also a kiosk: the rare group the group filter is timed with. */
const KIOSK_EVERY = 50;
/**
 * The first host (a kiosk) gets this share of all events, nearly all session changes: a busy shared
 * terminal whose history is long and whose USB events are rare (host detail's worst case).
 */
const BUSY_SHARE = 0.01;
const RULES = [
  ['usb.unauthorised', 0.4, 'high'],
  ['software.unapproved', 0.25, 'medium'],
  ['terminal.unattended', 0.15, 'low'],
  ['screenlock.noncompliant', 0.1, 'medium'],
  ['agent.silent', 0.07, 'medium'],
  ['software.prohibited', 0.03, 'critical'],
];
const iso = (ms) => (ms === null ? null : new Date(ms).toISOString());

// ---------------------------------------------------------------- fill

function insertHosts(db, hosts, now, rnd) {
  const secretId = db.prepare('SELECT id FROM enrol_secrets ORDER BY created_at LIMIT 1').get()?.id ?? null;
  const insertHost = db.prepare(`INSERT INTO hosts (id, hostname, fqdn, platform, distro, release, arch, kernel, hardware, addresses, users, groups,
    agent_version, enrol_secret_id, first_seen_at, last_seen_at, status, last_goodbye) VALUES (?, ?, ?, 'linux', ?, ?, ?, ?, ?, ?, ?, ?, '0.1.0', ?, ?, ?, 'offline', 'shutdown')`);
  const insertAgent = db.prepare('INSERT INTO agents (id, host_id, token_hash, created_at) VALUES (?, ?, ?, ?)');
  const insertState = db.prepare(`INSERT INTO host_state (host_id, usb, software, screenlock, sessions, usb_at, software_at, screenlock_at, sessions_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  // Software as the collector stores it (migrations 4-5): each distinct item once in software_items
  // (classified by the engine when first judged), each host's inventory one row of item ids.
  const insertItem = db.prepare('INSERT INTO software_items (item, source, name, arch) VALUES (?, ?, ?, ?) ON CONFLICT (item) DO UPDATE SET item = excluded.item RETURNING id');
  const insertInventory = db.prepare('INSERT INTO host_inventories (host_id, item_ids) VALUES (?, ?)');
  const usbJson = JSON.stringify(BASE_DEVICES);
  const softwareMarker = JSON.stringify({ status: 'known' });
  const list = [];
  db.transaction(() => {
    const itemIds = JSON.stringify(inventory().map((i) => insertItem.get(JSON.stringify(i), i.source, i.name, i.arch ?? '').id));
    for (let h = 0; h < hosts; h++) {
      const firstSeen = now - (HISTORY_DAYS + 10 + rnd() * 20) * DAY;
      const id = uuidv7(firstSeen);
      const agentId = uuidv7(firstSeen);
      const f = hostFacts(h);
      const hostname = `${SITES[h % SITES.length]}-${rnd() < 0.7 ? 'lt' : 'dt'}-${String(h).padStart(5, '0')}`;
      const groups = [GROUPS[h % GROUPS.length], ...(h % KIOSK_EVERY === 0 ? ['kiosk'] : [])];
      const lastSeen = now - rnd() * DAY;
      insertHost.run(id, hostname, `${hostname}.corp.example.org`, f.os.distro, f.os.release, f.os.arch, f.os.kernel, JSON.stringify(f.hardware), JSON.stringify(f.addresses), JSON.stringify(f.users), JSON.stringify(groups), secretId, Math.round(firstSeen), Math.round(lastSeen));
      insertAgent.run(agentId, id, crypto.randomBytes(32), Math.round(firstSeen));
      const at = Math.round(lastSeen);
      insertState.run(id, usbJson, softwareMarker, JSON.stringify(screenlock(h)), JSON.stringify([session(h, 0, at)]), at, at, at, at);
      insertInventory.run(id, itemIds);
      list.push({ h, id, agentId, hostname, groups, seq: 0 });
    }
    // Each item's install count, as the ingest path keeps it (migrations 7 and 10).
    db.prepare('INSERT INTO software_installs (item_id, installs) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT (item_id) DO UPDATE SET installs = installs + excluded.installs').run(hosts, itemIds);
  })();
  return list;
}

/** The tier's events: one snapshot per host, then mixed events from a pool, in time order. */
function insertMessages(db, hosts, events, now, rnd, log) {
  const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL").all();
  for (const { name } of indexes) db.exec(`DROP INDEX ${name}`);
  const insert = db.prepare('INSERT INTO messages (id, agent_id, host_id, seq, type, agent_ts, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const start = now - HISTORY_DAYS * DAY;
  // A pool of mixed bodies from 64 hosts' sequences (their contents matter to the USB history only).
  const pool = [];
  for (let k = 0; k < 64; k++) {
    const gen = mixedEvents(k, k + 1, () => start);
    for (let i = 0; i < 2000; i++) {
      const [type, body] = gen.next().value;
      pool.push([type, JSON.stringify(body)]);
    }
  }
  const sessionPool = pool.filter(([type]) => type === 'session.state');
  const usbPool = pool.filter(([type]) => type.startsWith('usb.'));
  const usbJson = JSON.stringify(BASE_DEVICES);
  // As the collector stores a snapshot's software: the ids of its items in software_items.
  const softwareJson = JSON.stringify({ storedAs: 'software_items', ids: JSON.parse(db.prepare('SELECT item_ids FROM host_inventories LIMIT 1').get().item_ids) });
  const snapshots = Math.min(hosts.length, events);
  const busy = hosts[0];
  const rest = events - snapshots;
  const BATCH = 250_000;
  let done = 0;
  const commit = db.transaction((from, to) => {
    for (let i = from; i < to; i++) {
      let host;
      let type;
      let body;
      let at;
      if (i < snapshots) {
        host = hosts[i];
        at = start + Math.floor((i * DAY) / snapshots);
        type = 'snapshot';
        body = `{"host":${JSON.stringify({ ...hostFacts(host.h), hostname: host.hostname })},"usb":${usbJson},"software":${softwareJson},"screenlock":${JSON.stringify(screenlock(host.h))},"sessions":${JSON.stringify([session(host.h, 0, at)])}}`;
      } else {
        const k = i - snapshots;
        at = start + DAY + Math.floor((k * (HISTORY_DAYS * DAY - 2 * DAY)) / Math.max(1, rest));
        if (rnd() < BUSY_SHARE) {
          // The busy kiosk: session changes all day, a USB event once in a thousand.
          host = busy;
          [type, body] = host.seq % 1000 === 999 ? usbPool[host.seq % usbPool.length] : sessionPool[host.seq % sessionPool.length];
        } else {
          host = hosts[1 + Math.floor(rnd() * (hosts.length - 1))];
          [type, body] = pool[(host.h * 7919 + host.seq) % pool.length];
        }
      }
      host.seq++;
      host.lastAt = at;
      insert.run(uuidv7(at), host.agentId, host.id, host.seq, type, at - 40 - (i % 300), at, body);
    }
  });
  for (let from = 0; from < events; from += BATCH) {
    commit(from, Math.min(events, from + BATCH));
    done = Math.min(events, from + BATCH);
    if (done % 1_000_000 === 0 || done === events) log(`growth: ${done.toLocaleString('en')} of ${events.toLocaleString('en')} events stored`);
  }
  const t0 = performance.now();
  for (const { sql } of indexes) db.exec(sql);
  log(`growth: messages indexes rebuilt in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const bump = db.prepare('UPDATE agents SET last_seq = ?, messages_stored = ? WHERE id = ?');
  const seen = db.prepare('UPDATE hosts SET last_seen_at = max(last_seen_at, ?) WHERE id = ?');
  db.transaction(() => {
    for (const h of hosts) {
      bump.run(h.seq, h.seq, h.agentId);
      if (h.lastAt) seen.run(h.lastAt, h.id);
    }
  })();
}

function alertSubjectAndDetails(rule, k, host, rnd) {
  switch (rule) {
    case 'usb.unauthorised': {
      const serial = `SER${String(k).padStart(8, '0')}`;
      const d = { vendorId: '0781', productId: '5581', serial, manufacturer: 'SanDisk', product: 'Ultra', deviceClass: '00', interfaceClasses: ['08'], removable: 'removable', isHub: false, isRootHub: false };
      return [`usb:0781:5581:${serial}`, { ...d, busPaths: ['2-1'], reasons: [`no allow rule or approval in force allows 0781:5581 serial ${serial} (USB is default deny)`], present: false }];
    }
    case 'software.unapproved':
    case 'software.prohibited': {
      const item = THIRD_PARTY[Math.floor(rnd() * THIRD_PARTY.length)];
      const title = rule === 'software.prohibited' ? 'BitTorrent clients' : null;
      return [
        title ?? `dpkg:${item.name}`,
        { title, reason: title ? `matches prohibited title "${title}"` : 'no catalogue title matches and it is not the OS vendor\'s own package', items: [{ name: item.name, version: item.version, source: 'dpkg', publisher: item.publisher, arch: 'amd64' }] },
      ];
    }
    case 'terminal.unattended':
      return [`session:user${host.h}@seat0`, { user: `user${host.h}`, sessionId: '2', seat: 'seat0', type: 'x11', idleSince: '2026-06-01T12:00:00Z', idleSeconds: 1500, thresholdSeconds: 900, message: 'unlocked and idle for 1500 s, longer than the 900 s the screen lock should allow' }];
    case 'screenlock.noncompliant':
      return [`screenlock:user${host.h}@GNOME`, { user: `user${host.h}`, desktop: 'GNOME', breaches: [{ setting: 'idleTimeoutSeconds', value: 1800, limit: 900, message: 'locks after 1800 s idle; the policy allows at most 900 s' }] }];
    default:
      return ['agent', { lastSeenAt: '2026-06-01T12:00:00Z', silentSeconds: 5400, thresholdSeconds: 90, message: 'no report for 5400 s and no goodbye' }];
  }
}

/** `count` alerts over the history window with their change history, 92 % closed. */
function insertAlerts(db, hosts, count, now, rnd) {
  const alerts = [];
  for (let k = 0; k < count; k++) {
    const host = hosts[Math.floor(rnd() * hosts.length)];
    let r = rnd();
    const [rule, , severity] = RULES.find(([, p]) => (r -= p) < 0) ?? RULES[0];
    const [subject, details] = alertSubjectAndDetails(rule, k, host, rnd);
    const first = Math.round(now - (HISTORY_DAYS - 1) * DAY * rnd());
    const last = Math.min(now - 60_000, first + Math.round(rnd() * 3 * DAY));
    const count_ = 1 + Math.floor(rnd() ** 3 * 10);
    const open = rule === 'usb.unauthorised' && rnd() < 0.2;
    const status = open ? (rnd() < 0.25 ? 'acknowledged' : 'open') : rnd() < 0.7 ? 'auto_resolved' : 'resolved';
    const ackAt = status === 'acknowledged' || (status === 'resolved' && rnd() < 0.5) ? Math.min(now - 30_000, last + Math.round(rnd() * DAY)) : null;
    const resolvedAt = open ? null : Math.min(now - 10_000, (ackAt ?? last) + Math.round(rnd() * 2 * DAY));
    const resolution = status === 'auto_resolved' ? 'cleared' : status === 'resolved' ? ['removed', 'approved', 'false_positive', 'fixed'][Math.floor(rnd() * 4)] : null;
    alerts.push({
      id: uuidv7(first),
      rule,
      host_id: host.id,
      hostname: host.hostname,
      subject,
      severity,
      status,
      first_seen_at: first,
      last_seen_at: last,
      count: count_,
      details: JSON.stringify(details),
      acknowledged_by: ackAt ? 'analyst' : null,
      acknowledged_at: ackAt,
      resolution,
      resolved_by: status === 'resolved' ? 'analyst' : status === 'auto_resolved' ? 'policy-engine' : null,
      resolved_at: resolvedAt,
      note: status === 'resolved' ? 'checked with the user' : null,
      updated_at: resolvedAt ?? ackAt ?? last,
    });
  }
  alerts.sort((a, b) => a.first_seen_at - b.first_seen_at);
  const insert = db.prepare(`INSERT INTO alerts (id, rule, host_id, subject, severity, status, first_seen_at, last_seen_at, count, details, monitor_only,
    acknowledged_by, acknowledged_at, resolution, resolved_by, resolved_at, note, updated_at) VALUES (@id, @rule, @host_id, @subject, @severity, @status,
    @first_seen_at, @last_seen_at, @count, @details, 0, @acknowledged_by, @acknowledged_at, @resolution, @resolved_by, @resolved_at, @note, @updated_at)`);
  const events = [];
  const view = (a, status, at) => ({
    id: a.id,
    rule: a.rule,
    hostId: a.host_id,
    hostname: a.hostname,
    subject: a.subject,
    severity: a.severity,
    status,
    firstSeenAt: iso(a.first_seen_at),
    lastSeenAt: iso(Math.min(at, a.last_seen_at)),
    count: a.count,
    details: JSON.parse(a.details),
    monitorOnly: false,
    acknowledgedBy: a.acknowledged_by,
    acknowledgedAt: iso(a.acknowledged_at),
    resolution: status === a.status ? a.resolution : null,
    resolvedBy: status === a.status ? a.resolved_by : null,
    resolvedAt: status === a.status ? iso(a.resolved_at) : null,
    note: a.note,
    updatedAt: iso(at),
    cursor: '0',
  });
  for (const a of alerts) {
    events.push([a.id, a.first_seen_at, 'opened', 'policy-engine', null, view(a, 'open', a.first_seen_at)]);
    if (a.count > 1) events.push([a.id, a.last_seen_at, 'bumped', 'policy-engine', null, view(a, 'open', a.last_seen_at)]);
    if (a.acknowledged_at) events.push([a.id, a.acknowledged_at, 'acknowledged', 'analyst', null, view(a, 'acknowledged', a.acknowledged_at)]);
    if (a.resolved_at) events.push([a.id, a.resolved_at, a.status, a.resolved_by, a.note, view(a, a.status, a.resolved_at)]);
  }
  events.sort((x, y) => x[1] - y[1]);
  const insertEvent = db.prepare('INSERT INTO alert_events (alert_id, at, action, actor, note, alert) VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const a of alerts) insert.run(a);
    for (const [id, at, action, actor, note, alert] of events) insertEvent.run(id, at, action, actor, note, JSON.stringify(alert));
    db.exec('UPDATE alerts SET cursor = (SELECT max(seq) FROM alert_events e WHERE e.alert_id = alerts.id)');
  })();
  return { alerts: alerts.length, alertEvents: events.length, open: alerts.filter((a) => a.status === 'open' || a.status === 'acknowledged').length };
}

/** Fills a migrated, stopped collector's data dir (exported for experiments on the same data). */
export function fill(dataDir, { hosts, events, alerts }, log = () => {}) {
  const t0 = performance.now();
  const db = new Database(path.join(dataDir, 'vigil.db'));
  // A throwaway load: no journal, no fsync, a big cache; WAL again (as the collector left it) at the end.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -1048576');
  db.pragma('temp_store = MEMORY');
  const now = Date.now();
  const rnd = prng(20261123);
  const list = insertHosts(db, hosts, now, rnd);
  if (events > 0) insertMessages(db, list, events, now, rnd, log);
  const a = alerts > 0 ? insertAlerts(db, list, alerts, now, rnd) : { alerts: 0, alertEvents: 0, open: 0 };
  db.pragma('journal_mode = WAL');
  db.close();
  return { hosts, events, ...a, seconds: +((performance.now() - t0) / 1000).toFixed(1), hostIds: list.map((h) => h.id) };
}

// ---------------------------------------------------------------- measure

async function get(url, pathname) {
  const res = await fetch(`${url}${pathname}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${pathname}: ${res.status} ${text.slice(0, 200)}`);
  return { body: text, bytes: Buffer.byteLength(text) };
}

/**
 * `n` sequential requests (after a short warm-up), `pathFor(i)` naming each; fewer (at least 30)
 * if they take longer than `budgetMs` in all.
 */
async function timeRequests(url, pathFor, n, budgetMs = 60_000) {
  for (let i = 0; i < 5; i++) await get(url, pathFor(i));
  const ms = [];
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < n && (i < 30 || performance.now() - t0 < budgetMs); i++) {
    const t0 = performance.now();
    const r = await get(url, pathFor(i));
    ms.push(performance.now() - t0);
    bytes += r.bytes;
  }
  const s = summarise(ms);
  return { p50: s.p50, p99: s.p99, max: s.max, n: s.n, meanResponseBytes: Math.round(bytes / s.n) };
}

/** The cursor of the page `fraction` of the way through a list (walked with the largest pages). */
async function deepCursor(url, base, total, fraction) {
  const limit = Math.min(500, Math.max(50, Math.floor(total / 20)));
  let cursor = null;
  let seen = 0;
  while (seen < total * fraction) {
    const page = JSON.parse((await get(url, `${base}?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).body);
    seen += page.items.length;
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return { cursor, position: seen };
}

/** The SQL behind each timed request, as collector/src/db/*-repository.ts and alerts/host-detail.ts build it. */
const ALERT_LIST = 'SELECT a.*, h.hostname, h.groups FROM alerts a LEFT JOIN hosts h ON h.id = a.host_id';
const HOST_SELECT = `SELECT h.*, a.id AS agent_id, (h.status = 'online') AS agent_connected, a.last_seq, a.messages_stored, a.messages_rejected, a.counters
  FROM hosts h JOIN agents a ON a.id = (SELECT id FROM agents WHERE host_id = h.id ORDER BY created_at DESC LIMIT 1)`;
const queries = (p) => ({
  'alerts: first page': [`${ALERT_LIST} ORDER BY a.id DESC LIMIT @limit`, { limit: 51 }],
  'alerts: deep page (cursor)': [`${ALERT_LIST} WHERE a.id < @cursor ORDER BY a.id DESC LIMIT @limit`, { cursor: p.alertCursor ?? 'ffffffff', limit: 51 }],
  'alerts: ?rule=software.prohibited': [`${ALERT_LIST} WHERE a.rule IN (@rule0) ORDER BY a.id DESC LIMIT @limit`, { rule0: 'software.prohibited', limit: 51 }],
  'alerts: ?status=open': [`${ALERT_LIST} WHERE a.status IN (@status0) ORDER BY a.id DESC LIMIT @limit`, { status0: 'open', limit: 51 }],
  'alerts: ?hostId=': [`${ALERT_LIST} WHERE a.host_id = @hostId ORDER BY a.id DESC LIMIT @limit`, { hostId: p.hostId, limit: 51 }],
  'alerts: ?group=kiosk': [`${ALERT_LIST} WHERE EXISTS (SELECT 1 FROM json_each(h.groups) g WHERE g.value = @group) ORDER BY a.id DESC LIMIT @limit`, { group: 'kiosk', limit: 51 }],
  'host detail: host': [`${HOST_SELECT} WHERE h.id = @hostId`, { hostId: p.hostId }],
  'host detail: USB history': [
    `SELECT type, received_at, body FROM messages WHERE host_id = @hostId AND type IN ('usb.attached', 'usb.detached') ORDER BY received_at DESC, seq DESC LIMIT @limit`,
    { hostId: p.hostId, limit: 100 },
  ],
  'host detail: USB history, busy kiosk': [
    `SELECT type, received_at, body FROM messages WHERE host_id = @hostId AND type IN ('usb.attached', 'usb.detached') ORDER BY received_at DESC, seq DESC LIMIT @limit`,
    { hostId: p.busyHostId, limit: 100 },
  ],
  'host detail: open alerts': ["SELECT * FROM alerts WHERE host_id = @hostId AND status IN ('open', 'acknowledged')", { hostId: p.hostId }],
  'host detail: current state': ['SELECT usb, usb_at, software, software_at, screenlock, screenlock_at, sessions, sessions_at FROM host_state WHERE host_id = @hostId', { hostId: p.hostId }],
  'host detail: software inventory': [
    'SELECT i.item, i.status FROM host_inventories v, json_each(v.item_ids) j JOIN software_items i ON i.id = j.value WHERE v.host_id = @hostId',
    { hostId: p.hostId },
  ],
  'hosts: first page': [`${HOST_SELECT} ORDER BY h.hostname COLLATE NOCASE, h.id LIMIT @limit`, { limit: 51 }],
  'engine tick (every 10 s): idle sessions': [`SELECT host_id FROM host_state WHERE sessions LIKE '%"idle":true%'`, {}],
  'retention purge: expired messages': ['SELECT id FROM messages WHERE received_at < @before LIMIT 5000', { before: Date.now() - 180 * DAY }],
  'retention purge: expired alert changes': [
    `SELECT e.seq FROM alert_events e JOIN alerts a ON a.id = e.alert_id WHERE a.status IN ('resolved', 'auto_resolved') AND a.updated_at < @before LIMIT 5000`,
    { before: Date.now() - 180 * DAY },
  ],
  'retention purge: expired alerts': [
    `SELECT a.id FROM alerts a WHERE a.status IN ('resolved', 'auto_resolved') AND a.updated_at < @before AND NOT EXISTS (SELECT 1 FROM alert_events e WHERE e.alert_id = a.id) LIMIT 5000`,
    { before: Date.now() - 180 * DAY },
  ],
});

/** EXPLAIN QUERY PLAN and the median time of each query on a read-only connection. */
function plans(file, p) {
  const db = new Database(file, { readonly: true });
  try {
    const out = {};
    for (const [name, [sql, params]] of Object.entries(queries(p))) {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params);
      const depth = new Map([[0, -1]]);
      const lines = plan.map((r) => {
        const d = (depth.get(r.parent) ?? -1) + 1;
        depth.set(r.id, d);
        return `${'  '.repeat(d)}${r.detail}`;
      });
      const stmt = db.prepare(sql);
      const times = [];
      let rows = 0;
      for (let i = 0; i < 15; i++) {
        const t0 = performance.now();
        rows = stmt.all(params).length;
        times.push(performance.now() - t0);
      }
      out[name] = { plan: lines, medianMs: +median(times).toFixed(3), rows };
    }
    // How much of a host's history the USB-history query may walk to find its 100 rows.
    for (const [name, hostId] of [['host detail: USB history', p.hostId], ['host detail: USB history, busy kiosk', p.busyHostId]]) {
      out[name].hostMessages = db.prepare('SELECT count(*) AS n FROM messages WHERE host_id = ?').get(hostId).n;
      out[name].hostUsbMessages = db.prepare("SELECT count(*) AS n FROM messages WHERE host_id = ? AND type IN ('usb.attached', 'usb.detached')").get(hostId).n;
    }
    return out;
  } finally {
    db.close();
  }
}

function dirBytes(dir) {
  return fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

function freeBytes(dir) {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

async function measureTier(tier, opts, ingestFrames, log) {
  const dir = tempDir(`growth-${tier.events}`);
  try {
    const first = await startCollector(dir);
    await stopChild(first.child);
    log(`growth: filling ${tier.events.toLocaleString('en')} events, ${tier.alerts.toLocaleString('en')} alerts, ${opts.hosts.toLocaleString('en')} hosts`);
    const filled = fill(dir, { hosts: opts.hosts, events: tier.events, alerts: tier.alerts }, log);
    const dbBytes = dirBytes(dir);
    log(`growth: filled in ${filled.seconds} s (${(dbBytes / 2 ** 30).toFixed(2)} GiB); starting the collector on it`);
    const collector = await startCollector(dir);
    try {
      const settleSeconds = await waitQuiet(collector.pid, { timeoutMs: 600_000 });
      log(`growth: collector up in ${collector.startMs} ms, quiet after ${settleSeconds} s`);
      const rnd = prng(7);
      const sample = Array.from({ length: opts.requests }, () => filled.hostIds[Math.floor(rnd() * filled.hostIds.length)]);
      const url = collector.url;
      const alertsDeep = tier.alerts > 0 ? await deepCursor(url, '/api/v1/alerts', tier.alerts, 0.9) : { cursor: null, position: 0 };
      const hostsDeep = await deepCursor(url, '/api/v1/hosts', opts.hosts, 0.9);
      const n = opts.requests;
      const api = {};
      const time = async (name, pathFor, note) => {
        api[name] = { ...(await timeRequests(url, pathFor, n)), ...(note ? { note } : {}) };
        log(`growth ${tier.events.toLocaleString('en')}: ${name} p50 ${api[name].p50} ms p99 ${api[name].p99} ms`);
      };
      await time('GET /api/v1/alerts', () => '/api/v1/alerts?limit=50', 'first page');
      if (alertsDeep.cursor) await time('GET /api/v1/alerts?cursor=…', () => `/api/v1/alerts?limit=50&cursor=${alertsDeep.cursor}`, `the page after alert ${alertsDeep.position.toLocaleString('en')}`);
      await time('GET /api/v1/alerts?rule=software.prohibited', () => '/api/v1/alerts?limit=50&rule=software.prohibited', '3 % of alerts');
      await time('GET /api/v1/alerts?status=open', () => '/api/v1/alerts?limit=50&status=open');
      await time('GET /api/v1/alerts?hostId=…', (i) => `/api/v1/alerts?limit=50&hostId=${sample[i % sample.length]}`, `${n} hosts in turn`);
      await time('GET /api/v1/alerts?group=kiosk', () => '/api/v1/alerts?limit=50&group=kiosk', `1 host in ${KIOSK_EVERY}`);
      await time('GET /api/v1/hosts/:id', (i) => `/api/v1/hosts/${sample[i % sample.length]}`, `host detail, ${n} hosts in turn`);
      await time('GET /api/v1/hosts/:id (busy kiosk)', () => `/api/v1/hosts/${filled.hostIds[0]}`, `the one host with ${BUSY_SHARE * 100} % of all events, 1 in 1,000 of them USB`);
      await time('GET /api/v1/hosts', () => '/api/v1/hosts?limit=50', 'first page');
      if (hostsDeep.cursor) await time('GET /api/v1/hosts?cursor=…', () => `/api/v1/hosts?limit=50&cursor=${encodeURIComponent(hostsDeep.cursor)}`, `the page after host ${hostsDeep.position.toLocaleString('en')}`);
      const queryPlans = plans(path.join(dir, 'vigil.db'), { alertCursor: alertsDeep.cursor, hostId: sample[0], busyHostId: filled.hostIds[0] });
      const ingest = {};
      for (const [load, frames] of Object.entries(ingestFrames)) {
        const r = await measureIngest(collector, 'vigil', frames, opts.ingest.window, { namePrefix: `growth-${load}`, countAlerts: false });
        ingest[load] = { eventsPerSecond: r.eventsPerSecond, events: r.events, seconds: r.seconds, collectorCpuMicrosecondsPerEvent: r.serverCpuMicrosecondsPerEvent, collectorCpuPercentOfOneCore: r.serverCpuPercentOfOneCore };
        log(`growth ${tier.events.toLocaleString('en')}: ingest, ${load} load: ${r.eventsPerSecond.toLocaleString('en')} events/s`);
      }
      return {
        ...tier,
        filled: { hosts: filled.hosts, events: filled.events, alerts: filled.alerts, alertEvents: filled.alertEvents, openAlerts: filled.open, fillSeconds: filled.seconds },
        databaseGiB: +(dbBytes / 2 ** 30).toFixed(2),
        collectorStartMs: collector.startMs,
        settleSeconds,
        api,
        ingest,
        collectorRssMiB: +(rssBytes(collector.pid) / 2 ** 20).toFixed(1),
        queries: queryPlans,
      };
    } finally {
      await stopChild(collector.child);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchGrowth({ tiers = [0, 1_000_000, 10_000_000], hosts = 10_000, alertsPerEvent = 0.01, requests = 300, ingest = { agents: 10, perAgent: 2000, window: 500 }, log = () => {} } = {}) {
  const ingestFrames = Object.fromEntries(['session', 'mixed'].map((load) => [load, Array.from({ length: ingest.agents }, (_, i) => buildFrames(load, i, ingest.perAgent))]));
  const notes = [];
  const results = [];
  // Bytes per stored event with its indexes, and per host (its state and snapshot): refined after each tier.
  let perEvent = 700;
  const perHost = 250_000;
  for (const wanted of tiers) {
    const free = freeBytes(os.tmpdir());
    let events = wanted;
    const need = (e) => e * perEvent + hosts * perHost;
    if (need(events) > free * 0.6) {
      events = Math.max(0, Math.floor((free * 0.6 - hosts * perHost) / perEvent / 100_000) * 100_000);
      notes.push(`${wanted.toLocaleString('en')} events would need about ${(need(wanted) / 2 ** 30).toFixed(1)} GiB of the ${(free / 2 ** 30).toFixed(1)} GiB free in ${os.tmpdir()}: scaled down to ${events.toLocaleString('en')}`);
      log(`growth: ${notes.at(-1)}`);
    }
    const tier = { events, alerts: Math.round(events * alertsPerEvent), freeGiBBefore: +(free / 2 ** 30).toFixed(1) };
    const r = await measureTier(tier, { hosts, requests, ingest }, ingestFrames, log);
    if (events > 0) perEvent = Math.max(300, (r.databaseGiB * 2 ** 30 - hosts * perHost) / events) * 1.2;
    results.push(r);
  }
  return { hosts, alertsPerEvent, requests, ingest, notes, tiers: results };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--tiers');
  const tiers = i > 0 ? process.argv[i + 1].split(',').map(Number) : undefined;
  const j = process.argv.indexOf('--hosts');
  const hosts = j > 0 ? Number(process.argv[j + 1]) : undefined;
  const r = await benchGrowth({ ...(tiers ? { tiers } : {}), ...(hosts ? { hosts } : {}), log: (m) => console.error(m) });
  console.log(JSON.stringify(r, null, 2));
}
