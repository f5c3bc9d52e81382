import type { AgentCounters, Host, HostFacts, HostListQuery, HostStatus, ListEnvelope } from '@vigil/shared';
import { uuidv7, VigilError } from '@vigil/shared';
import type { Db } from './database.js';
import { parseJsonColumn } from './json-column.js';
import { decodeCursorKey, encodeCursor } from './cursor.js';

interface HostRow {
  id: string;
  hostname: string;
  fqdn: string | null;
  platform: string;
  distro: string;
  release: string;
  arch: string;
  kernel: string | null;
  hardware: string;
  addresses: string;
  users: string;
  groups: string;
  agent_version: string | null;
  first_seen_at: number;
  last_seen_at: number | null;
  status: 'online' | 'offline' | 'retired';
  last_goodbye: string | null;
  agent_id: string;
  agent_connected: number;
  last_seq: number;
  messages_stored: number;
  messages_rejected: number;
  counters: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `agents.counters`: the last heartbeat's counters, with its `droppedByType` beside them. */
function agentCounters(column: string | null): { counters: AgentCounters | null; droppedByType: Record<string, number> | null } {
  const stored = parseJsonColumn<(AgentCounters & { droppedByType?: Record<string, number> }) | null>(column, null);
  if (!stored) return { counters: null, droppedByType: null };
  const { droppedByType, ...counters } = stored;
  return { counters, droppedByType: droppedByType ?? {} };
}

/** The sort keys of the host list besides the hostname (null: hostname only). */
const SORT_KEYS: Record<HostListQuery['sort'], string | null> = {
  hostname: null,
  lastSeen: 'coalesce(h.last_seen_at, 0)',
  openAlerts: "(SELECT count(*) FROM alerts x WHERE x.host_id = h.id AND x.status IN ('open', 'acknowledged'))",
  // Matches the index hosts_by_agent_version (migration 7). Compared as text.
  agentVersion: "coalesce(h.agent_version, '')",
};

const SELECT = `
  SELECT h.*, a.id AS agent_id, (h.status = 'online') AS agent_connected, a.last_seq, a.messages_stored,
         a.messages_rejected, a.counters
  FROM hosts h
  JOIN agents a ON a.id = (SELECT id FROM agents WHERE host_id = h.id ORDER BY created_at DESC LIMIT 1)`;

/** Hosts as the API shows them. `silentAfterMs`: an agent gone this long without a goodbye is `silent`. */
export class HostsRepository {
  private readonly byId;
  private readonly insert;
  private readonly facts;

  constructor(
    private readonly db: Db,
    private readonly silentAfterMs: number,
  ) {
    this.byId = db.prepare<[string], HostRow>(`${SELECT} WHERE h.id = ?`);
    this.insert = db.prepare(`INSERT INTO hosts (id, hostname, fqdn, platform, distro, release, arch, kernel, hardware,
      addresses, users, groups, agent_version, enrol_secret_id, first_seen_at, status)
      VALUES (@id, @hostname, @fqdn, @platform, @distro, @release, @arch, @kernel, @hardware, @addresses, @users,
      @groups, @agentVersion, @enrolSecretId, @now, 'offline')`);
    this.facts = db.prepare(`UPDATE hosts SET hostname = @hostname, fqdn = @fqdn, platform = @platform,
      distro = @distro, release = @release, arch = @arch, kernel = @kernel, hardware = @hardware,
      addresses = @addresses, users = @users, agent_version = @agentVersion WHERE id = @id`);
  }

  private factParams(id: string, f: HostFacts) {
    return {
      id,
      hostname: f.hostname,
      fqdn: f.fqdn ?? null,
      platform: f.os.platform,
      distro: f.os.distro,
      release: f.os.release,
      arch: f.os.arch,
      kernel: f.os.kernel ?? null,
      hardware: JSON.stringify(f.hardware),
      addresses: JSON.stringify(f.addresses),
      users: JSON.stringify(f.users),
      agentVersion: f.agentVersion,
    };
  }

  create(facts: HostFacts, groups: string[], enrolSecretId: string | null, now = Date.now()): string {
    const id = uuidv7(now);
    this.insert.run({ ...this.factParams(id, facts), groups: JSON.stringify(groups), enrolSecretId, now });
    return id;
  }

  /** Facts reported by the host itself; its groups are never taken from what it says. */
  updateFacts(id: string, facts: HostFacts): void {
    this.facts.run(this.factParams(id, facts));
  }

  get(id: string, now = Date.now()): Host | undefined {
    const row = this.byId.get(id);
    return row && this.toHost(row, now);
  }

  list(q: Omit<HostListQuery, 'sort' | 'order'> & Partial<Pick<HostListQuery, 'sort' | 'order'>>, now = Date.now()): ListEnvelope<Host> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    const sort = q.sort ?? 'hostname';
    const dir = q.order === 'desc' ? 'DESC' : 'ASC';
    const cmp = q.order === 'desc' ? '<' : '>';
    const key = SORT_KEYS[sort];
    if (q.cursor) {
      // [sort, order, (key,) hostname, id] of the last host of the previous page.
      const c = decodeCursorKey(q.cursor, key ? 5 : 4);
      if (c[0] !== sort || c[1] !== (q.order ?? 'asc') || typeof c.at(-1) !== 'string' || typeof c.at(-2) !== 'string') throw new VigilError('VIGIL_ERR_VALIDATION', 'cursor is not valid');
      params.ch = c.at(-2);
      params.cid = c.at(-1);
      const byName = `(h.hostname COLLATE NOCASE ${cmp} @ch OR (h.hostname COLLATE NOCASE = @ch AND h.id ${cmp} @cid))`;
      if (key) {
        params.ck = c[2];
        where.push(`(${key} ${cmp} @ck OR (${key} = @ck AND ${byName}))`);
      } else where.push(byName);
    }
    if (q.q) {
      where.push("h.hostname LIKE @q ESCAPE '\\' COLLATE NOCASE");
      params.q = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    }
    if (q.platform) {
      where.push('h.platform = @platform');
      params.platform = q.platform;
    }
    if (q.status) {
      const silentBefore = now - this.silentAfterMs;
      params.silentBefore = silentBefore;
      where.push(
        {
          online: "h.status = 'online'",
          retired: "h.status = 'retired'",
          silent: "h.status = 'offline' AND h.last_goodbye IS NULL AND coalesce(h.last_seen_at, h.first_seen_at) < @silentBefore",
          offline: "h.status = 'offline' AND NOT (h.last_goodbye IS NULL AND coalesce(h.last_seen_at, h.first_seen_at) < @silentBefore)",
        }[q.status],
      );
    }
    const order = `${key ? `${key} ${dir}, ` : ''}h.hostname COLLATE NOCASE ${dir}, h.id ${dir}`;
    // The page's ids first (sorting hosts rows only), then their agents and key for those alone.
    const ids = `SELECT h.id FROM hosts h ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT @limit`;
    const sql = `${SELECT.replace('SELECT h.*,', `SELECT h.*, ${key ?? 'NULL'} AS sort_key,`)} WHERE h.id IN (${ids}) ORDER BY ${order}`;
    const rows = this.db.prepare<Record<string, unknown>, HostRow & { sort_key: string | number | null }>(sql).all({ ...params, limit: q.limit + 1 });
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    const last = page.at(-1);
    return {
      items: page.map((r) => this.toHost(r, now)),
      nextCursor: more && last ? encodeCursor([sort, q.order ?? 'asc', ...(key ? [last.sort_key ?? ''] : []), last.hostname, last.id]) : null,
    };
  }

  status(row: Pick<HostRow, 'status' | 'last_goodbye' | 'last_seen_at' | 'first_seen_at'>, now: number): HostStatus {
    if (row.status !== 'offline') return row.status;
    const lastSeen = row.last_seen_at ?? row.first_seen_at;
    return row.last_goodbye === null && lastSeen < now - this.silentAfterMs ? 'silent' : 'offline';
  }

  private toHost(r: HostRow, now: number): Host {
    return {
      id: r.id,
      hostname: r.hostname,
      fqdn: r.fqdn,
      os: { platform: r.platform as Host['os']['platform'], distro: r.distro, release: r.release, arch: r.arch, kernel: r.kernel },
      hardware: parseJsonColumn(r.hardware, {}),
      addresses: parseJsonColumn(r.addresses, []),
      users: parseJsonColumn(r.users, []),
      groups: parseJsonColumn(r.groups, []),
      agentVersion: r.agent_version,
      firstSeenAt: iso(r.first_seen_at),
      lastSeenAt: r.last_seen_at === null ? null : iso(r.last_seen_at),
      status: this.status(r, now),
      lastGoodbye: r.last_goodbye,
      agent: {
        id: r.agent_id,
        connected: r.agent_connected === 1,
        lastSeq: r.last_seq,
        messagesStored: r.messages_stored,
        messagesRejected: r.messages_rejected,
        ...agentCounters(r.counters),
      },
    };
  }
}
