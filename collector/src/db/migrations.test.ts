import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from './database.js';
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
    migrate(db, MIGRATIONS);
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
