import { AgentsRepository } from './agents-repository.js';
import { CredentialsRepository } from './credentials-repository.js';
import { openDatabase, type Db } from './database.js';
import { HostsRepository } from './hosts-repository.js';
import { IngestRepository } from './ingest-repository.js';
import { PolicyRepository } from './policy-repository.js';

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
  return {
    db,
    credentials: new CredentialsRepository(db),
    hosts,
    agents: new AgentsRepository(db),
    ingest: new IngestRepository(db, hosts),
    policy: new PolicyRepository(db),
    transaction: (fn) => db.transaction(fn)(),
    ping: () => (db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1,
    close: () => {
      if (db.open) db.close();
    },
  };
}
