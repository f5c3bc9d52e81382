import type { AgentEnvelope } from '@vigil/shared';
import type { Db } from './database.js';
import type { HostsRepository } from './hosts-repository.js';

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
  private readonly insertRejection;
  private readonly bumpStored;
  private readonly bumpRejected;
  private readonly advanceSeq;
  private readonly heartbeat;
  private readonly seen;
  private readonly goodbye;

  constructor(
    readonly db: Db,
    private readonly hosts: HostsRepository,
  ) {
    this.insertMessage = db.prepare(`INSERT INTO messages (id, agent_id, host_id, seq, type, agent_ts, received_at, body)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`);
    this.insertRejection = db.prepare(`INSERT INTO rejected_messages (agent_id, host_id, message_id, seq, type, code, reason, bytes, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
    this.bumpStored = db.prepare('UPDATE agents SET messages_stored = messages_stored + 1 WHERE id = ?');
    this.bumpRejected = db.prepare('UPDATE agents SET messages_rejected = messages_rejected + 1 WHERE id = ?');
    this.advanceSeq = db.prepare('UPDATE agents SET last_seq = max(last_seq, ?) WHERE id = ?');
    this.heartbeat = db.prepare(`UPDATE agents SET counters = ?, heartbeats = heartbeats + 1, last_heartbeat_seq = ?
      WHERE id = ? AND last_heartbeat_seq < ?`);
    this.seen = db.prepare('UPDATE hosts SET last_seen_at = max(coalesce(last_seen_at, 0), ?) WHERE id = ?');
    this.goodbye = db.prepare(`UPDATE hosts SET last_goodbye = ? WHERE id = ? AND status != 'retired'`);
  }

  /**
   * Store one accepted message, idempotently on its id. Returns false for a duplicate (already
   * stored: a resend after a lost ack), in which case nothing else changes.
   */
  store(agentId: string, hostId: string, env: AgentEnvelope, json: string, receivedAt: number): boolean {
    this.advanceSeq.run(env.seq, agentId);
    this.seen.run(receivedAt, hostId);
    if (env.type === 'heartbeat') {
      // Heartbeats are not kept as rows; the latest counters are. A resent older one changes nothing.
      return this.heartbeat.run(JSON.stringify(env.body.counters), env.seq, agentId, env.seq).changes > 0;
    }
    if (this.insertMessage.run(env.id, agentId, hostId, env.seq, env.type, env.ts, receivedAt, json).changes === 0) {
      return false;
    }
    this.bumpStored.run(agentId);
    if (env.type === 'snapshot') this.hosts.updateFacts(hostId, env.body.host);
    else if (env.type === 'goodbye') this.goodbye.run(env.body.reason, hostId);
    return true;
  }

  reject(r: Rejection, receivedAt: number): boolean {
    if (r.seq !== null) this.advanceSeq.run(r.seq, r.agentId);
    const inserted =
      this.insertRejection.run(r.agentId, r.hostId, r.messageId, r.seq, r.type, r.code, r.reason, r.bytes, receivedAt).changes > 0;
    if (inserted) this.bumpRejected.run(r.agentId);
    return inserted;
  }
}
