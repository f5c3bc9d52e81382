import { uuidv7 } from '@vigil/shared';
import { generateSecret, sha256 } from '../services/secrets.js';
import type { Db } from './database.js';
import type { StorageHealth } from './storage-health.js';

export interface AgentIdentity {
  agentId: string;
  hostId: string;
  revoked: boolean;
  retired: boolean;
}

/** A host's agent came (with its version) or went. */
interface StatusChange {
  hostId: string;
  at: number;
  agentVersion?: string;
}

/** Agents (one per enrolment) and their tokens, and the connection status of their hosts. */
export class AgentsRepository {
  private readonly byTokenHash;
  private readonly insert;
  private readonly connected;
  private readonly disconnected;
  private readonly lastSeqOf;
  /** Connection changes not written yet, in order (see `markConnected`). */
  private statusChanges: StatusChange[] = [];
  private statusTimer: NodeJS.Immediate | undefined;

  constructor(
    private readonly db: Db,
    private readonly health?: StorageHealth,
  ) {
    this.byTokenHash = db.prepare<[Buffer], { id: string; host_id: string; revoked_at: number | null; retired_at: number | null }>(
      `SELECT a.id, a.host_id, a.revoked_at, h.retired_at FROM agents a JOIN hosts h ON h.id = a.host_id WHERE a.token_hash = ?`,
    );
    this.insert = db.prepare('INSERT INTO agents (id, host_id, token_hash, created_at) VALUES (?, ?, ?, ?)');
    this.connected = db.prepare(
      `UPDATE hosts SET status = 'online', last_seen_at = ?, last_goodbye = NULL, agent_version = ? WHERE id = ? AND status != 'retired'`,
    );
    this.disconnected = db.prepare(`UPDATE hosts SET status = 'offline', last_seen_at = ? WHERE id = ? AND status = 'online'`);
    this.lastSeqOf = db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM agents WHERE id = ?');
  }

  /** The highest seq committed (stored or rejected) from this agent; 0 if none. */
  committedSeq(agentId: string): number {
    return this.lastSeqOf.get(agentId)?.last_seq ?? 0;
  }

  /** A new agent for a host; returns its bearer token (shown once, stored as SHA-256). */
  create(hostId: string, now = Date.now()): { agentId: string; agentToken: string } {
    const agentId = uuidv7(now);
    const agentToken = generateSecret('agent');
    this.insert.run(agentId, hostId, sha256(agentToken), now);
    return { agentId, agentToken };
  }

  findByToken(token: string): AgentIdentity | undefined {
    const row = this.byTokenHash.get(sha256(token));
    return row && { agentId: row.id, hostId: row.host_id, revoked: row.revoked_at !== null, retired: row.retired_at !== null };
  }

  /**
   * Connection status is written as agents come and go, outside any request: the changes of one
   * turn of the event loop are written together, in order, in one transaction just after it
   * (`setImmediate`), not one commit — one WAL sync — each: a reconnect storm of thousands of
   * agents made as many syncs (6 % of the main process's time in a 3,000-agent ramp). Anything
   * that reads the status from a later event (a request, an agent's next frame) sees it written.
   * On a full or read-only disk the batch is skipped (the storage is marked unavailable) rather than
   * thrown into a socket's event handler, which would end the process.
   */
  markConnected(hostId: string, agentVersion: string, now = Date.now()): void {
    this.queueStatus({ hostId, at: now, agentVersion });
  }

  markDisconnected(hostId: string, now = Date.now()): void {
    this.queueStatus({ hostId, at: now });
  }

  /** Writes the connection changes not written yet (the store does this before it closes). */
  flushStatus(): void {
    if (this.statusTimer) clearImmediate(this.statusTimer);
    this.statusTimer = undefined;
    const changes = this.statusChanges;
    if (changes.length === 0) return;
    this.statusChanges = [];
    try {
      this.db.transaction(() => {
        for (const c of changes) {
          if (c.agentVersion === undefined) this.disconnected.run(c.at, c.hostId);
          else this.connected.run(c.at, c.agentVersion, c.hostId);
        }
      })();
    } catch (err) {
      if (!this.health?.failed(err)) throw err;
    }
  }

  private queueStatus(change: StatusChange): void {
    this.statusChanges.push(change);
    this.statusTimer ??= setImmediate(() => this.flushStatus());
  }

  /** After a crash no connection survives: nobody is online until they say hello again. */
  resetConnections(now = Date.now()): number {
    return this.db.prepare(`UPDATE hosts SET status = 'offline', last_seen_at = ? WHERE status = 'online'`).run(now).changes;
  }

  /** Revoke every token of a host and retire it. Returns false if there is no such host. */
  revokeHost(hostId: string, now = Date.now()): boolean {
    return this.db.transaction(() => {
      const host = this.db.prepare(`UPDATE hosts SET status = 'retired', retired_at = coalesce(retired_at, ?) WHERE id = ?`).run(now, hostId);
      if (host.changes === 0) return false;
      this.db.prepare('UPDATE agents SET revoked_at = coalesce(revoked_at, ?) WHERE host_id = ?').run(now, hostId);
      return true;
    })();
  }
}
