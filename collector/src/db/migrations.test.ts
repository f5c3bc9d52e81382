import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from './database.js';
import { HostStateRepository } from './host-state-repository.js';
import { itemHash } from './item-hash.js';
import { MIGRATIONS } from './migrations.js';

describe('migration 3', () => {
  it('moves JSON inventories into host_software rows, flags idle sessions, and keeps unknown inventories as they were', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = OFF'); // host_state rows without hosts rows, for brevity
    migrate(db, MIGRATIONS.filter((m) => m.version <= 2));
    const items = [
      { name: 'bash', version: '5.2', source: 'dpkg', arch: 'amd64' },
      { name: 'Office', version: '16', source: 'registry' },
    ];
    db.prepare('INSERT INTO host_state (host_id, software, sessions) VALUES (?, ?, ?)').run('h1', JSON.stringify(items), JSON.stringify([{ id: '1', user: 'a', locked: false, idle: true, remote: false }]));
    db.prepare('INSERT INTO host_state (host_id, software) VALUES (?, ?)').run('h2', JSON.stringify({ status: 'unknown', reason: 'no dpkg' }));
    migrate(db, MIGRATIONS.filter((m) => m.version <= 3));
    const rows = db.prepare('SELECT host_id, source, name, arch, item FROM host_software ORDER BY name').all() as { host_id: string; source: string; name: string; arch: string; item: string }[];
    expect(rows.map((r) => [r.host_id, r.source, r.name, r.arch])).toEqual([
      ['h1', 'registry', 'Office', ''],
      ['h1', 'dpkg', 'bash', 'amd64'],
    ]);
    expect(JSON.parse(rows[1]?.item ?? '{}')).toEqual(items[0]);
    const states = db.prepare('SELECT host_id, software, sessions_attention FROM host_state ORDER BY host_id').all();
    expect(states).toEqual([
      { host_id: 'h1', software: '{"status":"known"}', sessions_attention: 1 },
      { host_id: 'h2', software: JSON.stringify({ status: 'unknown', reason: 'no dpkg' }), sessions_attention: 0 },
    ]);
  });
});

describe('migrations 4 and 5', () => {
  it('stores each distinct software item once with its newest classification, and keeps every host inventory', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = OFF'); // host_state rows without hosts rows, for brevity
    migrate(db, MIGRATIONS.filter((m) => m.version <= 3));
    const bash = { name: 'bash', version: '5.2', source: 'dpkg', arch: 'amd64' };
    const zoom = { name: 'zoom', version: '5.17', source: 'dpkg', arch: 'amd64' };
    const office = { name: 'Office', version: '16', source: 'registry' };
    const row = db.prepare('INSERT INTO host_software (host_id, source, name, arch, item, status, subject, policy_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const put = (host: string, i: { name: string; source: string; arch?: string }, status: string | null, subject: string | null, version: number | null) =>
      row.run(host, i.source, i.name, i.arch ?? '', JSON.stringify(i), status, subject, version);
    for (const host of ['h1', 'h2']) db.prepare(`INSERT INTO host_state (host_id, software, software_policy_version) VALUES (?, '{"status":"known"}', 2)`).run(host);
    put('h1', bash, 'approved', 'dpkg:bash', 2);
    put('h2', bash, 'approved', 'dpkg:bash', 1);
    put('h1', zoom, 'unapproved', 'dpkg:zoom', 2);
    put('h2', office, null, null, null);
    migrate(db, MIGRATIONS);
    const items = db.prepare('SELECT item, source, name, arch, status, subject, policy_version FROM software_items ORDER BY name').all();
    expect(items).toEqual([
      { item: JSON.stringify(office), source: 'registry', name: 'Office', arch: '', status: null, subject: null, policy_version: null },
      { item: JSON.stringify(bash), source: 'dpkg', name: 'bash', arch: 'amd64', status: 'approved', subject: 'dpkg:bash', policy_version: 2 },
      { item: JSON.stringify(zoom), source: 'dpkg', name: 'zoom', arch: 'amd64', status: 'unapproved', subject: 'dpkg:zoom', policy_version: 2 },
    ]);
    // Migration 5: each host's packages as one list of item ids, in identity order.
    const lists = db.prepare('SELECT host_id, item_ids FROM host_inventories ORDER BY host_id').all() as { host_id: string; item_ids: string }[];
    const idOf = (i: object) => (db.prepare('SELECT id FROM software_items WHERE item = ?').get(JSON.stringify(i)) as { id: number }).id;
    expect(lists).toEqual([
      { host_id: 'h1', item_ids: JSON.stringify([idOf(bash), idOf(zoom)]) },
      { host_id: 'h2', item_ids: JSON.stringify([idOf(bash), idOf(office)]) },
    ]);
    const repo = new HostStateRepository(db);
    expect(repo.softwareItems('h1')).toEqual([bash, zoom]);
    expect(repo.softwareItems('h2')).toEqual([bash, office]);
    expect(repo.softwareOfSubject('h1', 'dpkg:zoom')).toEqual([{ item: zoom, status: 'unapproved' }]);
    expect(repo.softwareOfSubject('h2', 'dpkg:zoom')).toEqual([]);
  });
});

describe('migration 7', () => {
  it('counts each item\'s installs from the stored inventories, leaving retired hosts out', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.filter((m) => m.version <= 6));
    const host = db.prepare(`INSERT INTO hosts (id, hostname, platform, distro, release, arch, first_seen_at, status) VALUES (?, ?, 'linux', 'debian', '12', 'x64', 1, ?)`);
    host.run('h1', 'one', 'online');
    host.run('h2', 'two', 'offline');
    host.run('h3', 'three', 'retired');
    const item = db.prepare('INSERT INTO software_items (item, source, name, arch) VALUES (?, ?, ?, ?)');
    const id = (name: string) => Number(item.run(JSON.stringify({ name, version: '1', source: 'dpkg' }), 'dpkg', name, '').lastInsertRowid);
    const [bash, vim, zoom, nano] = [id('bash'), id('vim'), id('zoom'), id('nano')];
    const list = db.prepare('INSERT INTO host_inventories (host_id, item_ids) VALUES (?, ?)');
    list.run('h1', JSON.stringify([bash, vim, zoom]));
    list.run('h2', JSON.stringify([bash, zoom]));
    list.run('h3', JSON.stringify([bash, nano]));
    // Up to 9: migration 10 moves the counts to software_installs (its own test below).
    migrate(db, MIGRATIONS.filter((m) => m.version <= 9));
    expect(db.prepare('SELECT name, installs FROM software_items ORDER BY id').all()).toEqual([
      { name: 'bash', installs: 2 },
      { name: 'vim', installs: 1 },
      { name: 'zoom', installs: 2 },
      { name: 'nano', installs: 0 },
    ]);
    expect(db.prepare('SELECT host_id, counted FROM host_inventories ORDER BY host_id').all()).toEqual([
      { host_id: 'h1', counted: 1 },
      { host_id: 'h2', counted: 1 },
      { host_id: 'h3', counted: 0 },
    ]);
  });
});

describe('migration 8', () => {
  it('finds software items by a hash of their JSON instead of a unique index on it, keeping every row, id, index and trigger', () => {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    migrate(db, MIGRATIONS.filter((m) => m.version <= 7));
    const bash = JSON.stringify({ name: 'bash', version: '5.2', source: 'dpkg', arch: 'amd64' });
    const zoom = JSON.stringify({ name: 'zoom', version: '5.17', source: 'dpkg', arch: 'amd64' });
    const put = db.prepare('INSERT INTO software_items (id, item, source, name, arch, status, subject, policy_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    put.run(3, bash, 'dpkg', 'bash', 'amd64', 'approved', 'dpkg:bash', 2);
    put.run(7, zoom, 'dpkg', 'zoom', 'amd64', 'unapproved', 'dpkg:zoom', 2);
    // migration 7's column, and an index and trigger another change could have added before this one runs.
    db.exec(`CREATE INDEX software_items_by_installs ON software_items (installs);
      CREATE TABLE item_log (id INTEGER);
      CREATE TRIGGER software_items_logged AFTER INSERT ON software_items BEGIN INSERT INTO item_log VALUES (new.id); END;
      UPDATE software_items SET installs = 4 WHERE id = 7;`);
    migrate(db, MIGRATIONS.filter((m) => m.version <= 9));
    const rows = db.prepare('SELECT id, item, item_hash, status, subject, policy_version, installs FROM software_items ORDER BY id').all();
    expect(rows).toEqual([
      { id: 3, item: bash, item_hash: itemHash(bash), status: 'approved', subject: 'dpkg:bash', policy_version: 2, installs: 0 },
      { id: 7, item: zoom, item_hash: itemHash(zoom), status: 'unapproved', subject: 'dpkg:zoom', policy_version: 2, installs: 4 },
    ]);
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'software_items' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    // No autoindex: the JSON is no longer indexed whole.
    expect(indexes).toEqual(['software_items_by_installs', 'software_items_by_item_hash', 'software_items_by_subject']);
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT id FROM software_items WHERE item_hash = ? AND item = ?').all(itemHash(bash), bash) as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).toContain('software_items_by_item_hash');
    db.prepare('INSERT INTO software_items (item, item_hash, source, name, arch) VALUES (?, ?, ?, ?, ?)').run('{}', itemHash('{}'), 'dpkg', 'x', '');
    expect(db.prepare('SELECT count(*) AS n FROM item_log').get()).toEqual({ n: 1 });
  });
});

describe('migration 10', () => {
  it('moves each item\'s installs to software_installs and drops the column, keeping every item', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.filter((m) => m.version <= 9));
    const put = db.prepare('INSERT INTO software_items (id, item, item_hash, source, name, arch, installs) VALUES (?, ?, 0, ?, ?, ?, ?)');
    put.run(3, '{"name":"bash"}', 'dpkg', 'bash', 'amd64', 2);
    put.run(7, '{"name":"zoom"}', 'dpkg', 'zoom', 'amd64', 0);
    put.run(9, '{"name":"vim"}', 'dpkg', 'vim', 'amd64', 5);
    migrate(db, MIGRATIONS);
    expect(db.prepare('SELECT item_id, installs FROM software_installs ORDER BY item_id').all()).toEqual([
      { item_id: 3, installs: 2 },
      { item_id: 9, installs: 5 },
    ]);
    expect(db.prepare('SELECT id, name FROM software_items ORDER BY id').all()).toEqual([
      { id: 3, name: 'bash' },
      { id: 7, name: 'zoom' },
      { id: 9, name: 'vim' },
    ]);
    const columns = (db.prepare("SELECT name FROM pragma_table_info('software_items')").all() as { name: string }[]).map((r) => r.name);
    expect(columns).not.toContain('installs');
  });
});

describe('migration 9', () => {
  it('adds the audit tables on top of a database at version 6, leaving the numbers between free', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.filter((m) => m.version <= 6));
    expect(migrate(db, MIGRATIONS)).toBe(MIGRATIONS.filter((m) => m.version > 6).length);
    const versions = (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
    expect(versions).toContain(9);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'audit%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toEqual(['audit_exports', 'audit_hosts', 'audit_log', 'audits']);
    // One row per host and audit.
    db.pragma('foreign_keys = OFF');
    const row = db.prepare('INSERT INTO audit_hosts (audit_id, position, host_id, stratum, rank, hmac) VALUES (?, ?, ?, ?, ?, ?)');
    row.run('a', 0, 'h1', 'all', 1, 'x');
    expect(() => row.run('a', 1, 'h1', 'all', 2, 'y')).toThrow(/UNIQUE/);
    expect(() => db.prepare("UPDATE audit_hosts SET decision = 'maybe'").run()).toThrow(/CHECK/);
  });
});

describe('migration 11', () => {
  it('keeps every message, in arrival order, still stored once per id and found by host, time and USB type', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS.filter((m) => m.version <= 10));
    const put = db.prepare('INSERT INTO messages (id, agent_id, host_id, seq, type, agent_ts, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING');
    // Ids out of arrival order (agents' clocks differ): arrival order is received_at's.
    put.run('0190-c', 'a1', 'h1', 1, 'usb.attached', 5, 300, '{"n":3}');
    put.run('0190-a', 'a2', 'h2', 1, 'session.state', 5, 100, '{"n":1}');
    put.run('0190-b', 'a1', 'h1', 2, 'snapshot', 5, 200, '{"n":2}');
    migrate(db, MIGRATIONS);
    expect(db.prepare('SELECT rowid, id, host_id, seq, type, received_at, body FROM messages ORDER BY rowid').all()).toEqual([
      { rowid: 1, id: '0190-a', host_id: 'h2', seq: 1, type: 'session.state', received_at: 100, body: '{"n":1}' },
      { rowid: 2, id: '0190-b', host_id: 'h1', seq: 2, type: 'snapshot', received_at: 200, body: '{"n":2}' },
      { rowid: 3, id: '0190-c', host_id: 'h1', seq: 1, type: 'usb.attached', received_at: 300, body: '{"n":3}' },
    ]);
    // A resent message is still stored once; a new one goes at the end.
    expect(put.run('0190-b', 'a1', 'h1', 2, 'snapshot', 5, 400, '{"n":2}').changes).toBe(0);
    expect(put.run('0190-0', 'a1', 'h1', 3, 'usb.detached', 5, 400, '{}').lastInsertRowid).toBe(4);
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan("SELECT body FROM messages WHERE id = '0190-b'")).toMatch(/USING INDEX messages_by_id/);
    expect(plan("SELECT type FROM messages WHERE host_id = 'h1' AND type IN ('usb.attached', 'usb.detached') ORDER BY received_at DESC, seq DESC LIMIT 5")).toMatch(/messages_usb_by_host/);
    expect(plan("SELECT rowid FROM messages WHERE received_at < 250 LIMIT 10")).toMatch(/messages_by_received/);
  });
});
