/**
 * Tells one agent token used by two live copies of the agent (a cloned machine image, a restored VM
 * snapshot, a copied state directory) from one agent that merely reconnects or restarts. Pure
 * logic, fed by the gateway with every accepted hello (in the main process, whether the socket is
 * held there or by a gateway worker).
 *
 * Signals (any one is enough):
 * - `seq-regression`: the hello's `lastSeq` (the highest seq the agent's outbox ever assigned) is
 *   below the highest seq the collector has already committed for this agent. One outbox only
 *   ever counts up, and an agent that restarts or reconnects keeps its outbox, so seqs it has never
 *   made came from another copy. Works with every agent version that sends `lastSeq`, and even
 *   when the two copies are never online at the same time.
 * - `instance-alternation`: the hello carries the agent process's random `instanceId`, and an
 *   instance comes back after another instance connected with the same token since its own last
 *   hello (A, B, A: B replaced A, then A replaced B). A restarted agent's old process never comes
 *   back; one that reconnects after a network blip keeps its instance id.
 * - `peer-alternation`: for agents that send no instance id, the same pattern by peer address,
 *   required several times within the window, since one laptop may legitimately move between
 *   networks (wifi, cable) now and then, but not back and forth every few seconds.
 *
 * A single supersession (a new connection replacing an open one) is not flagged on its own: after a
 * power cut or a network change the old connection can look open until TCP gives up on it.
 */

export interface CloneDetectorOptions {
  /** How long hellos are remembered for the alternation signals (ms). */
  windowMs?: number;
  /** Alternations by peer address (agents without instance id) needed within the window. */
  peerAlternations?: number;
  /** Hellos remembered per agent. */
  historyPerAgent?: number;
  /** Agents remembered at most (the least recently seen are forgotten first). */
  maxAgents?: number;
}

export interface HelloSighting {
  agentId: string;
  /** The agent process's random id, when it sends one. */
  instanceId?: string | undefined;
  /** Where the connection came from (`address:port`). */
  peer: string;
  /** The hello's `lastSeq`, when sent. */
  lastSeq?: number | undefined;
  /** The highest seq the collector has committed for this agent. */
  committedSeq: number;
  /** The open connection this hello replaces, if any. */
  replaced?: { instanceId?: string | undefined; peer: string } | undefined;
  at: number;
}

export type CloneSignal = 'seq-regression' | 'instance-alternation' | 'peer-alternation';

/** One copy as the collector has seen it recently. */
export interface CloneCopy {
  instanceId: string | null;
  peers: string[];
  hellos: number;
  firstHelloAt: string;
  lastHelloAt: string;
}

export interface CloneEvidence {
  agentId: string;
  signals: CloneSignal[];
  /** Copies seen within the window (by instance id, or by peer address without one). */
  copies: CloneCopy[];
  /** Connections replaced by another copy's within the window. */
  supersessions: number;
  /** Returns of a copy after another took over, within the window. */
  alternations: number;
  helloLastSeq: number | null;
  committedSeq: number;
  windowSeconds: number;
}

interface Hello {
  key: string;
  instanceId: string | undefined;
  peer: string;
  at: number;
  replacedOther: boolean;
}

/** The address of `address:port` (IPv6 addresses keep their colons). */
export function peerAddress(peer: string): string {
  const i = peer.lastIndexOf(':');
  if (i <= 0) return peer;
  const host = peer.slice(0, i);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export class CloneDetector {
  private readonly windowMs: number;
  private readonly peerAlternations: number;
  private readonly historyPerAgent: number;
  private readonly maxAgents: number;
  /** Recent hellos by agent, oldest first; a Map keeps insertion order for forgetting the least recent. */
  private readonly history = new Map<string, Hello[]>();

  constructor(opts: CloneDetectorOptions = {}) {
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.peerAlternations = opts.peerAlternations ?? 3;
    this.historyPerAgent = opts.historyPerAgent ?? 16;
    this.maxAgents = opts.maxAgents ?? 100_000;
  }

  /** Agents with hellos remembered (tests, metrics). */
  get size(): number {
    return this.history.size;
  }

  /** Records an accepted hello; returns the evidence when it shows two live copies of the agent. */
  onHello(h: HelloSighting): CloneEvidence | undefined {
    const key = h.instanceId ? `i:${h.instanceId}` : `p:${peerAddress(h.peer)}`;
    const past = (this.history.get(h.agentId) ?? []).filter((e) => h.at - e.at <= this.windowMs);
    this.history.delete(h.agentId);
    const replacedKey = h.replaced ? (h.replaced.instanceId ? `i:${h.replaced.instanceId}` : `p:${peerAddress(h.replaced.peer)}`) : undefined;
    past.push({ key, instanceId: h.instanceId, peer: h.peer, at: h.at, replacedOther: replacedKey !== undefined && replacedKey !== key });
    while (past.length > this.historyPerAgent) past.shift();
    this.history.set(h.agentId, past);
    if (this.history.size > this.maxAgents) {
      const oldest = this.history.keys().next().value;
      if (oldest !== undefined) this.history.delete(oldest);
    }

    const signals: CloneSignal[] = [];
    if (h.lastSeq !== undefined && h.lastSeq < h.committedSeq) signals.push('seq-regression');
    // A return: a hello of key K after some other key's hello that came after an earlier hello of K.
    let instanceReturns = 0;
    let peerReturns = 0;
    const lastIndex = new Map<string, number>();
    past.forEach((e, i) => {
      const prev = lastIndex.get(e.key);
      if (prev !== undefined && past.slice(prev + 1, i).some((o) => o.key !== e.key)) {
        if (e.key.startsWith('i:')) instanceReturns++;
        else peerReturns++;
      }
      lastIndex.set(e.key, i);
    });
    if (instanceReturns > 0) signals.push('instance-alternation');
    if (peerReturns >= this.peerAlternations) signals.push('peer-alternation');
    if (signals.length === 0) return undefined;

    const copies = new Map<string, CloneCopy>();
    for (const e of past) {
      let c = copies.get(e.key);
      if (!c) {
        c = { instanceId: e.instanceId ?? null, peers: [], hellos: 0, firstHelloAt: new Date(e.at).toISOString(), lastHelloAt: '' };
        copies.set(e.key, c);
      }
      c.hellos++;
      c.lastHelloAt = new Date(e.at).toISOString();
      if (!c.peers.includes(e.peer) && c.peers.length < 8) c.peers.push(e.peer);
    }
    return {
      agentId: h.agentId,
      signals,
      copies: [...copies.values()],
      supersessions: past.filter((e) => e.replacedOther).length,
      alternations: instanceReturns + peerReturns,
      helloLastSeq: h.lastSeq ?? null,
      committedSeq: h.committedSeq,
      windowSeconds: Math.round(this.windowMs / 1000),
    };
  }

  /** Forgets hellos older than the window (call now and then). */
  prune(now: number): void {
    for (const [agentId, past] of this.history) {
      if (past.length === 0 || now - past[past.length - 1]!.at > this.windowMs) this.history.delete(agentId);
    }
  }
}
