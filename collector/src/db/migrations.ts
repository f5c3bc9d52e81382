/**
 * Schema migrations, applied in order inside one transaction each. Append only: never edit a
 * migration that has shipped; add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'skeleton: secrets, tokens, users, hosts, agents, messages',
    sql: `

      CREATE TABLE enrol_secrets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash BLOB NOT NULL UNIQUE,
        groups TEXT NOT NULL DEFAULT '[]',
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;

      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'auditor')),
        token_hash BLOB NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      ) STRICT;

      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'auditor')),
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        disabled_at INTEGER
      ) STRICT;

      CREATE TABLE hosts (
        id TEXT PRIMARY KEY,
        hostname TEXT NOT NULL,
        fqdn TEXT,
        platform TEXT NOT NULL,
        distro TEXT NOT NULL,
        release TEXT NOT NULL,
        arch TEXT NOT NULL,
        kernel TEXT,
        hardware TEXT NOT NULL DEFAULT '{}',
        addresses TEXT NOT NULL DEFAULT '[]',
        users TEXT NOT NULL DEFAULT '[]',
        groups TEXT NOT NULL DEFAULT '[]',
        agent_version TEXT,
        enrol_secret_id TEXT REFERENCES enrol_secrets(id),
        first_seen_at INTEGER NOT NULL,
        last_seen_at INTEGER,
        status TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline', 'retired')),
        last_goodbye TEXT,
        retired_at INTEGER
      ) STRICT;
      CREATE INDEX hosts_by_hostname ON hosts (hostname COLLATE NOCASE, id);

      CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        host_id TEXT NOT NULL REFERENCES hosts(id),
        token_hash BLOB NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        last_seq INTEGER NOT NULL DEFAULT 0,
        messages_stored INTEGER NOT NULL DEFAULT 0,
        messages_rejected INTEGER NOT NULL DEFAULT 0,
        heartbeats INTEGER NOT NULL DEFAULT 0,
        last_heartbeat_seq INTEGER NOT NULL DEFAULT 0,
        counters TEXT
      ) STRICT;
      CREATE INDEX agents_by_host ON agents (host_id);

      -- Every accepted agent message except heartbeats (which update agents.counters instead).
      CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        agent_id TEXT NOT NULL,
        host_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        agent_ts INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        body TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX messages_by_host ON messages (host_id, received_at);
      CREATE INDEX messages_by_received ON messages (received_at);

      -- Frames the collector could not accept, with why: visible and counted, never silently lost.
      CREATE TABLE rejected_messages (
        id INTEGER PRIMARY KEY,
        agent_id TEXT NOT NULL,
        host_id TEXT NOT NULL,
        message_id TEXT,
        seq INTEGER,
        type TEXT,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        received_at INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX rejected_once ON rejected_messages (agent_id, message_id) WHERE message_id IS NOT NULL;
      CREATE INDEX rejected_by_received ON rejected_messages (received_at);

      -- Policy documents as loaded (the engine that evaluates them comes with the policy issue).
      CREATE TABLE policy_versions (
        version INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL,
        document TEXT NOT NULL,
        source TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
];
