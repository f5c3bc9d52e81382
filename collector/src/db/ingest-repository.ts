import type { AgentEnvelope } from '@vigil/shared';
import type { Db } from './database.js';
import type { HostsRepository } from './hosts-repository.js';
import type { SoftwareInventory } from './software-inventory.js';

/**
 * How a snapshot's software list is stored in `messages.body`: the ids of its items in
 * `software_items` (each distinct item is stored once for the whole fleet), in order, instead of
 * ~700 package objects per snapshot. `IngestRepository.body` gives the body back as it was sent.
 */
interface StoredInventory {
  storedAs: 'software_items';
  ids: readonly number[];
}
const isStoredInventory = (v: unknown): v is StoredInventory => typeof v === 'object' && v !== null && (v as StoredInventory).storedAs === 'software_items';

export interface Rejection {
  agentId: string;
  hostId: string;
  messageId: string | null;
  seq: number | null;
  type: string | null;
  code: string;
  reason: string;
  bytes: number;
}

/**
 * The write side of ingest. Each method runs inside the caller's transaction; the ingest
 * queue batches many messages into one commit.
 */
export class IngestRepository {
  private readonly insertMessage;
  private readonly insertRejectionStmt;
  private readonly bumpStored;
  private readonly bumpRejected;
  private readonly advanceSeq;
  private readonly heartbeat;
  private readonly seen;
  private readonly goodbye;
  private readonly settleAgent;

  private readonly bodyOf;

  constructor(
    readonly db: Db,
    private readonly hosts: HostsRepository,
    /** Where snapshots' software items are stored once (without it, snapshots are stored whole). */
    private readonly inventory?: SoftwareInventory,
  ) {
    this.bodyOf = db.prepare<[string], { body: string }>('SELECT body FROM messages WHERE id = ?');
    this.insertMessage = db.prepare(`INSERT INTO messages (id, agent_id, host_id, seq, type, agent_ts, received_at, body)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`);
    this.insertRejectionStmt = db.prepare(`INSERT INTO rejected_messages (agent_id, host_id, message_id, seq, type, code, reason, bytes, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
    this.bumpStored = db.prepare('UPDATE agents SET messages_stored = messages_stored + 1 WHERE id = ?');
    this.bumpRejected = db.prepare('UPDATE agents SET messages_rejected = messages_rejected + 1 WHERE id = ?');
    this.advanceSeq = db.prepare('UPDATE agents SET last_seq = max(last_seq, ?) WHERE id = ?');
    this.heartbeat = db.prepare(`UPDATE agents SET counters = ?, heartbeats = heartbeats + 1, last_heartbeat_seq = ?
      WHERE id = ? AND last_heartbeat_seq < ?`);
    this.seen = db.prepare('UPDATE hosts SET last_seen_at = max(coalesce(last_seen_at, 0), ?) WHERE id = ?');
    this.goodbye = db.prepare(`UPDATE hosts SET last_goodbye = ? WHERE id = ? AND status != 'retired'`);
    this.settleAgent = db.prepare<[number, number, number, string]>(`UPDATE agents SET last_seq = max(last_seq, ?), messages_stored = messages_stored + ?,
      messages_rejected = messages_rejected + ? WHERE id = ?`);
  }

  /**
   * A batch of messages stored in the caller's transaction, with the per-agent and per-host
   * bookkeeping (last seq, counters, last seen) written once per agent or host instead of once per
   * message. `finish()` must run before the transaction commits.
   */
  batch(receivedAt: number): IngestBatch {
    return new IngestBatch(this, receivedAt);
  }

  /** Marks a host seen now (`last_seen_at` only moves forward). */
  markSeen(hostId: string, at: number): void {
    this.seen.run(at, hostId);
  }

  /** Adds one batch's outcome to an agent's row. */
  settle(agentId: string, upToSeq: number, stored: number, rejected: number): void {
    this.settleAgent.run(upToSeq, stored, rejected, agentId);
  }

  /**
   * Inserts one accepted message (with its snapshot or goodbye side effects), idempotently on its
   * id, without the per-agent bookkeeping: false for a duplicate. Heartbeats update the agent's
   * counters instead (false when an older heartbeat is resent).
   */
  insert(agentId: string, hostId: string, env: AgentEnvelope, json: string | undefined, receivedAt: number): boolean {
    if (env.type === 'heartbeat') {
      // Heartbeats are not kept as rows; the latest counters are (with what was dropped, by type).
      // A resent older one changes nothing.
      const counters = JSON.stringify({ ...env.body.counters, droppedByType: env.body.droppedByType });
      return this.heartbeat.run(counters, env.seq, agentId, env.seq).changes > 0;
    }
    let body: string;
    if (env.type === 'snapshot' && Array.isArray(env.body.software) && this.inventory) {
      const software: StoredInventory = { storedAs: 'software_items', ids: this.inventory.idsOf(env.body.software) };
      body = JSON.stringify({ ...env.body, software });
    } else body = json ?? JSON.stringify(env.body);
    if (this.insertMessage.run(env.id, agentId, hostId, env.seq, env.type, env.ts, receivedAt, body).changes === 0) return false;
    if (env.type === 'snapshot') this.hosts.updateFacts(hostId, env.body.host);
    else if (env.type === 'goodbye') this.goodbye.run(env.body.reason, hostId);
    return true;
  }

  /** A stored message's body as the agent sent it (a snapshot's software list rebuilt from its items). */
  body(messageId: string): unknown {
    const row = this.bodyOf.get(messageId);
    if (!row) return undefined;
    const body = JSON.parse(row.body) as Record<string, unknown>;
    if (isStoredInventory(body.software)) {
      if (!this.inventory) throw new Error('a snapshot stored with software_items needs the inventory to be read');
      body.software = this.inventory.itemsOf(body.software.ids);
    }
    return body;
  }

  /** Records one rejection without the per-agent bookkeeping: false when it was already recorded. */
  insertRejection(r: Rejection, receivedAt: number): boolean {
    return this.insertRejectionStmt.run(r.agentId, r.hostId, r.messageId, r.seq, r.type, r.code, r.reason, r.bytes, receivedAt).changes > 0;
  }

  /**
   * Store one accepted message, idempotently on its id. Returns false for a duplicate (already
   * stored: a resend after a lost ack), in which case nothing else changes.
   */
  store(agentId: string, hostId: string, env: AgentEnvelope, json: string | undefined, receivedAt: number): boolean {
    this.advanceSeq.run(env.seq, agentId);
    this.seen.run(receivedAt, hostId);
    const stored = this.insert(agentId, hostId, env, json, receivedAt);
    if (stored && env.type !== 'heartbeat') this.bumpStored.run(agentId);
    return stored;
  }

  reject(r: Rejection, receivedAt: number): boolean {
    if (r.seq !== null) this.advanceSeq.run(r.seq, r.agentId);
    const inserted = this.insertRejection(r, receivedAt);
    if (inserted) this.bumpRejected.run(r.agentId);
    return inserted;
  }
}

/**
 * One ingest batch inside the caller's transaction: messages and rejections are written as they
 * come; each host's `last_seen_at` is written at its first message (the policy engine may read it
 * for the next ones), each agent's last seq and counters once, in `finish()`.
 */
export class IngestBatch {
  private readonly agents = new Map<string, { upTo: number; stored: number; rejected: number }>();
  private readonly hostsSeen = new Set<string>();

  constructor(
    private readonly repo: IngestRepository,
    private readonly receivedAt: number,
  ) {}

  private agent(agentId: string) {
    let a = this.agents.get(agentId);
    if (!a) this.agents.set(agentId, (a = { upTo: 0, stored: 0, rejected: 0 }));
    return a;
  }

  /** Same as `IngestRepository.store`, with the bookkeeping deferred to `finish()`. */
  store(agentId: string, hostId: string, env: AgentEnvelope, json: string | undefined): boolean {
    const a = this.agent(agentId);
    a.upTo = Math.max(a.upTo, env.seq);
    if (!this.hostsSeen.has(hostId)) {
      this.hostsSeen.add(hostId);
      this.repo.markSeen(hostId, this.receivedAt);
    }
    const stored = this.repo.insert(agentId, hostId, env, json, this.receivedAt);
    if (stored && env.type !== 'heartbeat') a.stored++;
    return stored;
  }

  /** Same as `IngestRepository.reject`, with the bookkeeping deferred to `finish()`. */
  reject(r: Rejection): boolean {
    const a = this.agent(r.agentId);
    if (r.seq !== null) a.upTo = Math.max(a.upTo, r.seq);
    const inserted = this.repo.insertRejection(r, this.receivedAt);
    if (inserted) a.rejected++;
    return inserted;
  }

  /** Writes each agent's last seq and counters. */
  finish(): void {
    for (const [agentId, a] of this.agents) this.repo.settle(agentId, a.upTo, a.stored, a.rejected);
    this.agents.clear();
  }
}
