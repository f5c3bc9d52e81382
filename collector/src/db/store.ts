import { AgentsRepository } from './agents-repository.js';
import { AuditRepository } from './audit-repository.js';
import { AuditsRepository } from './audits-repository.js';
import { CredentialsRepository } from './credentials-repository.js';
import fs from 'node:fs';
import { openDatabase, type Db } from './database.js';
import { StorageHealth, storageUnavailable } from './storage-health.js';
import { HostsRepository } from './hosts-repository.js';
import { IngestRepository } from './ingest-repository.js';
import { NotificationsRepository } from './notifications-repository.js';
import { PolicyRepository } from './policy-repository.js';
import { AlertsRepository } from './alerts-repository.js';
import { ApprovalsRepository, ExceptionsRepository } from './approvals-repository.js';
import { HostStateRepository } from './host-state-repository.js';
import { LicencesRepository } from './licences-repository.js';
import { SoftwareInventory } from './software-inventory.js';
import { SoftwareRepository } from './software-repository.js';

/**
 * Every repository over one database. The policy engine and routes see only these interfaces,
 * so a PostgreSQL backend can be added beside SQLite later.
 */
export interface Store {
  readonly db: Db;
  readonly credentials: CredentialsRepository;
  readonly hosts: HostsRepository;
  readonly agents: AgentsRepository;
  readonly ingest: IngestRepository;
  readonly policy: PolicyRepository;
  readonly notifications: NotificationsRepository;
  /** The tamper-evident audit log (a hash chain): append inside the transaction that makes the change. */
  readonly audit: AuditRepository;
  readonly hostState: HostStateRepository;
  readonly alerts: AlertsRepository;
  readonly approvals: ApprovalsRepository;
  readonly exceptions: ExceptionsRepository;
  readonly licences: LicencesRepository;
  /** The fleet's software for the Software page (installs per item, never the inventories). */
  readonly software: SoftwareRepository;
  /** Auditors' random-sample checks. */
  readonly audits: AuditsRepository;
  /** Whether the database can be written (a full or read-only disk makes it unavailable). */
  readonly health: StorageHealth;
  /**
   * Run `fn` in one transaction. A failure of the storage itself (full, read-only, I/O error) is
   * thrown as the coded `VIGIL_ERR_STORAGE_UNAVAILABLE` (503), with SQLite's error as its cause.
   */
  transaction<T>(fn: () => T): T;
  /**
   * Tries a small write (and, on a file, that `minFreeBytes` are free): true, and the storage marked
   * available again, when it can be written.
   */
  probeWrite(minFreeBytes?: number): boolean;
  ping(): boolean;
  close(): void;
}

export interface StoreOptions {
  dataDir: string;
  /** An agent gone this long without a goodbye is shown as `silent`. */
  silentAfterMs: number;
  synchronous?: 'normal' | 'full';
}

export function openStore(opts: StoreOptions): Store {
  const db = openDatabase({ dataDir: opts.dataDir, ...(opts.synchronous ? { synchronous: opts.synchronous } : {}) });
  const health = new StorageHealth();
  const hosts = new HostsRepository(db, opts.silentAfterMs);
  const inventory = new SoftwareInventory(db);
  const agents = new AgentsRepository(db, health);
  const hostState = new HostStateRepository(db, inventory);
  // Host state writes are deferred to the end of the transaction (one row write per host and batch).
  const transaction = db.transaction((fn: () => unknown) => {
    const result = fn();
    hostState.flushPending();
    return result;
  });
  const run = <T>(fn: () => T): T => {
    // Nested: a savepoint, whose failure takes back only its own deferred writes.
    const mark = db.inTransaction ? hostState.mark() : undefined;
    try {
      return transaction(fn) as T;
    } catch (err) {
      if (mark === undefined) hostState.discardPending();
      else hostState.rollbackTo(mark);
      if (health.failed(err)) throw storageUnavailable(err);
      throw err;
    }
  };
  // A write probe that leaves nothing changed yet reaches the disk: SQLite writes no page for an
  // UPDATE that leaves the row as it was, so the row is changed and changed back in one transaction.
  const nudge = db.prepare('UPDATE schema_migrations SET applied_at = applied_at + ? WHERE version = (SELECT max(version) FROM schema_migrations)');
  return {
    db,
    health,
    credentials: new CredentialsRepository(db),
    hosts,
    agents,
    ingest: new IngestRepository(db, hosts, inventory),
    policy: new PolicyRepository(db),
    notifications: new NotificationsRepository(db),
    audit: new AuditRepository(db),
    hostState,
    alerts: new AlertsRepository(db),
    approvals: new ApprovalsRepository(db),
    exceptions: new ExceptionsRepository(db),
    licences: new LicencesRepository(db),
    software: new SoftwareRepository(db, () => inventory.generation),
    audits: new AuditsRepository(db),
    transaction: run,
    probeWrite: (minFreeBytes = 0) => {
      try {
        if (minFreeBytes > 0 && opts.dataDir !== ':memory:') {
          const s = fs.statfsSync(opts.dataDir);
          if (s.bavail * s.bsize < minFreeBytes) return false;
        }
        run(() => {
          nudge.run(1);
          nudge.run(-1);
        });
        health.recovered();
        return true;
      } catch {
        return false;
      }
    },
    ping: () => (db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1,
    close: () => {
      if (!db.open) return;
      agents.flushStatus();
      db.close();
    },
  };
}
