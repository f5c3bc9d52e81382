import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** Directory that holds `vigil.db`; created (0700) if missing. `:memory:` for an in-memory database. */
  dataDir: string;
  readonly?: boolean;
  /** `full` (the default) syncs each commit before it is acknowledged; `normal` survives only a process crash (see --db-synchronous). */
  synchronous?: 'normal' | 'full';
}

export const DB_FILE = 'vigil.db';

/** Open the collector's SQLite file in WAL mode and bring its schema up to date. */
export function openDatabase(opts: OpenDatabaseOptions): Db {
  let file = ':memory:';
  if (opts.dataDir !== ':memory:') {
    fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    file = path.join(opts.dataDir, DB_FILE);
  }
  const db = new Database(file, { readonly: opts.readonly ?? false });
  db.pragma('journal_mode = WAL');
  // FULL syncs the WAL at each commit: an acknowledged message is on disk, and agents drop what is
  // acknowledged. NORMAL is durable in WAL mode across process crashes only (an OS crash, or a
  // filesystem that fails and drops its dirty pages, loses the last commits: test/storage-faults.test.ts).
  db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('temp_store = MEMORY');
  if (!opts.readonly) migrate(db, MIGRATIONS);
  return db;
}

export function migrate(db: Db, migrations: readonly Migration[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`);
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  let count = 0;
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      m.run?.(db);
      record.run(m.version, m.name, Date.now());
    })();
    count++;
  }
  return count;
}
