import { agentEnvelope, type AgentEnvelope } from '@vigil/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../db/store.js';
import { hostFacts } from '../test-support/harness.js';
import { IngestQueue, type AckTarget } from './ingest-queue.js';

let store: Store;
beforeEach(() => {
  store = openStore({ dataDir: ':memory:', silentAfterMs: 60_000 });
});
afterEach(() => store.close());

class Target implements AckTarget {
  acks: { upToSeq: number; rejected: { seq: number; code: string }[] }[] = [];
  failures = 0;
  constructor(
    readonly agentId: string,
    readonly hostId: string,
  ) {}
  committed(upToSeq: number, rejected: { seq: number; code: string }[]): void {
    this.acks.push({ upToSeq, rejected });
  }
  failed(): void {
    this.failures++;
  }
}

function agent(hostname: string): Target {
  const hostId = store.hosts.create({ ...hostFacts(), hostname }, [], null, 1_000);
  const { agentId } = store.agents.create(hostId, 1_000);
  return new Target(agentId, hostId);
}

const row = (agentId: string) =>
  store.db.prepare('SELECT last_seq, messages_stored, messages_rejected, heartbeats, last_heartbeat_seq FROM agents WHERE id = ?').get(agentId) as Record<string, number>;
const seenAt = (hostId: string) => (store.db.prepare('SELECT last_seen_at AS t FROM hosts WHERE id = ?').get(hostId) as { t: number | null }).t;

const session = (seq: number, locked: boolean) => agentEnvelope('session.state', seq, { sessions: [{ id: '2', user: 'alice', locked, idle: false, remote: false }] });
const heartbeat = (seq: number) =>
  agentEnvelope('heartbeat', seq, { counters: { produced: seq, sent: seq, acknowledged: seq, rejected: 0, dropped: 0 }, droppedByType: {}, outbox: { pending: 0, bytes: 0 }, uptimeSeconds: 1 });

describe('IngestQueue', () => {
  it("keeps each agent's last seq and counters and each host's last sight over a batch, counting duplicates and rejections once", () => {
    const a = agent('a');
    const b = agent('b');
    const queue = new IngestQueue(store, (err) => {
      throw err;
    });
    const msg = (t: Target, env: AgentEnvelope) => queue.message(t, env, JSON.stringify(env.body));
    const first = session(1, true);
    msg(a, first);
    msg(a, session(2, false));
    msg(a, heartbeat(3));
    msg(b, session(1, true));
    queue.reject(a, { agentId: a.agentId, hostId: a.hostId, messageId: 'x', seq: 5, type: 'session.state', code: 'VIGIL_ERR_MESSAGE_INVALID', reason: 'bad', bytes: 10 });
    msg(a, session(4, true));
    queue.flush();
    expect(row(a.agentId)).toEqual({ last_seq: 5, messages_stored: 3, messages_rejected: 1, heartbeats: 1, last_heartbeat_seq: 3 });
    expect(row(b.agentId)).toMatchObject({ last_seq: 1, messages_stored: 1, messages_rejected: 0 });
    expect(a.acks).toEqual([{ upToSeq: 5, rejected: [{ seq: 5, code: 'VIGIL_ERR_MESSAGE_INVALID' }] }]);
    expect(b.acks).toEqual([{ upToSeq: 1, rejected: [] }]);
    const seen = seenAt(a.hostId);
    expect(seen).toBeGreaterThan(1_000);
    expect(seenAt(b.hostId)).toBe(seen);

    // A resend (lost ack) of what is stored, an old heartbeat and the same rejection again change no counter.
    msg(a, first);
    msg(a, heartbeat(3));
    queue.reject(a, { agentId: a.agentId, hostId: a.hostId, messageId: 'x', seq: 5, type: 'session.state', code: 'VIGIL_ERR_MESSAGE_INVALID', reason: 'bad', bytes: 10 });
    queue.flush();
    expect(row(a.agentId)).toEqual({ last_seq: 5, messages_stored: 3, messages_rejected: 1, heartbeats: 1, last_heartbeat_seq: 3 });
    expect(queue.stats).toMatchObject({ batches: 2, stored: 5, duplicates: 2, rejected: 1 });
    expect(a.acks.at(-1)).toEqual({ upToSeq: 5, rejected: [{ seq: 5, code: 'VIGIL_ERR_MESSAGE_INVALID' }] });
  });

  it('stores and acks nothing of a batch whose commit fails', () => {
    const a = agent('a');
    const errors: unknown[] = [];
    const queue = new IngestQueue(store, (err) => errors.push(err), 2000, {
      onStored: (_hostId, env) => {
        if (env.seq === 2) throw new Error('boom');
      },
      afterCommit: () => {},
      afterRollback: () => {},
    });
    for (const env of [session(1, true), session(2, false)]) queue.message(a, env, JSON.stringify(env.body));
    queue.flush();
    expect(errors).toHaveLength(1);
    expect(a.failures).toBe(1);
    expect(a.acks).toEqual([]);
    expect(row(a.agentId)).toMatchObject({ last_seq: 0, messages_stored: 0 });
    expect((store.db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n).toBe(0);
  });

  it('commits at the next turn, but gathers frames into one commit after a transaction of a few heavy frames', async () => {
    const a = agent('a');
    let slowSeq = -1;
    const sizes: number[] = [];
    const queue = new IngestQueue(store, (err) => {
      throw err;
    }, 2000, {
      onStored: (_hostId, env) => {
        // A transaction that takes 5 ms (a snapshot's worth of work).
        if (env.seq === slowSeq) for (const end = performance.now() + 5; performance.now() < end; );
      },
      afterCommit: () => {},
      afterRollback: () => {},
    }, { batchCommitted: (o) => sizes.push(o.size), batchFailed: () => {} });
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    const send = (seq: number) => {
      const env = session(seq, seq % 2 === 0);
      queue.message(a, env, JSON.stringify(env.body));
    };
    const acked = async (seq: number) => {
      for (const end = Date.now() + 2_000; (a.acks.at(-1)?.upToSeq ?? 0) < seq; await turn()) if (Date.now() > end) throw new Error(`seq ${seq} never acked`);
    };
    // Cheap: one frame per turn, one commit per turn.
    for (const seq of [1, 2, 3]) {
      send(seq);
      await turn();
      await turn();
    }
    await acked(3);
    expect(sizes).toEqual([1, 1, 1]);
    // An expensive transaction: the frames of the next few turns wait for one commit.
    slowSeq = 4;
    send(4);
    await acked(4);
    const before = sizes.length;
    for (const seq of [5, 6, 7]) {
      send(seq);
      await turn();
    }
    await acked(7);
    expect(sizes.slice(before)).toEqual([3]);
    // That commit was cheap: the next frame is committed at the next turn again.
    send(8);
    await turn();
    await turn();
    expect(a.acks.at(-1)?.upToSeq).toBe(8);
    expect(sizes.at(-1)).toBe(1);
    // A transaction as long, of many light frames: no waiting after it.
    slowSeq = 9;
    for (let seq = 9; seq < 29; seq++) send(seq);
    await acked(28);
    send(29);
    await turn();
    await turn();
    expect(a.acks.at(-1)?.upToSeq).toBe(29);
    expect(sizes.slice(-2)).toEqual([20, 1]);
  });

  it("stores a snapshot's software list as ids of items stored once for the fleet, and gives the body back as sent", () => {
    const a = agent('a');
    const b = agent('b');
    const queue = new IngestQueue(store, (err) => {
      throw err;
    });
    const bash = { name: 'bash', version: '5.2.15-2+b2', source: 'dpkg' as const, publisher: 'Matthias Klose <doko@debian.org>', arch: 'amd64' };
    const zoom = { name: 'zoom', version: '5.17.1.1840', source: 'dpkg' as const, publisher: 'Zoom Video Communications, Inc. <support@zoom.us>', arch: 'amd64' };
    const snapshot = (software: (typeof bash)[], seq: number) =>
      agentEnvelope('snapshot', seq, { host: { ...hostFacts(), hostname: 'a' }, software, sessions: [{ id: '2', user: 'alice', locked: false, idle: false, remote: false }] });
    const sa = snapshot([bash, zoom], 1);
    const sb = snapshot([bash], 1);
    queue.message(a, sa, JSON.stringify(sa.body));
    queue.message(b, sb, JSON.stringify(sb.body));
    queue.flush();
    expect(store.ingest.body(sa.id)).toEqual(JSON.parse(JSON.stringify(sa.body)));
    expect(store.ingest.body(sb.id)).toEqual(JSON.parse(JSON.stringify(sb.body)));
    expect((store.db.prepare('SELECT count(*) AS n FROM software_items').get() as { n: number }).n).toBe(2);
    const stored = store.db.prepare('SELECT body FROM messages WHERE id = ?').get(sa.id) as { body: string };
    expect(stored.body).not.toContain('zoom');
  });

  it('serialises the body itself when the caller does not pass it', () => {
    const a = agent('a');
    const queue = new IngestQueue(store, (err) => {
      throw err;
    });
    const env = session(1, true);
    queue.message(a, env);
    queue.flush();
    expect((store.db.prepare('SELECT body FROM messages WHERE id = ?').get(env.id) as { body: string }).body).toBe(JSON.stringify(env.body));
    expect(a.acks).toEqual([{ upToSeq: 1, rejected: [] }]);
  });
});
