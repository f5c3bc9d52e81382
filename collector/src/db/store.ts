import { AgentsRepository } from './agents-repository.js';
import { AuditRepository } from './audit-repository.js';
import { AuditsRepository } from './audits-repository.js';
import { CredentialsRepository } from './credentials-repository.js';
import { openDatabase, type Db } from './database.js';
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
  /** Run `fn` in one transaction. */
  transaction<T>(fn: () => T): T;
  ping(): boolean;
  close(): void;
}

export interface StoreOptions {
  dataDir: string;
  /** An agent gone this long without a goodbye is shown as `silent`. */
  silentAfterMs: number;
}

export function openStore(opts: StoreOptions): Store {
  const db = openDatabase({ dataDir: opts.dataDir });
  const hosts = new HostsRepository(db, opts.silentAfterMs);
  const inventory = new SoftwareInventory(db);
  const hostState = new HostStateRepository(db, inventory);
  // Host state writes are deferred to the end of the transaction (one row write per host and batch).
  const transaction = db.transaction((fn: () => unknown) => {
    const result = fn();
    hostState.flushPending();
    return result;
  });
  return {
    db,
    credentials: new CredentialsRepository(db),
    hosts,
    agents: new AgentsRepository(db),
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
    transaction: <T>(fn: () => T): T => {
      // Nested: a savepoint, whose failure takes back only its own deferred writes.
      const mark = db.inTransaction ? hostState.mark() : undefined;
      try {
        return transaction(fn) as T;
      } catch (err) {
        if (mark === undefined) hostState.discardPending();
        else hostState.rollbackTo(mark);
        throw err;
      }
    },
    ping: () => (db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1,
    close: () => {
      if (db.open) db.close();
    },
  };
}
