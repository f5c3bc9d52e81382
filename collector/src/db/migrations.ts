import type { Db } from './database.js';
import { itemHash } from './item-hash.js';

/**
 * Schema migrations, applied in order inside one transaction each. Append only: never edit a
 * migration that has shipped; add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** A step that needs code (after `sql`, in the same transaction). */
  run?: (db: Db) => void;
}

/**
 * Migration 8: `software_items` without the unique index on the whole JSON of each item, found
 * through `item_hash` instead. SQLite cannot drop a column's UNIQUE, so the table is rebuilt from
 * its own stored definition (whatever columns, indexes and triggers earlier migrations gave it),
 * with the same ids.
 */
function softwareItemsByHash(db: Db): void {
  const table = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'software_items'").get();
  if (!table) throw new Error('migration 8: no software_items table');
  const unique = /\bitem\s+TEXT\s+NOT\s+NULL\s+UNIQUE\b/i;
  if (!unique.test(table.sql)) throw new Error('migration 8: software_items.item is not declared TEXT NOT NULL UNIQUE');
  const created = table.sql.replace(/^CREATE TABLE\s+("?)software_items\1/i, 'CREATE TABLE software_items_by_hash');
  if (created === table.sql) throw new Error('migration 8: unexpected software_items definition');
  const others = db
    .prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE tbl_name = 'software_items' AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name")
    .all();
  const columns = db
    .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('software_items') ORDER BY cid")
    .all()
    .map((c) => `"${c.name}"`)
    .join(', ');
  db.exec(created.replace(unique, 'item TEXT NOT NULL'));
  db.exec('ALTER TABLE software_items_by_hash ADD COLUMN item_hash INTEGER NOT NULL DEFAULT 0');
  db.function('vigil_item_hash', { deterministic: true }, (text: unknown) => itemHash(String(text)));
  db.exec(`INSERT INTO software_items_by_hash (${columns}, item_hash) SELECT ${columns}, vigil_item_hash(item) FROM software_items ORDER BY id`);
  db.exec('DROP TABLE software_items');
  // Legacy renaming: triggers elsewhere that name software_items keep naming it (it is the new table).
  const legacy = db.pragma('legacy_alter_table', { simple: true }) as number;
  db.pragma('legacy_alter_table = ON');
  try {
    db.exec('ALTER TABLE software_items_by_hash RENAME TO software_items');
  } finally {
    db.pragma(`legacy_alter_table = ${legacy ? 'ON' : 'OFF'}`);
  }
  for (const o of others) db.exec(o.sql);
  db.exec('CREATE INDEX software_items_by_item_hash ON software_items (item_hash)');
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
  {
    version: 2,
    name: 'policy engine: current host state, alerts and their history, approvals, exceptions, notifications, audit log',
    sql: `
      -- What each host reports now: one JSON column per probe, holding exactly what the shared
      -- probeResult schema allows (an array, or {"status":"unknown","reason":…}); NULL: never reported.
      -- usb holds the devices present now (snapshot, then attach/detach applied by bus path).
      CREATE TABLE host_state (
        host_id TEXT PRIMARY KEY REFERENCES hosts(id),
        usb TEXT,
        software TEXT,
        screenlock TEXT,
        sessions TEXT,
        usb_at INTEGER,
        software_at INTEGER,
        screenlock_at INTEGER,
        sessions_at INTEGER
      ) STRICT;

      -- Licensed catalogue titles each host has installed (one seat per host per title), kept up to
      -- date with each host's software evaluation so over-deployment counts are one GROUP BY.
      CREATE TABLE host_licensed_titles (
        host_id TEXT NOT NULL,
        title TEXT NOT NULL,
        PRIMARY KEY (host_id, title)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX licensed_by_title ON host_licensed_titles (title, host_id);

      CREATE TABLE alerts (
        id TEXT PRIMARY KEY,
        rule TEXT NOT NULL,
        host_id TEXT,
        subject TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
        status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved', 'auto_resolved')),
        first_seen_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        count INTEGER NOT NULL DEFAULT 1,
        details TEXT NOT NULL DEFAULT '{}',
        monitor_only INTEGER NOT NULL DEFAULT 0,
        acknowledged_by TEXT,
        acknowledged_at INTEGER,
        resolution TEXT,
        resolved_by TEXT,
        resolved_at INTEGER,
        note TEXT,
        updated_at INTEGER NOT NULL,
        -- seq of the alert_events row of its latest change
        cursor INTEGER NOT NULL DEFAULT 0
      ) STRICT;
      -- The invariant: at most one open (or acknowledged) alert per (host, rule, subject).
      CREATE UNIQUE INDEX alerts_one_open ON alerts (coalesce(host_id, ''), rule, subject) WHERE status IN ('open', 'acknowledged');
      CREATE INDEX alerts_by_host ON alerts (host_id, status);
      CREATE INDEX alerts_by_status ON alerts (status, id);

      -- Every change of every alert, in order: its history, the live feed's cursor, and what
      -- notifications are made from. 'alert' is the alert as it stood after the change (JSON).
      CREATE TABLE alert_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL,
        note TEXT,
        alert TEXT NOT NULL
      ) STRICT;
      CREATE INDEX alert_events_by_alert ON alert_events (alert_id, seq);
      CREATE INDEX alert_events_by_at ON alert_events (at);

      -- USB approvals, kept apart from the policy document (DESIGN.md). Either device_key or
      -- vendor_id + product_id. scope: {"all":true} | {"hostId":…} | {"groups":[…]}.
      CREATE TABLE usb_approvals (
        id TEXT PRIMARY KEY,
        device_key TEXT,
        vendor_id TEXT,
        product_id TEXT,
        scope TEXT NOT NULL,
        expires_at INTEGER,
        reason TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        alert_id TEXT,
        revoked_at INTEGER,
        revoked_by TEXT,
        CHECK ((device_key IS NOT NULL) != (vendor_id IS NOT NULL AND product_id IS NOT NULL))
      ) STRICT;

      -- Accepted breaches: a rule (and optionally one subject) on some hosts, until expires_at.
      CREATE TABLE policy_exceptions (
        id TEXT PRIMARY KEY,
        rule TEXT NOT NULL,
        subject TEXT,
        scope TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        reason TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        alert_id TEXT,
        revoked_at INTEGER,
        revoked_by TEXT
      ) STRICT;

      -- Where alert changes and the audit chain head are sent (webhook, Slack/Teams text, syslog).
      CREATE TABLE notification_targets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        config TEXT NOT NULL,
        filter TEXT NOT NULL DEFAULT '{}',
        enabled INTEGER NOT NULL DEFAULT 1,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        deleted_at INTEGER
      ) STRICT;

      -- One row per (target, thing to send): a durable queue with retry state, so failures are
      -- visible and a restart loses nothing.
      CREATE TABLE notification_deliveries (
        id INTEGER PRIMARY KEY,
        target_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        event_seq INTEGER,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      ) STRICT;
      CREATE INDEX deliveries_due ON notification_deliveries (status, next_attempt_at);
      -- Claiming per target (a slow target never holds back the others) and per-target lists.
      CREATE INDEX deliveries_by_target ON notification_deliveries (target_id, status, next_attempt_at);

      -- Tamper-evident audit log: a SHA-256 hash chain over (prev_hash, seq, at, actor, action,
      -- subject, details); collector/src/audit/hash-chain.ts documents the exact encoding.
      -- Append-only: the triggers stop any update or delete by the application. Someone with write
      -- access to the file can drop them, and 'audit-log verify' then finds what they changed.
      CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY CHECK (seq > 0),
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT,
        details TEXT NOT NULL DEFAULT '{}',
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
        hash TEXT NOT NULL CHECK (length(hash) = 64)
      ) STRICT;
      CREATE INDEX audit_log_by_action ON audit_log (action, seq);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
  },
  {
    version: 3,
    name: 'software inventories as rows with their classification; sessions needing attention; USB history index',
    sql: `
      -- One row per installed package (identity: source + name + arch, as agents diff them), with
      -- its catalogue status and alert subject under policy_version, so a software diff is judged
      -- from the rows it touches instead of re-reading and re-classifying the whole inventory.
      CREATE TABLE host_software (
        host_id TEXT NOT NULL,
        source TEXT NOT NULL,
        name TEXT NOT NULL,
        arch TEXT NOT NULL DEFAULT '',
        item TEXT NOT NULL,
        status TEXT,
        subject TEXT,
        policy_version INTEGER,
        PRIMARY KEY (host_id, source, name, arch)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX host_software_by_subject ON host_software (host_id, subject);
      INSERT INTO host_software (host_id, source, name, arch, item)
        SELECT s.host_id, json_extract(j.value, '$.source'), json_extract(j.value, '$.name'), coalesce(json_extract(j.value, '$.arch'), ''), j.value
        FROM host_state s, json_each(s.software) j WHERE json_type(s.software) = 'array'
        ON CONFLICT DO NOTHING;
      -- host_state.software now only says whether the inventory is known (the rows hold it).
      UPDATE host_state SET software = '{"status":"known"}' WHERE json_type(software) = 'array';

      -- The policy version the host's rows were classified under (NULL: not classified).
      ALTER TABLE host_state ADD COLUMN software_policy_version INTEGER;

      -- 1 when a local session is idle and unlocked: the only hosts the unattended timer looks at.
      ALTER TABLE host_state ADD COLUMN sessions_attention INTEGER NOT NULL DEFAULT 0;
      UPDATE host_state SET sessions_attention = 1 WHERE sessions LIKE '%"idle":true%';
      CREATE INDEX host_state_attention ON host_state (host_id) WHERE sessions_attention = 1;

      -- A host's USB history without reading all its other messages.
      CREATE INDEX messages_usb_by_host ON messages (host_id, received_at, seq) WHERE type IN ('usb.attached', 'usb.detached');
    `,
  },
  {
    version: 4,
    name: 'software items stored once across the fleet, with their classification; hosts point at them',
    sql: `
      -- Each distinct software item (its JSON exactly as host_software.item held it) once, with its
      -- catalogue status and alert subject under policy_version: classification depends on the item
      -- and the policy only, and a fleet installs the same packages over and over.
      CREATE TABLE software_items (
        id INTEGER PRIMARY KEY,
        item TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        name TEXT NOT NULL,
        arch TEXT NOT NULL,
        status TEXT,
        subject TEXT,
        policy_version INTEGER
      ) STRICT;
      -- Only packages that can hold a finding are looked up by subject (judging a software diff).
      CREATE INDEX software_items_by_subject ON software_items (subject) WHERE status IS NULL OR status IN ('unapproved', 'prohibited');
      -- The newest classification any host's row held (bare columns follow max()).
      INSERT INTO software_items (item, source, name, arch, status, subject, policy_version)
        SELECT item, source, name, arch, status, subject, max(coalesce(policy_version, -1)) FROM host_software GROUP BY item;
      UPDATE software_items SET policy_version = NULL WHERE policy_version = -1;

      -- One row per (host, package identity) pointing at the distinct item installed.
      CREATE TABLE host_software_items (
        host_id TEXT NOT NULL,
        source TEXT NOT NULL,
        name TEXT NOT NULL,
        arch TEXT NOT NULL DEFAULT '',
        item_id INTEGER NOT NULL REFERENCES software_items(id),
        PRIMARY KEY (host_id, source, name, arch)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO host_software_items (host_id, source, name, arch, item_id)
        SELECT h.host_id, h.source, h.name, h.arch, i.id FROM host_software h JOIN software_items i ON i.item = h.item;
      DROP TABLE host_software;
      ALTER TABLE host_software_items RENAME TO host_software;
    `,
  },
  {
    version: 5,
    name: 'each host inventory as one row of item ids',
    sql: `
      -- A host's inventory is the list of its items' ids (a JSON array): one short row per host
      -- instead of a row per package (host id, identity and item id, ~70 bytes each).
      CREATE TABLE host_inventories (
        host_id TEXT PRIMARY KEY,
        item_ids TEXT NOT NULL
      ) STRICT;
      INSERT INTO host_inventories (host_id, item_ids)
        SELECT host_id, json_group_array(item_id) FROM (SELECT host_id, item_id FROM host_software ORDER BY host_id, source, name, arch) GROUP BY host_id;
      DROP TABLE host_software;
    `,
  },
  {
    version: 6,
    name: 'dashboard sessions of local users',
    sql: `
      -- A logged-in user's session: the cookie's value is never stored, only its SHA-256.
      CREATE TABLE user_sessions (
        id_hash BLOB PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users (id),
        csrf_token TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX user_sessions_by_user ON user_sessions (user_id);
      CREATE INDEX user_sessions_by_expiry ON user_sessions (expires_at);
    `,
  },
  {
    version: 7,
    name: 'install counts per software item (the Software page); host list sort indexes',
    sql: `
      -- How many hosts have each distinct item, kept by the ingest path in the transaction that
      -- changes an inventory (one UPDATE per item that comes or goes), so the fleet's software is
      -- one scan of software_items instead of every host's inventory.
      ALTER TABLE software_items ADD COLUMN installs INTEGER NOT NULL DEFAULT 0;
      -- 0: the host is retired, its inventory is kept (its history) but no longer counted.
      ALTER TABLE host_inventories ADD COLUMN counted INTEGER NOT NULL DEFAULT 1;
      UPDATE host_inventories SET counted = 0 WHERE host_id IN (SELECT id FROM hosts WHERE status = 'retired');
      UPDATE software_items SET installs = c.n
        FROM (SELECT j.value AS id, count(*) AS n FROM host_inventories h, json_each(h.item_ids) j WHERE h.counted = 1 GROUP BY j.value) AS c
        WHERE c.id = software_items.id;

      -- Host list sorts (keyset paging: the sort key, then hostname and id as tie-breakers).
      -- last_seen_at gets none: it is written with every ingest batch, and sorting 10,000 host rows
      -- costs a few milliseconds (see the README's Software page figures).
      CREATE INDEX hosts_by_agent_version ON hosts (coalesce(agent_version, ''), hostname COLLATE NOCASE, id);
    `,
  },
  {
    version: 8,
    name: 'software items found by a hash of their JSON, not a unique index on it',
    sql: '',
    run: softwareItemsByHash,
  },
  {
    version: 9,
    name: 'auditor random-sample checks: audits, their sampled hosts, exports',
    sql: `
      -- One drawn sample. population: JSON array of {hostId, stratum} at draw time, sorted by host
      -- id; population_sha256 / sample_sha256 are also recorded in the audit log's audit.sampled
      -- entry (audit_log_seq), so 'audit verify' detects edits to these rows even when both the
      -- population and the sample are rewritten consistently.
      CREATE TABLE audits (
        id TEXT PRIMARY KEY,
        title TEXT,
        status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
        algorithm TEXT NOT NULL,
        seed TEXT NOT NULL,
        seed_generated INTEGER NOT NULL,
        request TEXT NOT NULL,
        period_from INTEGER NOT NULL,
        period_to INTEGER NOT NULL,
        population TEXT NOT NULL,
        population_size INTEGER NOT NULL,
        population_sha256 TEXT NOT NULL,
        sample_sha256 TEXT NOT NULL,
        pseudonym_key TEXT,
        audit_log_seq INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        closed_at INTEGER,
        closed_by TEXT
      ) STRICT;
      CREATE INDEX audits_by_created ON audits (created_at DESC, id);

      -- The sample: one row per sampled host, position = order in the sample (stratum, rank).
      CREATE TABLE audit_hosts (
        audit_id TEXT NOT NULL REFERENCES audits (id),
        position INTEGER NOT NULL,
        host_id TEXT NOT NULL,
        stratum TEXT NOT NULL,
        rank INTEGER NOT NULL,
        hmac TEXT NOT NULL,
        command_id TEXT,
        commanded_at INTEGER,
        decision TEXT CHECK (decision IN ('accepted', 'exception')),
        comment TEXT,
        decided_by TEXT,
        decided_at INTEGER,
        PRIMARY KEY (audit_id, position)
      ) STRICT, WITHOUT ROWID;
      CREATE UNIQUE INDEX audit_hosts_one_host ON audit_hosts (audit_id, host_id);

      -- Every export made, with the SHA-256 of exactly the bytes handed out.
      CREATE TABLE audit_exports (
        id TEXT PRIMARY KEY,
        audit_id TEXT NOT NULL REFERENCES audits (id),
        format TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        audit_log_seq INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_exports_by_audit ON audit_exports (audit_id, created_at);
    `,
  },
  {
    version: 10,
    name: 'install counts in a narrow table of their own',
    sql: `
      -- Each item's installs change whenever an inventory comes or goes. In software_items (rows of
      -- ~300 bytes: the item's JSON, its classification) a new host's ~1,000 packages dirtied ~1,000
      -- pages, all written to the WAL and synced at the commit: 4.5 MB and 34 ms per transaction in
      -- a 20,000-item table, against 47 pages and 2.7 ms here (one integer per row). Rows of items
      -- no host has may be absent; an item is counted from its first install.
      CREATE TABLE software_installs (
        item_id INTEGER PRIMARY KEY,
        installs INTEGER NOT NULL
      ) STRICT;
      INSERT INTO software_installs (item_id, installs) SELECT id, installs FROM software_items WHERE installs != 0;
      ALTER TABLE software_items DROP COLUMN installs;
    `,
  },
  {
    version: 11,
    name: 'messages in arrival order (a rowid table), found by id through an index',
    sql: `
      -- messages was keyed WITHOUT ROWID on its id, so each ~250-byte row sat in the primary key's
      -- b-tree in id order. Ids are the agents' UUIDv7s: time-ordered per agent, but interleaved
      -- across agents (and across agents' clocks), so rows went into the middle of the table,
      -- splitting its pages. Stored in arrival order instead, a row goes at the end of the table and
      -- only the id index (~50-byte entries) takes the scattered inserts. This table alone, 100,000
      -- session changes from 20 agents (ids made ahead, sent interleaved, as bench/ingest.mjs does)
      -- in commits of 1,000, synchronous = FULL: 18.2 -> 9.4 us of CPU and 30.8 -> 13.7 us of wall
      -- time per row (2026-12-07). The unique index on id keeps a resent message stored once
      -- (INSERT ... ON CONFLICT (id) DO NOTHING); retention deletes by rowid.
      CREATE TABLE messages_by_arrival (
        id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        host_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        agent_ts INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        body TEXT NOT NULL
      ) STRICT;
      INSERT INTO messages_by_arrival (id, agent_id, host_id, seq, type, agent_ts, received_at, body)
        SELECT id, agent_id, host_id, seq, type, agent_ts, received_at, body FROM messages ORDER BY received_at, id;
      DROP TABLE messages;
      ALTER TABLE messages_by_arrival RENAME TO messages;
      CREATE UNIQUE INDEX messages_by_id ON messages (id);
      CREATE INDEX messages_by_host ON messages (host_id, received_at);
      CREATE INDEX messages_by_received ON messages (received_at);
      CREATE INDEX messages_usb_by_host ON messages (host_id, received_at, seq) WHERE type IN ('usb.attached', 'usb.detached');
    `,
  },
];
